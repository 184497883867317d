// LP as a lane format (pe.low 'lp', src/format/lp-format.ts): the grid value the lane computes,
// the config rules, and LPQ over the hardware quantizer (src/quant/lpq-layer.ts). The RTL side
// (lint, Yosys, Icarus and Verilator co-simulation, the decoder fault) runs with the presets in
// rtl-tools.test.ts and sim.test.ts.
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config/resolve.ts';
import {
  lpCodes,
  lpDatapath,
  lpDecode,
  lpGrid,
  lpGridSf,
  lpGridValue,
  lpHardwareValue,
} from '../src/format/lp.ts';
import { formatOf } from '../src/format/registry.ts';
import { Rng } from '../src/io/rng.ts';
import { makeScheme } from '../src/quant/evaluate.ts';
import type { Layer } from '../src/quant/load.ts';
import { lpqExhaustiveOver, lpqGeneticOver } from '../src/quant/lpq.ts';
import { lpqLayer } from '../src/quant/lpq-layer.ts';
import { quantizeMatrix } from '../src/quant/quantize.ts';
import { configProblems } from './config-helpers.ts';

const problems = (desc: Record<string, unknown>) =>
  configProblems({ name: 'x', pe: { block: 8, low: 'lp' }, ...desc });

describe('LP lane format', () => {
  it('grid value = sign * min(qmax, round half up(|hv| * 2^(t-R))), by exact rationals, on every code and t (n <= 6)', () => {
    for (let n = 3; n <= 6; n++) {
      for (let es = 0; es <= n - 2; es++) {
        for (let rs = 1; rs <= n - 1; rs++) {
          for (const W of [8, 10]) {
            const p = { n, es, rs };
            const g = lpGrid(p, W, 3);
            if (g.R < 1) continue;
            for (const code of lpCodes(n)) {
              const hv = lpHardwareValue({ ...p, sf: 0 }, code);
              const mag = hv < 0n ? -hv : hv;
              for (let t = 0; t <= 3; t++) {
                const v = lpGridValue(p, code, t, g);
                const m = BigInt(Math.abs(v));
                // |v| is the integer m with (2m - 1) 2^R <= 2 |hv| 2^t < (2m + 1) 2^R, or qmax when above.
                const x2 = 2n * mag * 2n ** BigInt(t);
                const R = 2n ** BigInt(g.R);
                if (m === BigInt(g.qmax) && x2 >= (2n * m + 1n) * R) expect(true).toBe(true);
                else if (mag === 0n) expect(v).toBe(0);
                else {
                  expect((2n * m - 1n) * R <= x2 || m === 0n).toBe(true);
                  expect(x2 < (2n * m + 1n) * R).toBe(true);
                }
                if (v !== 0) expect(Math.sign(v)).toBe(hv < 0n ? -1 : 1);
                // The documented sf: v approximates the LP value at sf = lpGridSf (table error 2^-M, rounding 1/2).
                const lp = lpDecode({ ...p, sf: lpGridSf(p, g, t) }, code);
                if (Number.isFinite(lp) && Math.abs(lp) < g.qmax) {
                  expect(Math.abs(v - lp)).toBeLessThanOrEqual(
                    0.5 + Math.abs(lp) * 2 ** -(lpDatapath(p).M + 1) + 1e-9,
                  );
                }
              }
            }
          }
        }
      }
    }
  });

  it('the bound format: NaR reads 0, value range, edge codes hold zero, NaR and the regime extremes', () => {
    const cfg = resolveConfig({ name: 'x', pe: { block: 8, low: 'lp' }, lowBits: 5, lp: { es: 1, rs: 3 } });
    const f = formatOf(cfg);
    expect(f.codes.length).toBe(32);
    expect(f.decode(16, [7])).toBe(0);
    expect(f.valueRange).toEqual([-127, 127]);
    expect(f.edgeLowCodes).toEqual(expect.arrayContaining([0, 16, 1, 15, 17, 31]));
    expect(f.meta).toMatchObject([{ name: 'lpscale', scope: 'layer', bits: 3, max: 7 }]);
  });

  it('config errors name the field, one line each', () => {
    expect(problems({ lp: { rs: 5 } })).toEqual(['lp.rs: 5 must be an integer in 1..3']);
    expect(problems({ lp: { es: 3 } })).toEqual(['lp.es: 3 must be an integer in 0..2']);
    expect(problems({ lowBits: 2 })).toEqual(['lowBits: 2 must be an integer in 3..16']);
    expect(problems({ lowBits: 8, weightBits: 16, lp: { es: 4, rs: 7 } })).toEqual([
      'lp.es: es 4 with rs 7 spans 204 bits of magnitude (at most 48)',
    ]);
    expect(problems({ lp: { shiftMax: 99 } })).toEqual(['lp.shiftMax: must be at most 15']);
  });
});

describe('LPQ over any objective', () => {
  it('exhaustive = brute force; genetic is seeded and never better', () => {
    const rnd = new Rng(3);
    const table = new Map<string, number>();
    const problem = {
      n: 6,
      domain: { es: [0, 1, 2], rs: [1, 2, 3, 4, 5] },
      sfWindow: (es: number) => [-es, 4] as const,
      evaluate: (es: number, rs: number, sf: number) => {
        const k = `${es},${rs},${sf}`;
        if (!table.has(k)) table.set(k, Math.floor(rnd.float() * 50));
        return table.get(k)!;
      },
    };
    const ex = lpqExhaustiveOver(problem);
    let best = Infinity;
    for (const es of problem.domain.es)
      for (const rs of problem.domain.rs)
        for (let sf = -es; sf <= 4; sf++) best = Math.min(best, problem.evaluate(es, rs, sf));
    expect(ex.error).toBe(best);
    expect(problem.evaluate(ex.params.es, ex.params.rs, ex.params.sf)).toBe(best);
    const g = lpqGeneticOver(problem, { seed: 9 });
    expect(lpqGeneticOver(problem, { seed: 9 })).toEqual(g);
    expect(g.error).toBeGreaterThanOrEqual(ex.error);
  });

  it('lpqLayer returns the exhaustive optimum of the hardware quantizer (weight and output objectives)', () => {
    const rnd = new Rng(11);
    const N = 4;
    const K = 32;
    const data = Float32Array.from(
      { length: N * K },
      () => (rnd.float() - 0.5) * (rnd.float() < 0.1 ? 1 : 0.1),
    );
    const layer: Layer = { name: 'tiny', shape: [N, K], data } as Layer;
    const base = { low: 'lp', block: 8 };
    const w = lpqLayer(layer, base, { objective: 'weight' });
    let best = Infinity;
    for (let es = 0; es <= 2; es++) {
      for (let rs = 1; rs <= 3; rs++) {
        const cfg = makeScheme({ ...base, params: { es, rs } }).cfg!;
        for (let t = 0; t <= 7; t++)
          best = Math.min(best, quantizeMatrix(cfg, data, N, K, { metaIndex: t }).weightedError);
      }
    }
    expect(w.objective).toBe(best);
    expect(w.evaluations).toBe(9 * 8);
    const o = lpqLayer(layer, base, { objective: 'output', rows: 8 });
    const g = lpqLayer(layer, base, { objective: 'output', rows: 8, method: 'genetic', seed: 2 });
    expect(g.objective).toBeGreaterThanOrEqual(o.objective);
    expect(o.sf).toBe(
      lpGridSf({ n: 4, es: o.es, rs: o.rs }, lpGrid({ n: 4, es: o.es, rs: o.rs }, 8, 7), o.t),
    );
  });
});
