// strumgen's one cache root (Verilator models, synthesis runs, re-run configs):
// $STRUMGEN_CACHE, else $XDG_CACHE_HOME/strumgen, else ~/.cache/strumgen. Entries are keyed
// by content and written through temp directories renamed into place, so concurrent runs
// share it safely.

import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { UserError } from '../config/errors.ts';
import { FS_ERROR_EXIT, fsErrorMessage, isFsError, makeDirs } from './fs-errors.ts';

/** The one environment variable that moves the cache. */
export const CACHE_ENV = 'STRUMGEN_CACHE';

/** The variable of strumgen's first releases: still read, with a one-line notice. */
const OLD_CACHE_ENV = 'STRUMGEN_CACHE_DIR';
let oldEnvNoticed = false;

/** The cache root (not created). */
export function cacheRoot(): string {
  const env = process.env[CACHE_ENV];
  if (env) return resolve(env);
  const old = process.env[OLD_CACHE_ENV];
  if (old) {
    if (!oldEnvNoticed) {
      oldEnvNoticed = true;
      process.stderr.write(
        `strumgen: ${OLD_CACHE_ENV} is deprecated; set ${CACHE_ENV} instead (using ${resolve(old)})\n`,
      );
    }
    return resolve(old);
  }
  const xdg = process.env.XDG_CACHE_HOME;
  if (xdg) return resolve(xdg, 'strumgen');
  const home = process.env.HOME || homedir();
  if (home && home !== '/') return join(home, '.cache', 'strumgen');
  return join(tmpdir(), `strumgen-cache-${process.getuid?.() ?? 'user'}`);
}

/** `cacheRoot()/sub`, created; a one-line error (naming the variable) when it cannot be. */
export function cacheDir(sub: string): string {
  const dir = join(cacheRoot(), sub);
  try {
    makeDirs(dir);
  } catch (e) {
    if (!isFsError(e)) throw e;
    throw new UserError(
      `cache: ${fsErrorMessage(e, 'create directory', dir)}; set ${CACHE_ENV} to a writable directory`,
      FS_ERROR_EXIT,
    );
  }
  return dir;
}
