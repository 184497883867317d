#!/usr/bin/env node
// Runs the TypeScript CLI in-process through tsx (no build step, so it never goes stale).
import { tsImport } from 'tsx/esm/api';

const { main, installExitHandlers } = await tsImport('../src/cli/main.ts', import.meta.url);
installExitHandlers();
process.exitCode = await main(process.argv.slice(2));
