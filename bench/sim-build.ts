// Build CPU of the Verilator model of one array (default 8x8 strum-mip2q, build mode pe-module),
// in a fresh cache directory: one cold build (Verilator's runtime objects and the precompiled
// header compiled too), then --warm N builds of the same model with those kept ("warm-runtime":
// what every build after a machine's first costs; the model's own cache entry removed each time).
// Usage: npx tsx bench/sim-build.ts [--rows 8] [--cols 8] [--preset strum-mip2q] [--warm 3]
//        [--root DIR]   (measure the buildModel of another checkout, e.g. a `git archive` for A/B)
// CPU seconds of the child processes (Verilator, make, g++) from /proc/self/stat; one line per build.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { childCpuSeconds } from '../src/io/process.ts';

const opt = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const root = resolve(opt('--root', join(import.meta.dirname, '..')));
const rows = Number(opt('--rows', '8'));
const cols = Number(opt('--cols', `${rows}`));
const preset = opt('--preset', 'strum-mip2q');
const warm = Number(opt('--warm', '3'));

const { loadConfig } = await import(join(root, 'src/config/load.ts'));
const { buildModel } = await import(join(root, 'src/sim/index.ts'));
const cache = mkdtempSync(join(tmpdir(), 'strumgen-bench-build-'));
process.env.STRUMGEN_CACHE = cache;
const load = () => loadavg()[0]!.toFixed(1);
try {
  const cfg = await loadConfig(preset, { 'array.rows': rows, 'array.cols': cols });
  for (let i = 0; i <= warm; i++) {
    const l0 = load();
    const c0 = childCpuSeconds();
    const b = await buildModel(cfg, { mode: 'pe-module' });
    const cpu = childCpuSeconds() - c0;
    const what = i === 0 ? 'cold' : 'warm-runtime';
    const pch = 'pch' in b ? ` pch=${b.pch}` : '';
    console.log(
      `${root} ${preset} ${rows}x${cols} ${what}: ${cpu.toFixed(2)} s CPU, ${b.seconds.toFixed(1)} s wall, load ${l0}-${load()}${pch}`,
    );
    rmSync(b.dir, { recursive: true, force: true });
  }
} finally {
  rmSync(cache, { recursive: true, force: true });
}
