// Running a sweep's missing jobs: locally, each point a `strumgen sweep <spec> --point I`
// child (its own process group, killed with strumgen) with N at a time, a progress line and
// an ETA on stderr; or on Slurm as one job array of the same command against the shared cache.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../config/errors.ts';
import { CACHE_ENV, cacheRoot } from '../io/cache.ts';
import { run } from '../io/run.ts';
import { type PointJobs, pointDone, readRecord, writeRecord } from './jobs.ts';
import type { SweepSpec } from './spec.ts';

/** The `strumgen` entry of this package (bin/strumgen.js), found from this file in src/ or dist/. */
export function strumgenBin(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const bin = join(dir, 'bin', 'strumgen.js');
    if (existsSync(bin) && existsSync(join(dir, 'package.json'))) return bin;
    const up = dirname(dir);
    if (up === dir) throw new Error('strumgen: cannot find bin/strumgen.js above the sweep module');
    dir = up;
  }
}

/** The command that measures one point (what local children and Slurm tasks run). */
export const pointCommand = (spec: SweepSpec, index: number | string): string[] => [
  strumgenBin(),
  'sweep',
  spec.file,
  '--point',
  String(index),
];

export const sweepWorkDir = (spec: SweepSpec) => join(cacheRoot(), 'sweep', 'runs', spec.hash.slice(0, 16));

/** Points in the order they run: INT8 baselines first (every comparison needs them), then by index. */
export const runOrder = (plan: readonly PointJobs[]) =>
  [...plan].sort(
    (a, b) =>
      Number(b.point.kind === 'int8') - Number(a.point.kind === 'int8') || a.point.index - b.point.index,
  );

export interface LocalOptions {
  readonly jobs: number;
  /** Seconds a point's child may run (default 4 h). */
  readonly timeoutSeconds?: number;
  /** stderr is a terminal: redraw one progress line; else a line every `everySeconds`. */
  readonly tty: boolean;
  readonly everySeconds?: number;
  readonly write: (text: string) => void;
}

export interface LocalSummary {
  readonly measured: number;
  readonly failed: number;
  readonly cached: number;
  readonly seconds: number;
}

const fmtDuration = (s: number) => {
  if (!Number.isFinite(s)) return '?';
  s = Math.round(s);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
};

/** Measure every point not done yet, `jobs` children at a time. */
export async function runLocal(
  plan: readonly PointJobs[],
  spec: SweepSpec,
  o: LocalOptions,
): Promise<LocalSummary> {
  const todo = runOrder(plan).filter((p) => !pointDone(p));
  const cached = plan.length - todo.length;
  const logs = join(sweepWorkDir(spec), 'logs');
  mkdirSync(logs, { recursive: true });
  const t0 = performance.now();
  let done = 0;
  let failed = 0;
  let running = 0;
  let next = 0;
  const elapsed = () => (performance.now() - t0) / 1000;
  const line = () => {
    const total = todo.length;
    const eta = done > 0 ? (elapsed() / done) * (total - done) : Number.NaN;
    const width = 24;
    const fill = total ? Math.round((width * done) / total) : width;
    const bar = `[${'#'.repeat(fill)}${'-'.repeat(width - fill)}]`;
    return (
      `sweep ${bar} ${done}/${total} measured${failed ? ` (${failed} failed)` : ''}, ${cached} cached, ` +
      `${running} running, ${fmtDuration(elapsed())} elapsed, ETA ${done ? fmtDuration(eta) : '?'}`
    );
  };
  const show = () => (o.tty ? o.write(`\r\x1b[K${line()}`) : undefined);
  let lastPrint = performance.now();
  const ticker = setInterval(
    () => {
      if (o.tty) show();
      else if (performance.now() - lastPrint >= (o.everySeconds ?? 60) * 1000) {
        o.write(`${line()}\n`);
        lastPrint = performance.now();
      }
    },
    o.tty ? 1000 : 1000,
  );
  ticker.unref();
  if (!o.tty) o.write(`sweep: ${todo.length} points to measure (${cached} cached), ${o.jobs} at a time\n`);
  show();
  const worker = async () => {
    while (next < todo.length) {
      const p = todo[next++]!;
      running++;
      show();
      const [bin, ...args] = pointCommand(spec, p.point.index);
      const log = join(logs, `point-${p.point.index}.log`);
      const r = await run(process.execPath, [bin!, ...args], {
        all: true,
        timeoutMs: (o.timeoutSeconds ?? 4 * 3600) * 1000,
        env: { ...process.env, [CACHE_ENV]: cacheRoot() },
      });
      writeFileSync(log, String(r.all ?? ''));
      running--;
      done++;
      // The child wrote its records; a child that died before writing one leaves its error here.
      let bad = false;
      for (const j of p.jobs) {
        j.record = readRecord(j.key);
        if (!j.record) {
          const why = r.timedOut
            ? `timed out after ${o.timeoutSeconds ?? 4 * 3600} s`
            : lastLine(String(r.all ?? '')) || `exit ${r.exitCode ?? r.signal}`;
          j.record = {
            schema: 'strumgen.sweep-job/1',
            job: j.job,
            configHash: p.point.cfg.hash,
            key: j.key,
            inputs: j.inputs,
            ok: false,
            error: `point process failed: ${why}`,
            seconds: 0,
            at: new Date().toISOString(),
          };
          writeRecord(j.record);
        }
        if (!j.record.ok) bad = true;
      }
      if (bad) {
        failed++;
        const first = p.jobs.find((j) => !j.record?.ok)!.record!;
        o.write(
          `${o.tty ? '\r\x1b[K' : ''}sweep: point ${p.point.index} (${p.point.label}) failed: ${first.job}: ${first.error} (log ${log})\n`,
        );
      }
      show();
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(o.jobs, todo.length)) }, worker));
  } finally {
    clearInterval(ticker);
  }
  o.write(`${o.tty ? '\r\x1b[K' : ''}${line()}\n`);
  return { measured: done - failed, failed, cached, seconds: elapsed() };
}

