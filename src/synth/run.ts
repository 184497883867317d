// Runs one external step of the flow (Yosys, OpenSTA) with a time limit, its output in a
// log file, progress on a timer, and a clear error with the log's tail when it fails.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../config/errors.ts';
import { type RunResult, run } from '../io/run.ts';

/** Exit code of the CLI when a tool fails or runs past its time limit. */
export const TOOL_FAILED_EXIT = 4;

/** A tool that ran and failed, or ran too long: the message ends with the tail of its log. */
export class ToolError extends UserError {
  readonly logFile: string;
  constructor(message: string, logFile: string) {
    super(message, TOOL_FAILED_EXIT);
    this.name = 'ToolError';
    this.logFile = logFile;
  }
}

/** The last `lines` non-empty lines of a log file ('' when it does not exist). */
export function logTail(file: string, lines = 15): string {
  if (!existsSync(file)) return '';
  const all = readFileSync(file, 'utf8').split('\n');
  const kept = all.filter((l) => l.trim() !== '');
  return kept.slice(-lines).join('\n');
}

export interface StepOptions {
  /** What the step does, for progress and errors: e.g. 'Yosys (flat) on strum_mip2q_pe'. */
  readonly label: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  /** Log file name inside cwd: stdout and stderr both go there. */
  readonly log: string;
  readonly timeoutSeconds: number;
  readonly onProgress?: (msg: string) => void;
  /** Extra text that marks a failure even with exit code 0 (OpenSTA exits 0 on errors). */
  readonly failurePattern?: RegExp;
  readonly nodeOptions?: readonly string[];
  /** Run `command` as a Node script (execaNode). */
  readonly node?: boolean;
}

/** Run a step; resolves to its wall time in seconds, or throws ToolError. */
export async function runStep(o: StepOptions): Promise<number> {
  const logFile = join(o.cwd, o.log);
  // Both streams append to one file, so the log interleaves them as the tool wrote them.
  writeFileSync(logFile, '');
  const toLog = { file: logFile, append: true } as const;
  const start = Date.now();
  const tick = setInterval(() => {
    o.onProgress?.(`${o.label}: still running (${Math.round((Date.now() - start) / 1000)} s)`);
  }, 15_000);
  let result: RunResult;
  try {
    const common = {
      cwd: o.cwd,
      stdin: 'ignore' as const,
      // A Node worker (the yowasp Yosys) watches this process and ends when it is gone.
      env: { STRUMGEN_PARENT_PID: String(process.pid) },
      stdout: toLog,
      stderr: toLog,
      timeoutMs: o.timeoutSeconds * 1000,
    };
    result = o.node
      ? await run(process.execPath, [...(o.nodeOptions ?? []), o.command, ...o.args], common)
      : await run(o.command, [...o.args], common);
  } finally {
    clearInterval(tick);
  }
  const seconds = (Date.now() - start) / 1000;
  const tail = () => {
    const t = logTail(logFile);
    return t ? `; last lines of ${logFile}:\n${t}` : `; see ${logFile}`;
  };
  if (result.timedOut) {
    throw new ToolError(
      `${o.label} ran past its time limit of ${o.timeoutSeconds} s and was stopped${tail()}`,
      logFile,
    );
  }
  if (result.failed && result.exitCode === undefined) {
    const why = result.signal ? `was killed by ${result.signal}` : `could not start (${result.shortMessage})`;
    throw new ToolError(`${o.label} ${why}${tail()}`, logFile);
  }
  if (result.exitCode !== 0)
    throw new ToolError(`${o.label} failed (exit ${result.exitCode})${tail()}`, logFile);
  const bad = o.failurePattern
    ? readFileSync(logFile, 'utf8')
        .split('\n')
        .find((l) => o.failurePattern!.test(l))
    : undefined;
  if (bad !== undefined) throw new ToolError(`${o.label} reported an error: ${bad.trim()}${tail()}`, logFile);
  return seconds;
}
