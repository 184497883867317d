import { relative } from 'node:path';
import type { CommandModule } from 'yargs';
import { UserError } from '../../config/errors.ts';

interface Args {
  spec: string;
  jobs?: number;
  executor?: string;
  collect?: boolean;
  point?: number;
  wait?: boolean;
  'sbatch-args'?: string;
  parallel?: number;
  plan?: boolean;
  out?: string;
  force?: boolean;
  json?: boolean;
  timeout?: number;
}

export const EXECUTORS = ['local', 'slurm'] as const;

const positiveInt = (v: number | undefined, flag: string) => {
  if (v !== undefined && !(Number.isInteger(v) && v > 0))
    throw new UserError(`${flag}: a positive whole number`);
  return v;
};

export const sweepCommand: CommandModule<object, Args> = {
  command: 'sweep <spec>',
  describe: 'Design-space sweep: area, fmax, power, accuracy of every point, Pareto fronts, plots, HTML',
  builder: (y) =>
    y
      .positional('spec', {
        type: 'string',
        describe: 'sweep spec (.json or .ts), see docs/SWEEP.md',
        demandOption: true,
      })
      .option('jobs', { type: 'number', default: 1, describe: 'points measured at once (local executor)' })
      .option('executor', {
        type: 'string',
        choices: EXECUTORS,
        default: 'local',
        describe: 'local child processes, or a Slurm job array (sbatch) against the shared cache',
      })
      .option('wait', {
        type: 'boolean',
        default: false,
        describe: 'slurm: wait for the job array (sbatch --wait), then write the report',
      })
      .option('sbatch-args', {
        type: 'string',
        describe: "slurm: extra sbatch arguments, e.g. '--partition=big --time=2:00:00'",
      })
      .option('parallel', {
        type: 'number',
        describe: 'slurm: most array tasks running at once (--array=...%N)',
      })
      .option('collect', {
        type: 'boolean',
        default: false,
        describe: 'measure nothing: build the report from what the cache holds (after a Slurm run)',
      })
      .option('plan', {
        type: 'boolean',
        default: false,
        describe: 'list the points (and skipped ones) and what is cached; measure nothing',
      })
      .option('point', {
        type: 'number',
        describe: 'measure one point by index (what the children and Slurm tasks run)',
      })
      .option('timeout', {
        type: 'number',
        describe: 'local: time limit of one point in seconds (default 14400)',
      })
      .option('out', { type: 'string', describe: 'report directory (default rtl-out/sweep-<name>/)' })
      .option('force', {
        type: 'boolean',
        default: false,
        describe: 'overwrite report files that strumgen did not write',
      })
      .option('json', {
        type: 'boolean',
        default: false,
        describe: 'print the JSON report on stdout',
      }) as never,
  handler: async (argv) => {
    const { loadSpec, expandSpec } = await import('../../sweep/spec.ts');
    const { planJobs, pointDone, runPointJobs } = await import('../../sweep/jobs.ts');
    const spec = await loadSpec(argv.spec);
    const jobs = positiveInt(argv.jobs, '--jobs') ?? 1;
    positiveInt(argv.parallel, '--parallel');
    positiveInt(argv.timeout, '--timeout');
    const { points, skipped } = await expandSpec(spec);
    const err = (t: string) => process.stderr.write(t);

    if (argv.point !== undefined) {
      const p = points[argv.point];
      if (!Number.isInteger(argv.point) || !p)
        throw new UserError(`--point ${argv.point}: the spec has points 0..${points.length - 1}`);
      const [plan] = await planJobs([p], spec);
      const errors = await runPointJobs(plan!, spec, (m) => err(`${m}\n`));
      for (const e of errors) err(`sweep: point ${p.index} (${p.label}): ${e}\n`);
      if (errors.length) throw new UserError(`sweep: point ${p.index}: ${errors.length} job(s) failed`, 1);
      return;
    }

    const { checkOutputDir } = await import('../../io/output.ts');
    const { SWEEP_OUTPUT, buildReport, writeSweepReport, summaryLines } = await import(
      '../../sweep/report.ts'
    );
    const { outputKind } = await import('../../config/atomic.ts');
    const out = argv.out ?? `rtl-out/sweep-${spec.name ?? 'sweep'}`;
    checkOutputDir(out, outputKind(SWEEP_OUTPUT));
    const plan = await planJobs(points, spec);
    const cachedNow = plan.filter(pointDone).length;
    err(
      `sweep: ${points.length} points (${points.filter((p) => p.kind === 'int8').length} INT8 baselines), ` +
        `${skipped.length} combinations skipped as illegal, ${cachedNow} already measured\n`,
    );
    if (argv.plan) {
      for (const p of plan)
        process.stdout.write(
          `${p.point.index}\t${pointDone(p) ? 'cached' : 'todo'}\t${p.point.label}\t${p.point.cfg.shortHash}\n`,
        );
      for (const s of skipped)
        process.stdout.write(
          `skipped\t${Object.entries(s.settings)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')}\t${s.reason}\n`,
        );
      return;
    }
    if (!argv.collect) {
      const { runLocal, submitSlurm } = await import('../../sweep/execute.ts');
      if (argv.executor === 'slurm') {
        const id = await submitSlurm(plan, spec, {
          sbatchArgs: (argv['sbatch-args'] ?? '').split(/\s+/).filter(Boolean),
          wait: argv.wait ?? false,
          parallel: argv.parallel,
          write: err,
        });
        if (id !== null && !argv.wait) return;
        // Waited (or nothing to do): re-read what the tasks wrote.
        const { readRecord } = await import('../../sweep/jobs.ts');
        for (const p of plan) for (const j of p.jobs) j.record = readRecord(j.key);
      } else {
        await runLocal(plan, spec, {
          jobs,
          timeoutSeconds: argv.timeout,
          tty: Boolean(process.stderr.isTTY),
          write: err,
        });
      }
    }
    const { inferenceCosts } = await import('../../sweep/measure.ts');
    const report = buildReport(spec, plan, skipped, await inferenceCosts(spec, points));
    const dir = await writeSweepReport(report, out, { force: argv.force });
    const where = relative(process.cwd(), dir) || '.';
    if (argv.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else
      process.stdout.write(
        `${[...summaryLines(report), `  report        ${where}/index.html`].join('\n')}\n`,
      );
    const failed = report.points.filter((p) => p.status === 'failed').length;
    // Exit 1 when a point failed (after the report is written): scripts see it; a re-run retries it.
    if (failed)
      throw new UserError(
        `sweep: ${failed} point(s) failed; their errors are in ${where}/points.csv (a re-run retries them)`,
        1,
      );
  },
};
