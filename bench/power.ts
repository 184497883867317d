// Speed of `strumgen power` on one B = 16 PE (default preset strum-mip2q), synthesis and
// the OpenSTA power table cached (run once first to fill the cache), 2,000 zero-delay
// cycles: whole call, netlist parse + compile, simulation, and the gate simulator's raw
// speed. Optionally the glitch-aware Icarus run (--timed N).
// Run: npx tsx bench/power.ts [preset] [--cycles 2000] [--timed N]
// Numbers are recorded in docs/PERFORMANCE.md.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../src/config/load.ts';
import { cellLibrary } from '../src/power/cells.ts';
import { compileGateSim } from '../src/power/gatesim.ts';
import { runPower } from '../src/power/index.ts';
import { flatten, parseNetlist } from '../src/power/netlist.ts';
import { loadLiberty } from '../src/synth/liberty.ts';

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : undefined;
};
const preset = process.argv[2] && !process.argv[2].startsWith('--') ? process.argv[2] : 'strum-mip2q';
const cycles = arg('--cycles') ?? 2000;
const timed = arg('--timed');
const cfg = await loadConfig(preset, {});
const say = (m: string) => process.stderr.write(`${m}\n`);

say('warm-up run (fills the caches if needed) ...');
const warm = await runPower(cfg, { cycles: 50, onProgress: say });

const cpu0 = process.cpuUsage();
let t = performance.now();
const r = await runPower(cfg, { cycles, timedCycles: timed });
const wall = (performance.now() - t) / 1000;
const cpu = process.cpuUsage(cpu0);

t = performance.now();
const lib = cellLibrary(loadLiberty().text);
const text = readFileSync(join(warm.tools.synthDir, 'netlist.sta.v'), 'utf8');
const net = flatten(parseNetlist(text), r.design.top);
const parse = (performance.now() - t) / 1000;
t = performance.now();
const sim = compileGateSim(net, lib, net.ports.get('clk')!.net);
const compile = (performance.now() - t) / 1000;
// Raw settle speed after warm-up: inputs held, so this is the evaluation cost alone.
for (let i = 0; i < 2000; i++) {
  sim.edge();
  sim.settle();
}
t = performance.now();
const rawCpu0 = process.cpuUsage();
const n = 5000;
for (let i = 0; i < n; i++) {
  sim.edge();
  sim.settle();
}
const raw = (performance.now() - t) / 1000;
const rawCpuUse = process.cpuUsage(rawCpu0);
const rawCpu = (rawCpuUse.user + rawCpuUse.system) / 1e6;

const lines = [
  `${r.design.top}: ${net.leaves.length} cells, ${r.activity.cycles} cycles, ${r.activity.tilesChecked} tiles golden-checked`,
  `  runPower (synthesis and power table cached): ${wall.toFixed(2)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s CPU`,
  `  of which simulation (stimulus run + golden check): ${r.activity.simulateSeconds.toFixed(2)} s`,
  `  netlist parse + flatten ${parse.toFixed(2)} s, compile ${compile.toFixed(2)} s`,
  `  gate simulator, warm: ${((n * net.leaves.length) / raw / 1e6).toFixed(1)} M cell evaluations/s wall, ${((n * net.leaves.length) / rawCpu / 1e6).toFixed(1)} M per CPU-second (${(n / raw).toFixed(0)} cycles/s wall)`,
];
if (r.timed)
  lines.push(
    `  timed (Icarus + SDF), ${r.timed.cycles} cycles: ${r.timed.seconds.toFixed(1)} s, VCD ${(r.timed.vcdBytes / 1e6).toFixed(0)} MB streamed`,
  );
process.stdout.write(`${lines.join('\n')}\n`);
