// Replace a directory as a whole: fill a temporary directory beside it, then swap it in
// by rename, so an error or interrupt leaves the previous output as it was. Every stage
// that writes an output directory (rtl, report, cli) uses this one.
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { UserError } from './errors.ts';

export async function replaceDirAtomically(dir: string, fill: (tmp: string) => Promise<void>): Promise<void> {
  await mkdir(dirname(dir), { recursive: true });
  const tag = `${process.pid}-${Date.now().toString(36)}`;
  const tmp = join(dirname(dir), `.${basename(dir)}.tmp-${tag}`);
  const old = join(dirname(dir), `.${basename(dir)}.old-${tag}`);
  try {
    await mkdir(tmp);
    await fill(tmp);
    // Two renames: the old output stays whole until the new one is complete.
    const hadOld = existsSync(dir);
    if (hadOld) await rename(dir, old);
    try {
      await rename(tmp, dir);
    } catch (e) {
      if (hadOld) await rename(old, dir);
      throw e;
    }
    if (hadOld) await rm(old, { recursive: true, force: true });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** How to recognise an earlier output of the same kind: a JSON file in it and a test of its content. */
export interface OutputMarker {
  /** e.g. 'manifest.json' */
  readonly file: string;
  /** true when the parsed file says this directory is ours to replace */
  readonly owns: (json: Record<string, unknown>) => boolean;
  /** what the directory would be, for the error message, e.g. 'a strumgen RTL output' */
  readonly label: string;
}

async function isOurs(dir: string, marker: OutputMarker): Promise<boolean> {
  if ((await readdir(dir)).length === 0) return true;
  try {
    return marker.owns(JSON.parse(await readFile(join(dir, marker.file), 'utf8')) as Record<string, unknown>);
  } catch {
    return false;
  }
}

/**
 * replaceDirAtomically for a user-named output directory: refuses to replace anything but
 * an empty directory or an earlier output of the same kind, so `--out` cannot wipe a real folder.
 */
export async function replaceOutputDir(
  outDir: string,
  marker: OutputMarker,
  fill: (tmp: string) => Promise<void>,
): Promise<string> {
  const dir = resolve(outDir);
  if (existsSync(dir)) {
    if (!(await stat(dir)).isDirectory())
      throw new UserError(`--out ${outDir}: exists and is not a directory`);
    if (!(await isOurs(dir, marker))) {
      throw new UserError(
        `--out ${outDir}: exists and is not ${marker.label} (no ${marker.file}); choose another`,
      );
    }
  }
  await replaceDirAtomically(dir, fill);
  return dir;
}
