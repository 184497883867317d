// Co-simulation at growing array sizes, per Verilator build mode (src/sim/build.ts):
// the cold model build (Verilator + g++, wall and CPU) and the model's speed.
//   raw:  the harness alone replaying a stimulus file (model loop, no checking)
//   full: runSim, the whole checked `strumgen sim` path (with --full)
// Usage: npx tsx bench/sim-scale.ts [--presets strum-mip2q,int8] [--sizes 4,8,16,32,64]
//          [--modes default,flat,pe-module,hierarchical,pe-models] [--cycles 1000000] [--full] [--seed 1]
// Mode 'default' (the default) is what `strumgen sim` picks for the array's size (defaultBuildMode).
// --cycles is the PE-cycle budget per run: vectors = max(1000, cycles / (rows * cols)).
// Each build runs in a fresh cache directory that already holds Verilator's runtime objects
// (compiled once up front, as in every build after a machine's first), so the figures are
// the model's own build. Builds run one at a time (shared machine). Prints a markdown table.
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { loadConfig } from '../src/config/load.ts';
import { childCpuSeconds as childCpu } from '../src/io/process.ts';
import {
  BUILD_MODES,
  type BuildMode,
  buildModel,
  defaultBuildMode,
  runSim,
  writeStimulus,
} from '../src/sim/index.ts';

const opt = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const presets = opt('--presets', 'strum-mip2q,int8').split(',');
const sizes = opt('--sizes', '4,8,16,32,64').split(',').map(Number);
const modes = opt('--modes', 'default').split(',') as (BuildMode | 'default')[];
const peCycles = Number(opt('--cycles', '1000000'));
const seed = Number(opt('--seed', '1'));
const full = process.argv.includes('--full');
const log = (s: string) => process.stderr.write(`${s}\n`);
// Three significant digits: a 64x64 array runs thousands of array-cycles per second, not millions.
const M = (x: number) => (x / 1e6).toPrecision(3);
for (const m of modes)
  if (m !== 'default' && !BUILD_MODES.includes(m)) throw new Error(`--modes: unknown ${m}`);

/** CPU s of the build's steps from its build.log: PE models (pe-models), array Verilator, array make (g++, link). */
function buildSteps(buildLog: string): string {
  const sum = { pe: 0, verilator: 0, cxx: 0 };
  for (const m of buildLog.matchAll(/^(\S+)([^\n]*)\n[\s\S]*?\([\d.]+ s wall, ([\d.]+) s CPU\)$/gm)) {
    const cpu = Number(m[3]);
    if (/Vpe\d/.test(m[2]!.split(' -LDFLAGS')[0]!)) sum.pe += cpu;
    else if (/verilator$/.test(m[1]!)) sum.verilator += cpu;
    else sum.cxx += cpu;
  }
  return `${sum.pe.toFixed(1)} / ${sum.verilator.toFixed(1)} / ${sum.cxx.toFixed(1)}`;
}

const runtimeCache = mkdtempSync(join(tmpdir(), 'strumgen-bench-scale-rt-'));
const out: string[] = [];
log(`bench/sim-scale: load average ${loadavg()[0]!.toFixed(1)}`);
try {
  for (const preset of presets) {
    for (const asked of modes) {
      for (const n of sizes) {
        const cfg = await loadConfig(preset, { 'array.rows': n, 'array.cols': n });
        const mode = asked === 'default' ? defaultBuildMode(cfg) : asked;
        const label = `${cfg.name} ${n}x${n} B=${cfg.pe.block}, ${mode}`;
        // Runtime objects first (not timed): build a 1x1 model into the shared runtime cache.
        process.env.STRUMGEN_CACHE = runtimeCache;
        await buildModel(await loadConfig(preset, { 'array.rows': 1, 'array.cols': 1 }), { mode });
        const dir = mkdtempSync(join(tmpdir(), 'strumgen-bench-scale-'));
        try {
          for (const e of readdirSync(join(runtimeCache, 'sim'))) {
            if (e.startsWith('runtime-'))
              cpSync(join(runtimeCache, 'sim', e), join(dir, 'sim', e), { recursive: true });
          }
          process.env.STRUMGEN_CACHE = dir;
          const c0 = childCpu();
          const load0 = loadavg()[0]!;
          const b = await buildModel(cfg, { mode, onProgress: log, timeoutMs: 3_600_000 });
          const buildCpu = childCpu() - c0;
          if (b.cached) throw new Error(`${label}: expected a cold build`);
          const steps = buildSteps(readFileSync(join(b.dir, 'build.log'), 'utf8'));
          const vectors = Math.max(1000, Math.round(peCycles / (n * n)));
          const file = join(dir, 'stim.bin');
          writeStimulus(cfg, file, { vectors, seed });
          const h0 = childCpu();
          const r = await execa(b.binary, ['--in', file, '--out', '/dev/null'], { reject: false });
          const m = /cycles=(\d+) outputs=(\d+) eval_ns=(\d+)/.exec(r.stderr);
          if (r.exitCode !== 0 || !m) throw new Error(`${label}: harness failed: ${r.stderr}`);
          const raw = Number(m[1]) / (Number(m[3]) / 1e9);
          // Per CPU second too: on a loaded machine the wall-clock rate mostly measures the load.
          const rawCpu = Number(m[1]) / Math.max(0.01, childCpu() - h0);
          let fullCol = '';
          if (full) {
            const f = await runSim(cfg, { vectors, seed, buildMode: mode, onProgress: log });
            if (!f.pass) throw new Error(`${label}: the checked run did not pass`);
            fullCol = ` ${M(f.arrayCyclesPerSec)} | ${(f.macsPerSec / 1e6).toFixed(0)} |`;
          }
          const row = `| ${cfg.name} | ${n}x${n} | ${mode} | ${b.seconds.toFixed(1)} | ${buildCpu.toFixed(1)} | ${steps} | ${vectors} | ${M(raw)} | ${M(rawCpu)} | ${((rawCpu * n * n * cfg.pe.block) / 1e6).toFixed(0)} |${fullCol} ${load0.toFixed(1)} |`;
          log(row);
          out.push(row);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }
    }
  }
} finally {
  rmSync(runtimeCache, { recursive: true, force: true });
}
process.stdout.write(
  [
    `load average at the end: ${loadavg()[0]!.toFixed(1)}`,
    '',
    `| config | array | build mode | cold build wall s | build CPU s | of which PE models / array Verilator / array g++ | vectors | raw M array-cycles/s (wall) | raw M array-cycles per CPU s | raw M MACs per CPU s |${full ? ' checked M array-cycles/s | checked M MACs/s |' : ''} load at build |`,
    `| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |${full ? ' ---: | ---: |' : ''} ---: |`,
    ...out,
    '',
  ].join('\n'),
);
