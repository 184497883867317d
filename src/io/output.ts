// The output policy of every command that writes a directory (generate, quantize --out,
// synth --out, flow --out, and any later one): strumgen writes only into directories it
// created and marked (MARKER lists the files it wrote, with their sha256), refuses any other
// non-empty directory, and on a rewrite replaces only its own files: files a user added
// survive, and a file of ours the user edited makes it refuse unless `--force`. Writers of
// one directory take turns (a lock file), so concurrent runs leave one complete output.
// Files are staged in a hidden directory inside the target and renamed into place.

import { createHash, randomBytes } from 'node:crypto';
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { UserError } from '../config/errors.ts';
import { asUserError, FS_ERROR_EXIT, fsErrorMessage, isFsError, makeDirs } from './fs-errors.ts';
import { registerTemp, removeTemp } from './process.ts';

/** The marker file of a strumgen output directory. */
export const MARKER = '.strumgen-output.json';
const LOCK = '.strumgen-output.lock';
const STAGE_PREFIX = '.strumgen-stage-';

/** What kind of output a directory holds; a directory of another kind is refused. */
export interface OutputKind {
  /** e.g. 'rtl', 'synth', 'flow', 'quantize' */
  readonly kind: string;
  /** for messages, e.g. 'a strumgen output directory' */
  readonly label: string;
  /** Recognises an output written before the marker existed: a JSON file and a test of it. */
  readonly legacy?: { readonly file: string; readonly owns: (json: Record<string, unknown>) => boolean };
}

export interface OutputOptions {
  /** Overwrite files in the way (user files with our names, our files the user edited). */
  readonly force?: boolean;
  /** How the user named the directory, for messages (default '--out'). */
  readonly flag?: string;
  /** Progress messages (waiting for another writer). */
  readonly onProgress?: (msg: string) => void;
}

interface Marker {
  generator: 'strumgen';
  kind: string;
  /** Files strumgen wrote (paths relative to the directory) and their sha256. */
  files: Record<string, string>;
}

const sha256File = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

function readMarker(dir: string): Marker | null {
  try {
    const m = JSON.parse(readFileSync(join(dir, MARKER), 'utf8')) as Marker;
    return m.generator === 'strumgen' && typeof m.files === 'object' ? m : null;
  } catch {
    return null;
  }
}

function writeMarker(dir: string, m: Marker): void {
  const tmp = join(dir, `${MARKER}.${process.pid}.tmp`);
  writeFileSync(tmp, `${JSON.stringify(m, null, 1)}\n`);
  renameSync(tmp, join(dir, MARKER));
}

function isLegacy(dir: string, kind: OutputKind): boolean {
  if (!kind.legacy) return false;
  try {
    return kind.legacy.owns(JSON.parse(readFileSync(join(dir, kind.legacy.file), 'utf8')));
  } catch {
    return false;
  }
}

const isOwnEntry = (n: string) => n === MARKER || n === LOCK || n.startsWith(STAGE_PREFIX);

/** Why a path must never be an output directory, or null. */
function forbidden(dir: string): string | null {
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return resolve(p);
    }
  };
  const d = real(dir);
  const cwd = real(process.cwd());
  if (d === sep || d === resolve('/')) return 'the filesystem root';
  const home = process.env.HOME || homedir();
  if (home && d === real(home)) return 'your home directory';
  if (d === cwd) return 'the working directory';
  if (cwd.startsWith(d + sep)) return 'a parent of the working directory';
  return null;
}

/** The nearest existing ancestor of `p` (p itself when it exists). */
function existingAncestor(p: string): string {
  let d = p;
  while (!existsSync(d) && dirname(d) !== d) d = dirname(d);
  return d;
}

/** Can we create files under `dir` (or its nearest existing ancestor)? Throws one line if not. */
export function checkWritable(path: string, what: string): void {
  const at = existingAncestor(path);
  try {
    if (!statSync(at).isDirectory()) {
      throw new UserError(`${what}: ${at} is not a directory`, 2);
    }
    accessSync(at, constants.W_OK);
    // access() says yes to root on many things the kernel then refuses (/proc, read-only mounts):
    // create and remove a probe file to be sure.
    const probe = join(at, `.strumgen-probe-${process.pid}-${randomBytes(3).toString('hex')}`);
    closeSync(openSync(probe, 'wx'));
    unlinkSync(probe);
  } catch (e) {
    if (isFsError(e)) throw new UserError(`${what}: ${fsErrorMessage(e, 'write into', at)}`, FS_ERROR_EXIT);
    throw e;
  }
}

