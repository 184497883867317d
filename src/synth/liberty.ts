// The standard-cell library of a synthesis run: where it is, its sha256 (every report
// states it), and each cell's area and kind, from which the area breakdown is computed.
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { UserError } from '../config/errors.ts';
import { requireTool } from '../config/toolchain.ts';

export interface LibertyCell {
  readonly area: number;
  /** Has an ff, latch or statetable group: a storage element. */
  readonly sequential: boolean;
}

export interface Liberty {
  /** The file as the user named it (absolute). */
  readonly path: string;
  /** sha256 of the file's bytes as stored (gzipped or not). */
  readonly sha256: string;
  /** The `library (name)` of the file. */
  readonly name: string;
  readonly gzipped: boolean;
  /** The uncompressed text, handed to the tools. */
  readonly text: string;
  readonly cells: ReadonlyMap<string, LibertyCell>;
}

/** Drop comments and line continuations so the scanner sees only groups and attributes. */
function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\\\r?\n/g, ' ');
}

/** Index of the `}` closing the `{` at `open` (or -1 when unbalanced). */
function closingBrace(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      const end = text.indexOf('"', i + 1);
      if (end < 0) return -1;
      i = end;
    } else if (ch === '{') depth++;
    else if (ch === '}') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

/** Attributes written directly in a group body (not in its nested groups). */
function topLevelBody(body: string): string {
  let out = '';
  let depth = 0;
  for (const ch of body) {
    if (ch === '{') depth++;
    else if (ch === '}') depth--;
    else if (depth === 0) out += ch;
  }
  return out;
}

/** Parse the cells of a liberty text. Throws Error with a reason when the text is not a library. */
export function parseLiberty(raw: string): { name: string; cells: Map<string, LibertyCell> } {
  const text = stripComments(raw);
  const lib = /\blibrary\s*\(\s*"?([^")\s]+)"?\s*\)\s*\{/.exec(text);
  if (!lib) throw new Error('no library (...) group');
  const cells = new Map<string, LibertyCell>();
  const cellRe = /\bcell\s*\(\s*"?([^")\s]+)"?\s*\)\s*\{/g;
  for (let m = cellRe.exec(text); m; m = cellRe.exec(text)) {
    const open = m.index + m[0].length - 1;
    const close = closingBrace(text, open);
    if (close < 0) throw new Error(`cell ${m[1]} is not closed`);
    const body = text.slice(open + 1, close);
    const area = /\barea\s*:\s*"?([-+0-9.eE]+)"?\s*;/.exec(topLevelBody(body));
    const sequential = /\b(ff|latch|ff_bank|latch_bank|statetable)\s*\(/.test(body);
    cells.set(m[1]!, { area: area ? Number(area[1]) : 0, sequential });
    cellRe.lastIndex = close;
  }
  if (cells.size === 0) throw new Error('no cell (...) groups');
  return { name: lib[1]!, cells };
}

/**
 * Load the liberty a run uses: `path` (the user's --liberty, gzipped or not), else the
 * default osu018 library (STRUMGEN_LIBERTY overrides it). Bad files are UserErrors.
 */
export function loadLiberty(path?: string): Liberty {
  const file = resolve(path ?? requireTool('osu018'));
  const what = path ? `--liberty ${path}` : `liberty ${file}`;
  let bytes: Buffer;
  try {
    if (!statSync(file).isFile()) throw new UserError(`${what}: not a file`, 2);
    bytes = readFileSync(file);
  } catch (e) {
    if (e instanceof UserError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code;
    throw new UserError(`${what}: cannot read (${why})`, 2);
  }
  const gzipped = bytes[0] === 0x1f && bytes[1] === 0x8b;
  let text: string;
  try {
    text = (gzipped ? gunzipSync(bytes) : bytes).toString('utf8');
  } catch (e) {
    throw new UserError(`${what}: not a valid gzip file (${(e as Error).message})`, 2);
  }
  let parsed: ReturnType<typeof parseLiberty>;
  try {
    parsed = parseLiberty(text);
  } catch (e) {
    throw new UserError(`${what}: not a liberty library (${(e as Error).message})`, 2);
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return { path: file, sha256, name: parsed.name, gzipped, text, cells: parsed.cells };
}

/** File name the tools see for the (uncompressed) liberty inside a work directory. */
export const LIBERTY_FILE = 'liberty.lib';
