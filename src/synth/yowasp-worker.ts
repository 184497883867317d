// Child process that runs @yowasp/yosys (WebAssembly) like a command:
//   node --import tsx yowasp-worker.ts <yosys args...>
// It runs in the current directory: the regular files there are the tool's input, the files
// it writes come back to the directory, and its console goes to stdout as it runs (so a
// run stopped at its time limit still leaves its log). A separate process because the
// WebAssembly run blocks its thread and can only be stopped by killing the process.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

type Tree = { [name: string]: Tree | string | Uint8Array };

// The WebAssembly run blocks this thread for minutes. A watcher thread ends the process when
// strumgen goes away without killing it (kill -9): this process is then reparented.
// strumgen names itself in STRUMGEN_PARENT_PID: by the time this code runs (after tsx compiled
// it) strumgen may already be gone. The Yosys bundle is imported only after the watcher starts.
const watcher = new Worker(
  `const { workerData } = require('node:worker_threads');
   const check = () => { if (process.ppid !== workerData) process.kill(process.pid, 'SIGKILL'); };
   check();
   setInterval(check, 500);`,
  { eval: true, workerData: Number(process.env.STRUMGEN_PARENT_PID) || process.ppid, execArgv: [] },
);
watcher.unref();

const inputs: Tree = {};
for (const name of readdirSync('.')) {
  if (statSync(name).isFile()) inputs[name] = readFileSync(name);
}

function writeBack(tree: Tree, dir: string): void {
  for (const [name, value] of Object.entries(tree)) {
    if (typeof value === 'string' || value instanceof Uint8Array) {
      if (!(dir === '.' && name in inputs)) writeFileSync(join(dir, name), value);
    }
    // Sub-directories are never outputs of our scripts.
  }
}

const out = (bytes: Uint8Array | null) => {
  if (bytes) process.stdout.write(bytes);
};

const { runYosys } = await import('@yowasp/yosys');
try {
  const files = await runYosys(process.argv.slice(2), inputs, { stdout: out, stderr: out });
  if (files) writeBack(files as Tree, '.');
} catch (e) {
  const exit = e as { code?: number; files?: Tree };
  if (typeof exit.code === 'number') {
    if (exit.files) writeBack(exit.files, '.');
    process.exitCode = exit.code || 1;
  } else {
    process.stderr.write(`yowasp-yosys: ${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}