/**
 * Check, before any long work, that `outDir` may receive an output of `kind`: not /, $HOME,
 * the working directory or its parents; not a file; empty, missing, or marked by strumgen as
 * this kind; writable. Returns the absolute path. Throws a one-line UserError (exit 2; 5 when
 * the filesystem refuses).
 */
export function checkOutputDir(outDir: string, kind: OutputKind, opts: OutputOptions = {}): string {
  const flag = opts.flag ?? '--out';
  const dir = resolve(outDir);
  const bad = forbidden(dir);
  if (bad)
    throw new UserError(`${flag} ${outDir}: refusing to write into ${bad}; name a new subdirectory`, 2);
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory())
      throw new UserError(`${flag} ${outDir}: exists and is not a directory`, 2);
    const entries = readdirSync(dir).filter((n) => !isOwnEntry(n));
    const marker = readMarker(dir);
    if (marker && marker.kind !== kind.kind) {
      throw new UserError(
        `${flag} ${outDir}: holds a strumgen ${marker.kind} output, not ${kind.label}; choose another directory`,
        2,
      );
    }
    if (!marker && entries.length > 0 && !isLegacy(dir, kind)) {
      throw new UserError(
        `${flag} ${outDir}: not empty and not ${kind.label}; strumgen writes only into directories it created, choose another`,
        2,
      );
    }
  }
  checkWritable(dir, `${flag} ${outDir}`);
  return dir;
}

/** Files (not directories) under dir, relative, skipping our own bookkeeping entries. */
function listFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (!prefix && isOwnEntry(e.name)) continue;
    if (e.isDirectory()) out.push(...listFiles(dir, rel));
    else out.push(rel);
  }
  return out.sort();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Writers of this process, by directory: they take turns before taking the file lock. */
const turns = new Map<string, Promise<void>>();

/** Take the directory's lock (wait while another writer holds it). Returns its release. */
async function lock(dir: string, opts: OutputOptions): Promise<() => void> {
  const before = turns.get(dir) ?? Promise.resolve();
  let done!: () => void;
  const mine = new Promise<void>((r) => {
    done = r;
  });
  const chain = before.then(() => mine);
  turns.set(dir, chain);
  await before;
  try {
    const unlock = await fileLock(dir, opts);
    return () => {
      unlock();
      if (turns.get(dir) === chain) turns.delete(dir);
      done();
    };
  } catch (e) {
    if (turns.get(dir) === chain) turns.delete(dir);
    done();
    throw e;
  }
}

