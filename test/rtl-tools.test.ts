// Every preset and a seeded set of random valid configs must generate Verilog that
// Verilator lints with -Wall without a single warning, that Yosys reads and elaborates,
// and that computes exactly what the golden model computes (Icarus Verilog, random tiles).
// Tool runs go at most two at a time (the CI machine has two cores).
import { describe, expect, it } from 'vitest';
import { PRESETS } from '../src/config/presets.ts';
import { configOf, type ResolvedDpu, resolveConfig } from '../src/config/resolve.ts';
import { toolPath, which } from '../src/config/toolchain.ts';
import { formatOf } from '../src/format/registry.ts';
import { sdpOperandOf } from '../src/format/sdp.ts';
import { Rng } from '../src/io/rng.ts';
import { applicableFaults, planRtl, renderRtl } from '../src/rtl/index.ts';
import {
  FORMAT_MODES,
  pool,
  randomDescription,
  randomStimulus,
  simulateAgainstGolden,
  verilatorLint,
  yosysRead,
} from './rtl-helpers.ts';
// The toy format of the tests (pe.low 'ternary', test/fixtures/formats): it goes through every check below.
import './fixtures/formats/ternary.ts';

const RANDOM_CONFIGS = 12;
const SEED = 20251122;

function randomConfigs(): ResolvedDpu[] {
  const r = new Rng(SEED);
  const out: ResolvedDpu[] = [];
  while (out.length < RANDOM_CONFIGS) {
    const i = out.length;
    // Stratified: every format/mode pair in turn; the first two pinned to the array extremes.
    const size = i === 0 ? { rows: 1, cols: 1 } : i === 1 ? { rows: 16, cols: 16 } : {};
    const desc = randomDescription(r, `rnd${i}`, {
      formatMode: FORMAT_MODES[i % FORMAT_MODES.length],
      ...size,
    });
    // Odd static draws decode the router selects per column (pe.routeDecode 'column').
    const pe = desc.pe!;
    if (i % 2 === 1 && pe.mode === 'static' && pe.low !== 'none') desc.pe = { ...pe, routeDecode: 'column' };
    try {
      out.push(resolveConfig(desc));
    } catch {
      // an invalid combination: draw again (the generator aims near the rules, not inside them)
    }
  }
  return out;
}

const presets = Object.entries(PRESETS).map(([key, p]) => resolveConfig(p.config, key));
// The static presets with their router selects decoded per column instead of in each PE: one
// per router shape (B, H, low lanes or none): column decoding changes only the router.
const routerShape = (c: ResolvedDpu) => `${c.pe.block}/${c.pe.high}/${c.derived.lowLanes > 0}`;
const columnPresets = presets
  .filter((c) => c.pe.mode === 'static' && c.pe.low !== 'none' && !c.pe.maskScope && c.pe.high > 0)
  .filter((c, i, all) => all.findIndex((d) => routerShape(d) === routerShape(c)) === i)
  .map((c) =>
    resolveConfig({ ...configOf(c), name: `${c.name}_col`, pe: { ...c.pe, routeDecode: 'column' } }),
  );
