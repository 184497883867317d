// One process layer. Every child strumgen starts (verilator and the make and g++ it runs,
// the Yosys worker, OpenSTA, the harness) runs in its own process group, so a timeout or an
// interrupt kills the whole tree, not just its first process. Temporary files and
// directories are registered here and removed on every exit path: normal return, error,
// SIGINT/SIGTERM/SIGHUP, process exit. Timeouts of any length work (Node's setTimeout
// overflows above 2^31-1 ms: longer waits are split).
import { readdirSync, readFileSync, rmSync } from 'node:fs';

/** Node's setTimeout fires at once for delays above this (ms). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** setTimeout for any delay: waits longer than Node's limit are chained. Returns a cancel function. */
export function longTimeout(ms: number, fn: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  let left = ms;
  const arm = () => {
    const step = Math.min(left, MAX_TIMER_MS);
    left -= step;
    timer = setTimeout(() => (left > 0 ? arm() : fn()), step);
    timer.unref?.();
  };
  arm();
  return () => clearTimeout(timer);
}

const groups = new Set<number>();
const temps = new Set<string>();
let debug = process.env.STRUMGEN_DEBUG_PROCESSES === '1';

/**
 * CPU seconds (user + system) of every child process this process has waited for, from
 * /proc/self/stat (Linux; 0 elsewhere): a step's CPU is the difference around it.
 */
export function childCpuSeconds(): number {
  try {
    // After "pid (comm) ": field 3 is the state, so cutime and cstime (fields 16, 17) sit at 13, 14.
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    return 0;
  }
}

/** Process groups of the children alive now (tests, debugging). */
export const liveGroups = (): number[] => [...groups];

/** Remove `path` (file or directory) whatever way the process ends; returns the path. */
export function registerTemp(path: string): string {
  temps.add(path);
  return path;
}

/** Remove a registered temp path now and forget it. */
export function removeTemp(path: string): void {
  temps.delete(path);
  rmSync(path, { recursive: true, force: true });
}

/** Forget a temp path that became a real output (renamed into place). */
export function keepTemp(path: string): void {
  temps.delete(path);
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

/** Groups with a member that still runs (zombies waiting to be reaped do not count). */
function runningGroups(pgids: ReadonlySet<number>): number[] {
  const running = new Set<number>();
  if (pgids.size === 0) return [];
  try {
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        // pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (state !== 'Z' && pgids.has(Number(pgrp))) running.add(Number(pgrp));
      } catch {
        // exited meanwhile
      }
    }
  } catch {
    // no /proc: fall back to signal 0 (counts zombies too)
    for (const g of pgids) {
      try {
        process.kill(-g, 0);
        running.add(g);
      } catch {
        // gone
      }
    }
  }
  return [...running];
}

/** Kill every child group and remove every temp path (synchronous: safe in 'exit'). */
export function cleanupNow(): void {
  for (const g of groups) killGroup(g, 'SIGKILL');
  // Give the kernel a moment to reap, so no child still writes into a temp dir we remove.
  const until = Date.now() + 2000;
  while (runningGroups(groups).length > 0 && Date.now() < until) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
  groups.clear();
  for (const t of temps) {
    try {
      rmSync(t, { recursive: true, force: true });
    } catch {
      // best effort on the way out
    }
  }
  temps.clear();
}

let installed = false;
/**
 * On SIGINT/SIGTERM/SIGHUP: kill the children, remove the temp paths, exit 128+signal.
 * On exit: the same. The CLI installs this once; library users may too.
 */
export function installExitHandlers(): void {
  if (installed) return;
  installed = true;
  debug = process.env.STRUMGEN_DEBUG_PROCESSES === '1';
  const codes: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };
  for (const [sig, code] of Object.entries(codes) as [NodeJS.Signals, number][]) {
    process.on(sig, () => {
      cleanupNow();
      process.stderr.write(
        `strumgen: interrupted (${sig}); stopped child processes and removed temporary files\n`,
      );
      process.exit(code);
    });
  }
  process.on('exit', cleanupNow);
}

/** Track a child's process group (killed on interrupt and exit) until `untrackGroup`. */
export function trackGroup(pgid: number, command: string): void {
  groups.add(pgid);
  if (debug) process.stderr.write(`strumgen: started process group ${pgid} (${command})\n`);
}

/** The group ended: kill any member still left (grandchildren) and stop tracking it. */
export function untrackGroup(pgid: number): void {
  killGroup(pgid, 'SIGKILL');
  groups.delete(pgid);
}

/** Kill a tracked group now (timeouts). */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  killGroup(pgid, signal);
}
