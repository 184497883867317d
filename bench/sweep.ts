// Throughput of `strumgen sweep` on PE-level points.
// - Uncached: from a finished sweep's own records (points.json): each point's job seconds
//   (synthesis, power, accuracy, SQNR as measured by its child) and the sweep's wall time
//   if given (--wall SECONDS, the elapsed time the sweep printed).
// - Cached: the same spec run again with every record cached (what a resumed or re-reported
//   sweep costs), timed here end to end, CLI start-up included.
// Run: npx tsx bench/sweep.ts <spec.json> <report dir of its finished run> [--wall SECONDS --measured N]
// Numbers are recorded in docs/PERFORMANCE.md.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import type { SweepReport } from '../src/sweep/report.ts';

const [spec, dir] = process.argv.slice(2);
if (!spec || !dir) throw new Error('usage: npx tsx bench/sweep.ts <spec.json> <report dir> [--wall SECONDS]');
const flag = (name: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : undefined;
};
/** The sweep's printed elapsed time, and how many points it measured (the rest were cached). */
const wall = flag('--wall');

const r = JSON.parse(readFileSync(join(dir, 'points.json'), 'utf8')) as SweepReport;
const ok = r.points.filter((p) => p.status === 'ok');
const secs = ok.map((p) => p.seconds).sort((a, b) => a - b);
const sum = secs.reduce((a, b) => a + b, 0);
const median = secs[Math.floor(secs.length / 2)] ?? Number.NaN;
console.log(`points measured: ${ok.length} of ${r.points.length}; metrics ${r.spec.metrics.join(', ')}`);
console.log(
  `uncached, job seconds per point: median ${median.toFixed(1)} s, mean ${(sum / ok.length).toFixed(1)} s, max ${secs.at(-1)?.toFixed(1)} s -> ${((3600 * ok.length) / sum).toFixed(0)} points/hour of job time`,
);
if (wall)
  console.log(
    `uncached, wall: ${wall} s for ${ok.length} points -> ${((3600 * ok.length) / wall).toFixed(0)} points/hour`,
  );

const out = mkdtempSync(join(tmpdir(), 'strumgen-bench-sweep-'));
try {
  const t = performance.now();
  const run = await execa('node', ['bin/strumgen.js', 'sweep', spec, '--out', join(out, 'report')], {
    reject: false,
  });
  const s = (performance.now() - t) / 1000;
  const cached = /(\d+) already measured/.exec(run.stderr)?.[1];
  console.log(
    `cached re-run: ${s.toFixed(1)} s wall for ${r.points.length} points (${cached} cached, exit ${run.exitCode}) -> ${((3600 * r.points.length) / s).toFixed(0)} points/hour`,
  );
} finally {
  rmSync(out, { recursive: true, force: true });
}