// SDP activation presets run about 6x slower under Icarus than the StruM ones (the selector's
// many nets); test/sdp.test.ts runs the selector, its fault and SDP corner configs under Icarus
// and the preset's PE under Verilator, so they are linted and read here but not simulated
// again. Static SDP (weights, no selector) is simulated like every preset.
const icarusPresets = presets.filter((c) => sdpOperandOf(c) !== 'activations');
const randoms = randomConfigs();
// The widest router the issue asks for (B = 32, H = 16), pipelined, as a fixed case.
const wide = resolveConfig({
  name: 'wide_route',
  array: { rows: 2, cols: 3 },
  pe: { block: 32, high: 16, low: 'mip2q' },
  pipeline: { multiply: true, adderTree: true },
});
// Static DLIQ shares one shift over the low lanes' sum: its width corners (low sum cut to a
// narrow accumulator, one low lane, no high lane, unsigned activations, pipelined shift).
const dliqCorners = [
  { pe: { block: 8, high: 3, low: 'dliq' }, accumulator: { bits: 8 }, dliq: { shiftMax: 7 } },
  { pe: { block: 4, high: 3, low: 'dliq' }, activation: { signed: false }, pipeline: { multiply: true } },
  { pe: { block: 4, high: 0, low: 'dliq' }, dliq: { granularity: 'layer' }, pipeline: { multiply: true } },
  {
    pe: { block: 16, high: 4, low: 'dliq' },
    activation: { bits: 16 },
    lowBits: 8,
    accumulator: { bits: 24 },
  },
].map((c, i) => resolveConfig({ name: `dliq_corner${i}`, array: { rows: 2, cols: 2 }, ...c }));
// The test-only toy format (a spec file and a lane module), static with a router and dynamic.
const toys = [
  { name: 'toy_ternary', pe: { block: 8, high: 3, low: 'ternary' } },
  {
    name: 'toy_ternary_dyn',
    pe: { block: 4, low: 'ternary', mode: 'dynamic' },
    activation: { signed: false },
  },
].map((c) => resolveConfig({ array: { rows: 2, cols: 3 }, ...c }));
// The 1-3-bit lanes beside the ternary preset (docs/LOWBIT.md): binary (sign select) and INT3.
const lowbits = [
  { name: 'lowbit_binary', pe: { block: 4, high: 0, low: 'binary' } },
  {
    name: 'lowbit_int3',
    pe: { block: 4, high: 0, low: 'lowint' },
    lowBits: 3,
    activation: { signed: false },
  },
].map((c) => resolveConfig({ array: { rows: 2, cols: 2 }, ...c }));
const all = [...presets, columnPresets[0]!, ...randoms, wide, ...dliqCorners, ...toys, ...lowbits];
describe('generated Verilog passes the tools', () => {
  it('has the tools (scripts/setup installs verilator, yosys and iverilog)', () => {
    expect({
      verilator: !!toolPath('verilator'),
      yosys: !!toolPath('yosys'),
      iverilog: !!which('iverilog'),
    }).toEqual({ verilator: true, yosys: true, iverilog: true });
  });

  it('covers what the issue asks: formats, modes, B and H extremes, arrays 1x1..16x16', () => {
    const pairs = new Set(randoms.map((c) => `${c.pe.low}/${c.pe.mode}`));
    expect(pairs.size).toBe(FORMAT_MODES.length);
    const columns = randoms.filter((c) => c.pe.routeDecode === 'column' && planRtl(c).route !== null);
    expect(columns.length).toBeGreaterThanOrEqual(2);
    const sizes = randoms.map((c) => c.array.rows * c.array.cols);
    expect(Math.min(...sizes)).toBe(1);
    expect(Math.max(...sizes)).toBe(256);
  });

  it(`Verilator --lint-only -Wall: no warnings (${all.length} configs)`, async () => {
    const results = await pool(all, 2, async (cfg) => ({ cfg, out: await verilatorLint(renderRtl(cfg)) }));
    const bad = results.filter((r) => r.out !== '');
    expect(bad.map((b) => `${b.cfg.name}: ${b.out}`).join('\n')).toBe('');
  }, 300_000);

  it(`Yosys read_verilog; hierarchy -check; proc; opt: no errors (${all.length} configs)`, async () => {
    const results = await pool(all, 2, async (cfg) => ({ cfg, out: await yosysRead(renderRtl(cfg)) }));
    const bad = results.filter((r) => r.out !== '');
    expect(bad.map((b) => `${b.cfg.name}: ${b.out}`).join('\n')).toBe('');
  }, 300_000);

  // Icarus elaborates the library's generate scopes slowly (a 16x16 array took over 6 minutes
  // of CPU): arrays above 64 PEs are linted and read above, and co-simulated bit-exact by
  // Verilator up to 32x32 (sim-scale.test.ts), not run here.
  const icarusConfigs = all.filter(
    (c) => c.array.rows * c.array.cols <= 64 && sdpOperandOf(c) !== 'activations',
  );
  it(`matches the golden model cycle for cycle under Icarus (${icarusConfigs.length} configs)`, async () => {
    const results = await pool(icarusConfigs, 2, async (cfg) => {
      const stim = randomStimulus(cfg, new Rng(cfg.hash.charCodeAt(0)), 6);
      return { cfg, problems: await simulateAgainstGolden(cfg, renderRtl(cfg), stim) };
    });
    const bad = results.filter((r) => r.problems.length);
    expect(bad.map((b) => `${b.cfg.name}: ${b.problems.join('; ')}`).join('\n')).toBe('');
  }, 300_000);

  it('the fault variants lint and read as cleanly (the co-simulation compiles them too)', async () => {
    const cases = [...presets, ...columnPresets, ...toys].flatMap((cfg) =>
      applicableFaults(cfg).map((fault) => renderRtl(cfg, { fault })),
    );
    const results = await pool(cases, 2, async (b) => `${await verilatorLint(b)}${await yosysRead(b)}`);
    expect(results.filter((r) => r !== '')).toEqual([]);
  }, 300_000);

  it('every applicable test-only fault is caught by the same simulation (presets, both routeDecode)', async () => {
    const cases = [...icarusPresets, ...columnPresets, ...toys].flatMap((cfg) =>
      applicableFaults(cfg).map((fault) => ({ cfg, fault })),
    );
    expect(cases.length).toBeGreaterThanOrEqual(23);
    const results = await pool(cases, 2, async ({ cfg, fault }) => {
      const drawn = randomStimulus(cfg, new Rng(7), 6);
      // Layer metadata at its largest candidate (LP's scale: small scales round some codes alike).
      const last = formatOf(cfg).metaCandidates.at(-1)!;
      const stim = drawn.layerMeta.length ? { ...drawn, layerMeta: last } : drawn;
      return {
        name: `${cfg.name}/${fault}`,
        problems: await simulateAgainstGolden(cfg, renderRtl(cfg, { fault }), stim),
      };
    });
    expect(results.filter((r) => r.problems.length === 0).map((r) => r.name)).toEqual([]);
  }, 300_000);
});
