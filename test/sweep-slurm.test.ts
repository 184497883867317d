// `strumgen sweep --executor slurm` against a real one-node Slurm (munged, slurmctld and slurmd
// started here by scripts/slurm-local with a minimal config): a 2-point sweep of cheap metrics
// runs as a job array of `strumgen sweep <spec> --point $SLURM_ARRAY_TASK_ID` against a cache of
// its own, `--wait` writes the report, `--collect` rebuilds it from the cache alone.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SweepReport } from '../src/sweep/report.ts';
import { strumgen, sweepCache, writeSpec } from './sweep-helpers.ts';
import { tempDirs } from './temp-dirs.ts';

const tempDir = tempDirs();
const slurmDir = tempDir('strumgen-slurm-');
const env = { STRUMGEN_SLURM_DIR: slurmDir };
let slurmConf = '';
/** Why a one-node Slurm cannot run here (the script's own message), or '' when it runs. */
let cannot = '';

beforeAll(() => {
  try {
    const out = execFileSync('scripts/slurm-local', ['start', '--owner', String(process.pid)], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    slurmConf = /export SLURM_CONF=(\S+)/.exec(out)?.[1] ?? '';
    if (!slurmConf) cannot = `scripts/slurm-local start printed no SLURM_CONF: ${out}`;
  } catch (e) {
    const err = e as { stderr?: string; status?: number };
    cannot = `scripts/slurm-local start failed (exit ${err.status}): ${String(err.stderr ?? e).trim()}`;
  }
}, 60_000);

afterAll(() => {
  try {
    execFileSync('scripts/slurm-local', ['stop'], { env: { ...process.env, ...env }, stdio: 'ignore' });
  } catch {
    // nothing was started
  }
});

describe('sweep on Slurm', () => {
  it('runs the points as a job array against the shared cache; --collect rebuilds the report', async (ctx) => {
    if (cannot) ctx.skip(cannot);
    const dir = tempDir('strumgen-sweep-slurm-');
    const cache = sweepCache(dir);
    const spec = writeSpec(dir, 'slurm', {
      base: 'strum-mip2q',
      set: { name: 'slurm', 'array.rows': 1, 'array.cols': 1 },
      axes: [
        { field: 'pe.low', values: ['mip2q', 'dliq'] },
        { field: 'pe.block', values: [4] },
      ],
      metrics: ['sqnr', 'accuracy'],
      accuracy: { limit: 100 },
      int8: false,
    });
    const slurmEnv = { SLURM_CONF: slurmConf };
    const r = await strumgen(
      ['sweep', spec, '--executor', 'slurm', '--wait', '--out', join(dir, 'out')],
      cache,
      slurmEnv,
    );
    expect(r.exitCode, r.stderr).toBe(0);
    const id = /Slurm job (\d+) finished \(2 points\)/.exec(r.stderr)?.[1];
    expect(id, r.stderr).toBeDefined();
    // Each point ran as an array task: its log is there, and the task measured the point.
    const runs = join(cache, 'sweep', 'runs');
    const [run] = readdirSync(runs);
    for (const task of [0, 1]) {
      const log = join(runs, run!, `slurm-${id}_${task}.log`);
      expect(existsSync(log), log).toBe(true);
      expect(readFileSync(log, 'utf8')).not.toMatch(/error|failed/i);
    }
    const rep = JSON.parse(readFileSync(join(dir, 'out', 'points.json'), 'utf8')) as SweepReport;
    expect(rep.points.map((p) => [p.label, p.status])).toEqual([
      ['mip2q B4 H2', 'ok'],
      ['dliq B4 H2', 'ok'],
    ]);
    expect(rep.points.every((p) => p.weightSqnrDb! > 10 && p.top1Pct! > 50)).toBe(true);

    const c = await strumgen(['sweep', spec, '--collect', '--out', join(dir, 'collected')], cache, slurmEnv);
    expect(c.exitCode, c.stderr).toBe(0);
    const again = JSON.parse(readFileSync(join(dir, 'collected', 'points.json'), 'utf8')) as SweepReport;
    expect(again.points).toEqual(rep.points);
  }, 180_000);
});
