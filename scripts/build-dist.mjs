#!/usr/bin/env node
// Compiles the CLI into dist/ with esbuild (one bundle; npm packages stay external), so
// `strumgen` starts without compiling TypeScript. Records the source hash the bin checks.
// Usage: node scripts/build-dist.mjs [outdir]   (default dist/)
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { sourceHash } from '../bin/dist-fresh.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = resolve(process.argv[2] ?? join(root, 'dist'));
const hash = sourceHash(root);
// Built beside the target and swapped in, so a running strumgen never sees half a build.
const tmp = `${out}.tmp-${process.pid}`;
rmSync(tmp, { recursive: true, force: true });
try {
  await build({
    absWorkingDir: root,
    // Both at dist/cli/: the modules find package.json, templates/ and sim/ two levels up, as from src/<stage>/.
    entryPoints: { 'cli/main': 'src/cli/main.ts', 'cli/yowasp-worker': 'src/synth/yowasp-worker.ts' },
    outdir: tmp,
    bundle: true,
    // Each command is its own chunk, loaded when it runs: `strumgen --help` loads none.
    splitting: true,
    chunkNames: 'cli/[name]-[hash]',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  });
  mkdirSync(tmp, { recursive: true });
  writeFileSync(join(tmp, 'build-info.json'), `${JSON.stringify({ sourceHash: hash }, null, 1)}\n`);
  rmSync(out, { recursive: true, force: true });
  renameSync(tmp, out);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
process.stderr.write(`build-dist: ${out} (sources ${hash.slice(0, 12)})\n`);
