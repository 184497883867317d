// Power from simulated activity on tiny PEs (B = 2): the liberty function parser, the
// gate simulator toggle for toggle against Icarus, the golden check catching a wrong
// netlist, the a = 0.1 self-check against OpenSTA's uniform report, and an idle PE.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.ts';
import { loadConfig } from '../src/config/load.ts';
import type { ResolvedDpu } from '../src/config/resolve.ts';
import { OSU018_LIBERTY } from '../src/config/toolchain.ts';
import { Rng } from '../src/io/rng.ts';
import { cellLibrary, evalExpr, parseFunction } from '../src/power/cells.ts';
import { compileGateSim } from '../src/power/gatesim.ts';
import { cellModels, icarusToggles } from '../src/power/icarus.ts';
import { PowerCheckError, type PowerReport, runPower } from '../src/power/index.ts';
import { flatten, parseNetlist } from '../src/power/netlist.ts';
import { loadLiberty } from '../src/synth/liberty.ts';
import { tempDirs } from './temp-dirs.ts';

const tempDir = tempDirs();
const cacheDir = tempDir('strumgen-power-cache-');
let cfg: ResolvedDpu;
let report: PowerReport;

beforeAll(async () => {
  cfg = await loadConfig('strum-mip2q', { 'pe.block': 2 });
  report = await runPower(cfg, { baseline: true, cycles: 600, cacheDir });
}, 300_000);

describe('liberty functions', () => {
  it('parses the operators of liberty functions with their precedence', () => {
    const f = (s: string, env: Record<string, number>) => evalExpr(parseFunction(s), (n) => env[n]!);
    expect(f('(!((A B)+C))', { A: 1, B: 1, C: 0 })).toBe(0);
    expect(f('(!((A B)+C))', { A: 1, B: 0, C: 0 })).toBe(1);
    expect(f("A' & B | C", { A: 0, B: 1, C: 0 })).toBe(1);
    expect(f('A ^ B * C', { A: 1, B: 1, C: 0 })).toBe(1); // & binds tighter than ^
    expect(f('A | B ^ C', { A: 0, B: 1, C: 1 })).toBe(0); // ^ binds tighter than |
    expect(() => parseFunction('(A B')).toThrow(/unbalanced/);
  });

  it('reads every osu018 cell: functions, flip-flops, and what it cannot simulate', () => {
    const lib = cellLibrary(readFileSync(OSU018_LIBERTY, 'utf8'));
    expect(lib.cells.get('FAX1')!.outputs.size).toBe(2);
    expect(lib.cells.get('DFFPOSX1')!.ff!.clock).toBe('CLK');
    expect([...lib.unsupported.keys()].sort()).toEqual(['DFFNEGX1', 'LATCH', 'TBUFX1', 'TBUFX2']);
    expect(lib.nominalVoltage).toBe(1.8);
  });
});

