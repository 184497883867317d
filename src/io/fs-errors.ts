// Everyday filesystem errors (permission, read-only, missing, full) as one line that names
// the path and the operation, instead of a stack trace.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UserError } from '../config/errors.ts';

/** Exit code of the CLI when the filesystem refuses an operation on a path. */
export const FS_ERROR_EXIT = 5;

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'no such file or directory',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  ENOTDIR: 'a part of the path is not a directory',
  EISDIR: 'is a directory',
  EEXIST: 'already exists',
  ENOTEMPTY: 'directory not empty',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'name too long',
  EXDEV: 'cannot move across file systems',
  EIO: 'input/output error',
  ELOOP: 'too many symbolic links',
};

const OPERATIONS: Record<string, string> = {
  open: 'open',
  mkdir: 'create directory',
  mkdtemp: 'create directory',
  rename: 'rename',
  unlink: 'remove',
  rmdir: 'remove',
  rm: 'remove',
  scandir: 'read directory',
  opendir: 'read directory',
  read: 'read',
  write: 'write',
  copyfile: 'copy',
  stat: 'stat',
  lstat: 'stat',
  access: 'access',
  chmod: 'change mode of',
  realpath: 'resolve',
  symlink: 'link',
  link: 'link',
};

interface ErrnoLike {
  code?: unknown;
  syscall?: unknown;
  path?: unknown;
  dest?: unknown;
}

/** True for a Node system error on a path (has an errno code we know). */
export function isFsError(e: unknown): e is NodeJS.ErrnoException {
  const x = e as ErrnoLike | null;
  return !!x && typeof x === 'object' && typeof x.code === 'string' && x.code in REASONS;
}

/** The one-line message: 'cannot create directory /x/y: permission denied (EACCES)'. */
export function fsErrorMessage(e: NodeJS.ErrnoException, op?: string, path?: string): string {
  const code = e.code ?? '';
  const what = op ?? OPERATIONS[e.syscall ?? ''] ?? e.syscall ?? 'use';
  const where = path ?? e.path ?? '';
  const dest = !path && (e as ErrnoLike).dest ? ` -> ${(e as ErrnoLike).dest}` : '';
  return `cannot ${what} ${where}${dest}: ${REASONS[code] ?? code} (${code})`;
}

/** A filesystem error as a UserError (exit 5); anything else is returned unchanged. */
export function asUserError(e: unknown, op?: string, path?: string): unknown {
  if (e instanceof UserError || !isFsError(e)) return e;
  return new UserError(fsErrorMessage(e, op, path), FS_ERROR_EXIT);
}

/** Run fn; a filesystem error becomes one line naming `path` and `op`. */
export function fsStep<T>(op: string, path: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw asUserError(e, op, path);
  }
}

/**
 * mkdir -p that fails instead of spinning: Node 20's recursive mkdirSync loops forever where
 * the kernel answers ENOENT for an existing parent (under /proc). Creates each missing part.
 */
export function makeDirs(dir: string): void {
  const missing: string[] = [];
  let d = resolve(dir);
  while (!existsSync(d)) {
    missing.push(d);
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  for (const m of missing.reverse()) {
    try {
      mkdirSync(m);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}
