// Co-simulation throughput on one config (8x8 static MIP2Q, B = 16), in one run:
//   raw:  the harness alone replaying a stimulus file (the Verilator model loop, no checking)
//   full: runSim, the whole `strumgen sim` path (stimulus, simulation, checking in parallel)
// plus the cold build time of the 8x8 model and of a 16x16 one (fresh cache dirs).
// Usage: npx tsx bench/sim.ts [--vectors 200000] [--seed 1] [--no-16] [--int8]
// Prints a markdown table for docs/PERFORMANCE.md; progress goes to stderr. CPU times of
// child processes (Verilator, g++, the harness) come from /proc/self/stat (Linux).
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { loadConfig } from '../src/config/load.ts';
import type { ResolvedDpu } from '../src/config/resolve.ts';
import { childCpuSeconds as childCpu } from '../src/io/process.ts';
import { buildModel, runSim, writeStimulus } from '../src/sim/index.ts';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const vectors = arg('--vectors', 200_000);
const seed = arg('--seed', 1);
const log = (s: string) => process.stderr.write(`${s}\n`);
const M = (x: number) => (x / 1e6).toFixed(3);

async function coldBuild(cfg: ResolvedDpu) {
  const dir = mkdtempSync(join(tmpdir(), 'strumgen-bench-sim-'));
  const saved = process.env.STRUMGEN_CACHE;
  process.env.STRUMGEN_CACHE = dir;
  const c0 = childCpu();
  try {
    const b = await buildModel(cfg, { onProgress: log });
    return { wall: b.seconds, cpu: childCpu() - c0 };
  } finally {
    if (saved === undefined) delete process.env.STRUMGEN_CACHE;
    else process.env.STRUMGEN_CACHE = saved;
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Row {
  what: string;
  cycles: number;
  macs: number;
  wall: number;
  cpu: string;
  checked: boolean;
}

async function measure(preset: string, rows: number, cols: number): Promise<Row[]> {
  const cfg = await loadConfig(preset, { 'array.rows': rows, 'array.cols': cols });
  const B = cfg.pe.block;
  const label = `${cfg.name} ${rows}x${cols} B=${B}`;
  const build = await buildModel(cfg, { onProgress: log });
  const dir = mkdtempSync(join(tmpdir(), 'strumgen-bench-sim-'));
  try {
    // Raw: the same stream the full path makes, written to a file, replayed by the harness alone.
    const file = join(dir, 'stim.bin');
    const st = writeStimulus(cfg, file, { vectors, seed });
    log(`${label}: stimulus ${st.cycles} cycles, ${(st.bytes / 1e6).toFixed(1)} MB`);
    const c0 = childCpu();
    const r = await execa(build.binary, ['--in', file, '--out', '/dev/null'], { reject: false });
    const harnessCpu = childCpu() - c0;
    const m = /cycles=(\d+) outputs=(\d+) eval_ns=(\d+)/.exec(r.stderr);
    if (r.exitCode !== 0 || !m) throw new Error(`harness failed: ${r.stderr}`);
    const rawCycles = Number(m[1]);
    const rawWall = Number(m[3]) / 1e9;
    log(`${label}: raw model loop ${M(rawCycles / rawWall)} M cycles/s (${harnessCpu.toFixed(2)} s CPU)`);

    // Full path.
    const full = await runSim(cfg, { vectors, seed, onProgress: log });
    if (!full.pass) throw new Error(`${label}: the full run did not pass`);
    log(`${label}: full path ${M(full.arrayCyclesPerSec)} M cycles/s`);
    const macs = vectors * rows * cols * B;
    return [
      {
        what: `${label}: raw model loop (harness alone, file in, no checking)`,
        cycles: rawCycles,
        macs,
        wall: rawWall,
        cpu: `${harnessCpu.toFixed(2)} harness`,
        checked: false,
      },
      {
        what: `${label}: full \`strumgen sim\` path (runSim: stimulus + simulation + checking)`,
        cycles: full.cycles,
        macs: full.macs,
        wall: full.simSeconds,
        cpu: `${full.cpuSeconds.node.toFixed(2)} node + ${full.cpuSeconds.harness.toFixed(2)} harness`,
        checked: true,
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

log(`bench/sim: ${vectors} vectors, seed ${seed}, load average ${loadavg()[0]!.toFixed(1)}`);
const rows = await measure('strum-mip2q', 8, 8);
if (process.argv.includes('--int8')) rows.push(...(await measure('int8', 8, 8)));
const [raw, full] = rows;

const builds: string[] = [];
for (const n of process.argv.includes('--no-16') ? [8] : [8, 16]) {
  const cfg = await loadConfig('strum-mip2q', { 'array.rows': n, 'array.cols': n });
  const b = await coldBuild(cfg);
  log(`cold build ${n}x${n}: ${b.wall.toFixed(1)} s wall, ${b.cpu.toFixed(1)} s CPU`);
  builds.push(`| strum_mip2q ${n}x${n}, B=16 | ${b.wall.toFixed(1)} | ${b.cpu.toFixed(1)} |`);
}

const out = [
  `load average at the end: ${loadavg()[0]!.toFixed(1)}`,
  '',
  '| run | cycles | wall s | CPU s | M array-cycles/s | M MACs/s (checked for the full path) |',
  '| --- | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map(
    (r) =>
      `| ${r.what} | ${r.cycles} | ${r.wall.toFixed(2)} | ${r.cpu} | ${M(r.cycles / r.wall)} | ${(r.macs / r.wall / 1e6).toFixed(1)}${r.checked ? '' : ' (simulated)'} |`,
  ),
  '',
  `full / raw (wall): ${(full!.cycles / full!.wall / (raw!.cycles / raw!.wall)).toFixed(2)}`,
  '',
  '| cold model build (Verilator + g++) | wall s | CPU s |',
  '| --- | ---: | ---: |',
  ...builds,
];
process.stdout.write(`${out.join('\n')}\n`);