describe('power of a B=2 MIP2Q PE from simulated activity', () => {
  it('every tile of the run equals the golden model; activity and power are reported per role', () => {
    const a = report.activity;
    expect(a.mismatches).toBe(0);
    expect(a.tilesChecked).toBeGreaterThan(0);
    expect(a.stimulus).toMatch(/conv2d_417/);
    const roles = report.power.byRole;
    for (const r of ['lane', 'route', 'adder_tree', 'accumulator'])
      expect(roles[r]!.totalW).toBeGreaterThan(0);
    const sum = Object.values(roles).reduce((s, r) => s + r.totalW, 0);
    expect(sum).toBeCloseTo(report.power.totalW, 12);
    const p = report.power;
    expect(p.internalW + p.switchingW + p.leakageW).toBeCloseTo(p.totalW, 12);
    expect(Object.keys(p.byModule)).toEqual(
      expect.arrayContaining(['strum_lane_full', 'strum_lane_mip2q', 'strum_gather']),
    );
    expect(p.inputNetsW).toBeGreaterThan(0);
  });

  it('self-check: the per-instance model at a = 0.1 equals OpenSTA uniform report', () => {
    expect(report.selfCheck.relError).toBeLessThan(1e-5);
    expect(report.comparison!.baseline.selfCheck.relError).toBeLessThan(1e-5);
  });

  it('--baseline: the INT8 PE with the same stimulus, and the change', () => {
    const c = report.comparison!;
    expect(c.baseline.design.pe.low).toBe('none');
    expect(c.baseline.activity.mismatches).toBe(0);
    expect(c.powerChangePct).toBeCloseTo(
      (100 * (report.power.totalW - c.baseline.power.totalW)) / c.baseline.power.totalW,
      9,
    );
    expect(c.roleDeltaW.route).toBeCloseTo(report.power.byRole.route!.totalW, 12);
  });

  it('a PE with all-zero activations and weights is leakage plus clock (near idle)', async () => {
    const B = cfg.pe.block;
    const L = cfg.derived.lowCount;
    const zero = {
      name: 'zeros',
      N: 2,
      // Long tiles: clear and capture toggle only at tile ends (each toggle moves the
      // accumulator's 2 x 32 capture/clear gates, about 0.4 mW per toggle per cycle).
      K: 128 * B,
      layerMeta: [],
      blocks: Array.from({ length: 2 }, () =>
        Array.from({ length: 128 }, () => ({
          low: Array.from({ length: B }, (_, i) => i < L),
          codes: new Array(B).fill(0),
          meta: [],
        })),
      ),
    };
    const idle = await runPower(cfg, { weights: zero, acts: 'zero', cycles: 300, cacheDir });
    expect(idle.activity.mismatches).toBe(0);
    const p = idle.power;
    expect((p.totalW - p.idleW) / p.totalW).toBeLessThan(0.05);
    expect(p.idleW).toBeCloseTo(report.power.idleW, 12);
    expect(report.power.totalW).toBeGreaterThan(2 * p.totalW);
  });

  it('a deliberately wrong gate netlist is caught by the golden check', async () => {
    // One XOR in the accumulator's adder turned into an XNOR.
    const wrong = (text: string) => {
      const start = text.indexOf('module strum_accumulator');
      const at = text.indexOf('XOR2X1 ', start);
      if (start < 0 || at < 0) throw new Error('no XOR2X1 in the accumulator');
      return `${text.slice(0, at)}XNOR2X1 ${text.slice(at + 'XOR2X1 '.length)}`;
    };
    const e = await runPower(cfg, { weights: 'random', cycles: 200, cacheDir, mutateNetlist: wrong }).catch(
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(PowerCheckError);
    expect((e as Error).message).toMatch(/disagrees with the golden model/);
  });
});

describe('glitch-aware activity (--timed)', () => {
  it('Icarus with SDF delays: same settled results as the golden-checked run, more toggles than zero delay', async () => {
    const r = await runPower(cfg, { weights: 'random', cycles: 60, timedCycles: 40, cacheDir });
    const t = r.timed!;
    expect(t.resultsChecked).toBe(t.cycles);
    // Glitches only add toggles (same settled values every cycle); the SDF must have taken.
    expect(t.power.totalW).toBeGreaterThan(1.05 * t.zeroDelayTotalW);
    expect(t.clockNs).toBeGreaterThan(r.area.fmaxMhz > 0 ? 1000 / r.area.fmaxMhz : 0);
  }, 180_000);
});

describe('the gate simulator against Icarus', () => {
  it('counts the same toggles on every cell output pin (zero delay, random inputs)', async () => {
    const dir = report.tools.synthDir;
    const text = readFileSync(join(dir, 'netlist.sta.v'), 'utf8');
    const lib = loadLiberty();
    const net = flatten(parseNetlist(text), report.design.top);
    const sim = compileGateSim(net, cellLibrary(lib.text), net.ports.get('clk')!.net);
    const inputs = [...net.ports].filter(([n, p]) => p.dir === 'input' && n !== 'clk');
    const rng = new Rng(7);
    const N = 150;
    const from = 4;
    const vectors = Array.from({ length: N }, (_, t) =>
      Uint8Array.from(inputs, ([n]) => (n === 'rst' ? (t < 3 ? 1 : rng.chance(0.02) ? 1 : 0) : rng.below(2))),
    );
    for (let t = 0; t < N; t++) {
      if (t === from) sim.resetCounts();
      if (t > 0) sim.edge();
      inputs.forEach(([, p], i) => {
        sim.v[p.net] = vectors[t]![i]!;
      });
      sim.settle();
    }
    const key = (s: { leaf: number; pin: string }) => `${net.leaves[s.leaf]!.path}/${s.pin}`;
    const work = tempDir('strumgen-icarus-');
    const cells = await cellModels(lib, 'yowasp', cacheDir);
    const ica = await icarusToggles({
      dir: work,
      netlist: join(dir, 'netlist.sta.v'),
      cells,
      top: report.design.top,
      clock: 'clk',
      inputBits: inputs.map(([n]) => n),
      vectors,
      from,
      outputs: new Set(sim.slots.map(key)),
    });
    expect(ica.toggles.size).toBe(sim.slots.length);
    const diff = sim.slots.filter((s, i) => ica.toggles.get(key(s)) !== sim.toggles[i]);
    expect(
      diff.map((s) => `${key(s)}: ${ica.toggles.get(key(s))} vs ${sim.toggles[sim.slots.indexOf(s)]}`),
    ).toEqual([]);
    const total = sim.toggles.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(sim.slots.length); // the run does toggle
  }, 180_000);
});

describe('strumgen power (CLI)', () => {
  it('finds the bundled model from any working directory and writes its report beside the RTL', async () => {
    const dir = tempDir('strumgen-power-cwd-');
    const cwd = process.cwd();
    const cache = process.env.STRUMGEN_CACHE;
    const [stdout, stderr] = [process.stdout.write, process.stderr.write];
    process.chdir(dir);
    process.env.STRUMGEN_CACHE = cacheDir; // the synthesis of beforeAll's config is cached there
    process.stdout.write = (() => true) as typeof process.stdout.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    let code: number;
    try {
      code = await main(['power', 'strum-mip2q', '--block', '2', '--cycles', '40']);
    } finally {
      [process.stdout.write, process.stderr.write] = [stdout, stderr];
      process.chdir(cwd);
      if (cache === undefined) delete process.env.STRUMGEN_CACHE;
      else process.env.STRUMGEN_CACHE = cache;
    }
    expect(code).toBe(0);
    const report = join(dir, 'rtl-out', `${cfg.name}-${cfg.shortHash.slice(0, 8)}`, 'power', 'power.json');
    expect(existsSync(report)).toBe(true);
    expect(JSON.parse(readFileSync(report, 'utf8')).activity.stimulus).toMatch(/conv2d_417/);
  }, 300_000);
});
