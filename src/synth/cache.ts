// Content-addressed cache of synthesis runs. A run's key is the sha256 of everything that
// decides its result (RTL text, scripts, tool versions, liberty sha256); the entry holds
// the key's inputs, so a read checks them again and never serves another design's result.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const CACHE_ENV = 'STRUMGEN_CACHE_DIR';
export const MANIFEST = 'manifest.json';

/** Root of strumgen's caches: $STRUMGEN_CACHE_DIR, else .cache/strumgen under the working directory. */
export function cacheRoot(dir?: string): string {
  return resolve(dir ?? process.env[CACHE_ENV] ?? join(process.cwd(), '.cache', 'strumgen'));
}

export const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

/** The canonical text of a manifest and its key. */
export function cacheKey(manifest: unknown): { text: string; key: string } {
  const text = `${JSON.stringify(manifest, null, 1)}\n`;
  return { text, key: sha256(text) };
}

/** The entry directory when it exists and holds exactly this manifest and the files needed. */
export function cacheLookup(dir: string, manifestText: string, needed: readonly string[]): boolean {
  const m = join(dir, MANIFEST);
  if (!existsSync(m)) return false;
  if (readFileSync(m, 'utf8') !== manifestText) return false;
  return needed.every((f) => existsSync(join(dir, f)));
}

/** Move a finished work directory into place as the entry `dir` (replacing an old one). */
export function cacheCommit(work: string, dir: string): void {
  mkdirSync(join(dir, '..'), { recursive: true });
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  try {
    renameSync(work, dir);
  } catch (e) {
    // Another process committed the same key first: its entry is as good as ours.
    if (!existsSync(join(dir, MANIFEST))) throw e;
    rmSync(work, { recursive: true, force: true });
  }
}