async function fileLock(dir: string, opts: OutputOptions): Promise<() => void> {
  const file = join(dir, LOCK);
  let said = false;
  for (;;) {
    try {
      const fd = openSync(file, 'wx');
      writeFileSync(fd, `${process.pid}\n`);
      closeSync(fd);
      registerTemp(file);
      return () => removeTemp(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = Number.parseInt(readFileSafe(file), 10);
    if (Number.isInteger(holder) && holder !== process.pid && alive(holder)) {
      if (!said) opts.onProgress?.(`waiting for another strumgen (pid ${holder}) writing ${dir}`);
      said = true;
      await sleep(100);
    } else if (readFileSafe(file) !== '') {
      // Left by a process that died: take it over.
      rmSync(file, { force: true });
    } else {
      await sleep(20); // being written right now
    }
  }
}

function readFileSafe(p: string): string {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Write an output directory under the policy above. `fill(stage)` writes the complete output
 * into `stage` (an empty directory); nothing in `dir` changes until it returns. Returns the
 * absolute directory.
 */
export async function writeOutputDir(
  outDir: string,
  kind: OutputKind,
  fill: (stage: string) => Promise<void> | void,
  opts: OutputOptions = {},
): Promise<string> {
  const flag = opts.flag ?? '--out';
  const dir = checkOutputDir(outDir, kind, opts);
  try {
    makeDirs(dirname(dir));
    let created = false;
    try {
      mkdirSync(dir);
      created = true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (created) writeMarker(dir, { generator: 'strumgen', kind: kind.kind, files: {} });
    const release = await lock(dir, opts);
    try {
      // Another writer may have changed it while we waited.
      checkOutputDir(outDir, kind, opts);
      const stage = registerTemp(
        join(dir, `${STAGE_PREFIX}${process.pid}-${randomBytes(4).toString('hex')}`),
      );
      try {
        mkdirSync(stage);
        await fill(stage);
        replaceOwnFiles(dir, stage, kind, flag, outDir, opts.force ?? false);
      } finally {
        removeTemp(stage);
      }
    } finally {
      release();
    }
  } catch (e) {
    throw asUserError(e);
  }
  return dir;
}

function replaceOwnFiles(
  dir: string,
  stage: string,
  kind: OutputKind,
  flag: string,
  outDir: string,
  force: boolean,
): void {
  const marker = readMarker(dir);
  const fresh = listFiles(stage);
  // Files recorded as ours, with what we wrote. A legacy output (no marker) owns the names it rewrites.
  const own: Record<string, string> = marker
    ? { ...marker.files }
    : Object.fromEntries(
        fresh.filter((f) => existsSync(join(dir, f))).map((f) => [f, sha256File(join(dir, f))]),
      );
  const inTheWay: string[] = [];
  for (const f of fresh) {
    const target = join(dir, f);
    if (!existsSync(target)) {
      // A file where one of our directories must go is in the way too.
      const parentClash = f
        .split('/')
        .slice(0, -1)
        .some((_, i, a) => {
          const p = join(dir, ...a.slice(0, i + 1));
          return existsSync(p) && !statSync(p).isDirectory();
        });
      if (parentClash) inTheWay.push(f);
      continue;
    }
    if (statSync(target).isDirectory() || own[f] === undefined || own[f] !== sha256File(target))
      inTheWay.push(f);
  }
  if (inTheWay.length && !force) {
    const more = inTheWay.length > 1 ? ` (and ${inTheWay.length - 1} more)` : '';
    throw new UserError(
      `${flag} ${outDir}: ${inTheWay[0]}${more} was not written by strumgen or was edited since; ` +
        'move it away, or add --force to overwrite it',
      2,
    );
  }
  const files: Record<string, string> = {};
  for (const f of fresh) files[f] = sha256File(join(stage, f));
  // The marker covers old and new files while they are swapped, so an interrupt leaves nothing unowned.
  writeMarker(dir, { generator: 'strumgen', kind: kind.kind, files: { ...own, ...files } });
  for (const [f, sum] of Object.entries(own)) {
    if (f in files) continue;
    const p = join(dir, f);
    // An old file of ours the user edited is theirs now: keep it.
    if (existsSync(p) && !statSync(p).isDirectory() && sha256File(p) === sum) {
      unlinkSync(p);
      removeEmptyParents(dir, dirname(p));
    }
  }
  for (const f of fresh) {
    const target = join(dir, f);
    makeDirs(dirname(target));
    if (force && existsSync(target) && statSync(target).isDirectory()) rmSync(target, { recursive: true });
    renameSync(join(stage, f), target);
  }
  writeMarker(dir, { generator: 'strumgen', kind: kind.kind, files });
}

function removeEmptyParents(root: string, d: string): void {
  while (d !== root && d.startsWith(root + sep)) {
    try {
      rmdirSync(d);
    } catch {
      return;
    }
    d = dirname(d);
  }
}

/**
 * Make `dir` a (possibly empty) strumgen output of `kind` when it does not exist, so derived
 * outputs written inside it (synth/, flow/) leave a directory a later `generate` may fill.
 */
export function claimOutputDir(outDir: string, kind: OutputKind, opts: OutputOptions = {}): string {
  const dir = checkOutputDir(outDir, kind, opts);
  try {
    makeDirs(dirname(dir));
    mkdirSync(dir);
    writeMarker(dir, { generator: 'strumgen', kind: kind.kind, files: {} });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw asUserError(e);
  }
  return dir;
}

/** Whether an existing file may be replaced by a new output file. */
export interface FileOutputOptions {
  readonly flag: string;
  readonly force?: boolean;
  /** true when the existing content is an earlier output of this kind (e.g. a waveform). */
  readonly ours: (path: string) => boolean;
  readonly label: string;
}

/**
 * Check, before long work, that a single output file may be written: not a directory, an
 * existing file only when it is an earlier output of the same kind (or --force), writable.
 */
export function checkOutputFile(path: string, o: FileOutputOptions): string {
  const file = resolve(path);
  if (existsSync(file)) {
    if (statSync(file).isDirectory()) throw new UserError(`${o.flag} ${path}: is a directory`, 2);
    if (!o.force && !o.ours(file)) {
      throw new UserError(
        `${o.flag} ${path}: exists and is not ${o.label}; choose another name, or add --force to overwrite it`,
        2,
      );
    }
  }
  checkWritable(dirname(file), `${o.flag} ${path}`);
  return file;
}

/** Write a single output file through a temp file beside it (removed on any exit). */
export async function writeOutputFile(
  file: string,
  write: (tmp: string) => void | Promise<void>,
): Promise<void> {
  try {
    makeDirs(dirname(file));
    const tmp = registerTemp(`${file}.${process.pid}.tmp`);
    try {
      await write(tmp);
      renameSync(tmp, file);
    } finally {
      removeTemp(tmp);
    }
  } catch (e) {
    throw asUserError(e);
  }
}
