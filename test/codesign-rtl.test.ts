// The RTL of the mask scopes (docs/CODESIGN.md): 'group' = fixed-lane PEs behind one router
// per row and column group at the array edge, 'layer' = fixed-lane PEs and no router. Lint,
// Yosys read and Icarus against the golden model; the faults the issue names are caught:
// a fault in the edge router, a wrong shared mask and a wrong permutation (weights with a mask
// per PE); and one small Verilator co-simulation per scope (pass, and the wrong-mask stimulus
// caught on the same build). Three-level PEs (pe.mid): the same Icarus checks.
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config/resolve.ts';
import { Rng } from '../src/io/rng.ts';
import { applicableFaults, renderRtl } from '../src/rtl/index.ts';
import { runSim } from '../src/sim/index.ts';
import { randomStimulus, simulateAgainstGolden, verilatorLint, yosysRead } from './rtl-helpers.ts';

const group = (low: string) =>
  resolveConfig({
    name: `cd_group_${low}`,
    array: { rows: 2, cols: 4 },
    pe: { block: 8, low, maskScope: { kind: 'group', channels: 2 } },
  });
const layer = (low: string) =>
  resolveConfig({
    name: `cd_layer_${low}`,
    array: { rows: 2, cols: 2 },
    pe: { block: 8, low, maskScope: { kind: 'layer' } },
  });
// Three levels (pe.mid): H = 3 high, M = 2 INT4, 3 low lanes, so no lane boundary is aligned.
const layer3 = (low: string) =>
  resolveConfig({
    name: `cd_layer3_${low}`,
    array: { rows: 2, cols: 2 },
    pe: { block: 8, high: 3, low, maskScope: { kind: 'layer' }, mid: { lanes: 2, format: 'int', bits: 4 } },
  });
const CONFIGS = [
  ...['mip2q', 'dliq', 'sparse'].flatMap((low) => [group(low), layer(low)]),
  layer3('mip2q'),
  layer3('dliq'),
];
const text = (b: ReturnType<typeof renderRtl>, suffix: string) =>
  b.files.find((f) => f.name.endsWith(suffix))!.content;

describe('mask scope RTL (Icarus)', () => {
  it('has no router in the PE, rows x cols / G routers at the edge (group), none at all (layer)', () => {
    for (const cfg of CONFIGS) {
      const b = renderRtl(cfg);
      const isGroup = cfg.pe.maskScope?.kind === 'group';
      const routers = b.modules.filter((m) => m.role === 'route').map((m) => m.name);
      // The router module and the decode/mux halves it instantiates.
      expect(routers.length > 0).toBe(isGroup);
      let instances = 0;
      for (const r of routers) {
        expect(text(b, '_pe.v')).not.toMatch(new RegExp(`\\b${r}\\b`));
        instances += (text(b, '_array.v').match(new RegExp(`^\\s*${r}\\b`, 'gm')) ?? []).length;
      }
      // One router instance inside the array's generate loops over rows and column groups.
      expect(instances).toBe(isGroup ? 1 : 0);
      expect(applicableFaults(cfg).includes('route-off-by-one')).toBe(isGroup);
    }
  });

  it('lints, reads in Yosys and matches the golden model cycle for cycle', async () => {
    for (const cfg of CONFIGS) {
      const b = renderRtl(cfg);
      expect(`${await verilatorLint(b)}${await yosysRead(b)}`).toBe('');
      expect(await simulateAgainstGolden(cfg, b, randomStimulus(cfg, new Rng(11), 8))).toEqual([]);
    }
  }, 120_000);

  it('catches a fault in the edge router, a wrong shared mask and a wrong permutation', async () => {
    const g = group('mip2q');
    const l = layer('dliq');
    const stim = (cfg: typeof g, perPeMasks: boolean) => randomStimulus(cfg, new Rng(12), 8, { perPeMasks });
    expect(
      await simulateAgainstGolden(g, renderRtl(g, { fault: 'route-off-by-one' }), stim(g, false)),
    ).not.toEqual([]);
    expect(await simulateAgainstGolden(g, renderRtl(g), stim(g, true))).not.toEqual([]);
    expect(await simulateAgainstGolden(l, renderRtl(l), stim(l, true))).not.toEqual([]);
    const l3 = layer3('mip2q');
    expect(await simulateAgainstGolden(l3, renderRtl(l3), stim(l3, true))).not.toEqual([]);
    // The faulty variants stay lint-clean (the co-simulation builds them too).
    expect(await verilatorLint(renderRtl(g, { fault: 'route-off-by-one' }))).toBe('');
  }, 120_000);
});

describe('mask scope co-simulation (Verilator, one small build per scope)', () => {
  for (const cfg of [group('mip2q'), layer('dliq')]) {
    it(`${cfg.name}: bit-exact, and weights with a mask per PE are caught`, async () => {
      const ok = await runSim(cfg, { vectors: 3000, seed: 4 });
      expect(ok.pass).toBe(true);
      expect(ok.mismatches).toBe(0);
      const bad = await runSim(cfg, { vectors: 3000, seed: 4, stimulusFault: 'per-pe-masks' });
      expect(bad.pass).toBe(false);
      expect(bad.mismatches).toBeGreaterThan(0);
    }, 300_000);
  }
});
