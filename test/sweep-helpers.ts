// Shared by the sweep tests: a cache of their own (sweep results start empty) that reuses the
// user's synthesis cache, tiny specs, and the CLI as a child process.
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { cacheRoot } from '../src/io/cache.ts';

/** A fresh STRUMGEN_CACHE whose synth/ is the usual one: sweep records are new, synthesis is reused. */
export function sweepCache(dir: string): string {
  const cache = join(dir, 'cache');
  mkdirSync(cache, { recursive: true });
  const synth = join(cacheRoot(), 'synth');
  mkdirSync(synth, { recursive: true });
  symlinkSync(synth, join(cache, 'synth'));
  return cache;
}

export function writeSpec(dir: string, name: string, spec: Record<string, unknown>): string {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({ name, ...spec }, null, 1));
  return file;
}

/** strumgen as a child process with its own cache. */
export const strumgen = (args: string[], cache: string, env: Record<string, string> = {}) =>
  execa('node', ['bin/strumgen.js', ...args], {
    reject: false,
    env: { ...process.env, STRUMGEN_CACHE: cache, ...env },
  });
