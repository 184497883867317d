#!/usr/bin/env node
// The strumgen command. Runs the compiled CLI (dist/, built by scripts/setup or npm's prepare)
// when it matches the sources, else the TypeScript through tsx: never a stale build.
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { freshDist } from './dist-fresh.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const compiled = process.env.STRUMGEN_NO_DIST === '1' ? null : freshDist(root);
const { main, installExitHandlers } = compiled
  ? await import(pathToFileURL(compiled).href)
  : await (await import('tsx/esm/api')).tsImport('../src/cli/main.ts', import.meta.url);
installExitHandlers();
process.exitCode = await main(process.argv.slice(2));
