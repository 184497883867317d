// Child processes, each in its own process group (src/io/process.ts tracks and kills them).
import { execa, type Options, type Result } from 'execa';
import { longTimeout, signalGroup, trackGroup, untrackGroup } from './process.ts';

export interface RunOptions extends Omit<Options, 'timeout' | 'detached' | 'cleanup'> {
  /** Kill the child's whole process group after this many ms (any length). */
  readonly timeoutMs?: number;
}

export type RunResult = Result & { timedOut: boolean };

/**
 * execa in a new process group: the group is killed on timeout, interrupt and exit.
 * Never rejects for a failed child (reject: false); `timedOut` says the limit was hit.
 */
export function run(command: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return spawnGroup(command, args, opts).done;
}

/** The subprocess itself (streams) for callers that talk to the child; same group handling. */
export function spawnGroup(command: string, args: readonly string[], opts: RunOptions = {}) {
  const { timeoutMs, ...rest } = opts;
  const sub = execa(command, args, { ...rest, detached: true, cleanup: false, reject: false } as Options);
  const pid = sub.pid;
  if (pid !== undefined) trackGroup(pid, command);
  let timedOut = false;
  const cancel =
    timeoutMs !== undefined && pid !== undefined
      ? longTimeout(timeoutMs, () => {
          timedOut = true;
          signalGroup(pid, 'SIGTERM');
          longTimeout(2000, () => signalGroup(pid, 'SIGKILL'));
        })
      : () => {};
  const done = (async () => {
    try {
      const r = (await sub) as Result;
      return Object.assign(r, { timedOut: timedOut || r.timedOut }) as RunResult;
    } finally {
      cancel();
      if (pid !== undefined) untrackGroup(pid);
    }
  })();
  return { sub, done };
}
