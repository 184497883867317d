// Content-addressed cache of synthesis runs. A run's key is the sha256 of everything that
// decides its result (RTL text, scripts, tool versions, liberty sha256); the entry holds
// the key's inputs, so a read checks them again and never serves another design's result.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { cacheRoot as ioCacheRoot } from '../io/cache.ts';
import { makeDirs } from '../io/fs-errors.ts';

export const MANIFEST = 'manifest.json';

/** The cache root: `dir` when given, else strumgen's one cache root (src/io/cache.ts, $STRUMGEN_CACHE). */
export function cacheRoot(dir?: string): string {
  return dir ? resolve(dir) : ioCacheRoot();
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

/**
 * Move a finished work directory into place as the entry `dir`. An old entry is first moved
 * aside (one rename) and removed after, so a concurrent run never sees a half-removed entry;
 * when another process committed the same key meanwhile, its entry is as good as ours.
 */
export function cacheCommit(work: string, dir: string): void {
  makeDirs(join(dir, '..'));
  const aside = `${dir}.old-${process.pid}-${Date.now()}`;
  let moved = false;
  try {
    renameSync(dir, aside);
    moved = true;
  } catch {
    // no old entry (or another process just moved it)
  }
  try {
    renameSync(work, dir);
  } catch (e) {
    if (!existsSync(join(dir, MANIFEST))) throw e;
    rmSync(work, { recursive: true, force: true });
  } finally {
    if (moved) rmSync(aside, { recursive: true, force: true });
  }
}