const lastLine = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .at(-1) ?? '';

export interface SlurmOptions {
  /** Extra sbatch arguments (partition, time limit, account...). */
  readonly sbatchArgs: readonly string[];
  /** Wait for the array to finish (sbatch --wait). */
  readonly wait: boolean;
  /** Most tasks running at once (the %N of --array). */
  readonly parallel?: number;
  readonly write: (text: string) => void;
}

/**
 * Submit the points not done yet as one Slurm job array running `strumgen sweep <spec> --point
 * $SLURM_ARRAY_TASK_ID` against this cache (which must be on a filesystem the nodes share).
 * Returns the job id, or null when nothing is left to measure.
 */
export async function submitSlurm(
  plan: readonly PointJobs[],
  spec: SweepSpec,
  o: SlurmOptions,
): Promise<string | null> {
  const todo = runOrder(plan).filter((p) => !pointDone(p));
  if (todo.length === 0) return null;
  const work = sweepWorkDir(spec);
  mkdirSync(work, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const script = join(work, `slurm-${stamp}.sh`);
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const [bin, ...args] = pointCommand(spec, '$SLURM_ARRAY_TASK_ID');
  const text = [
    '#!/bin/sh',
    `# strumgen sweep ${spec.file}: ${todo.length} points, written ${new Date().toISOString()}`,
    `export ${CACHE_ENV}=${quote(cacheRoot())}`,
    `cd ${quote(process.cwd())}`,
    `exec ${quote(process.execPath)} ${quote(bin!)} ${args.map((a) => (a.startsWith('$') ? `"${a}"` : quote(a))).join(' ')}`,
    '',
  ].join('\n');
  writeFileSync(script, text, { mode: 0o755 });
  const indices = todo.map((p) => p.point.index).sort((a, b) => a - b);
  const array = `${compressRanges(indices)}${o.parallel ? `%${o.parallel}` : ''}`;
  const sbatchArgs = [
    '--parsable',
    `--job-name=strumgen-sweep-${spec.name ?? 'sweep'}`,
    `--array=${array}`,
    `--output=${join(work, 'slurm-%A_%a.log')}`,
    ...(o.wait ? ['--wait'] : []),
    ...o.sbatchArgs,
    script,
  ];
  o.write(`sweep: sbatch ${sbatchArgs.join(' ')}\n`);
  const r = await run('sbatch', sbatchArgs, { all: false });
  const out = String(r.stdout ?? '').trim();
  if (r.exitCode !== 0 && !(o.wait && /^\d+/.test(out))) {
    if ((r as { code?: string }).code === 'ENOENT' || /ENOENT/.test(String(r.message ?? '')))
      throw new UserError(
        'sweep --executor slurm: sbatch not found (install Slurm, e.g. apt-get install slurm-client)',
        3,
      );
    throw new UserError(
      `sweep: sbatch failed (exit ${r.exitCode}): ${lastLine(String(r.stderr ?? '')) || out}`,
      4,
    );
  }
  const id = out.split(/[;\s]/)[0]!;
  o.write(
    o.wait
      ? `sweep: Slurm job ${id} finished (${todo.length} points); logs ${work}/slurm-${id}_*.log\n`
      : `sweep: submitted Slurm job array ${id} (${todo.length} points); when it is done: strumgen sweep ${spec.file} --collect\n`,
  );
  return id;
}

/** 0,1,2,5,7,8 -> "0-2,5,7-8" (sbatch --array syntax). */
export function compressRanges(xs: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < xs.length; ) {
    let j = i;
    while (j + 1 < xs.length && xs[j + 1] === xs[j]! + 1) j++;
    parts.push(j > i ? `${xs[i]}-${xs[j]}` : `${xs[i]}`);
    i = j + 1;
  }
  return parts.join(',');
}
