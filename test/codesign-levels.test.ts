// Three-level per-input-channel precision (pe.mid with pe.maskScope 'layer', docs/CODESIGN.md):
// the config rules, the exact level assignment against brute force, the quantizer's fixed
// lanes per level, the packer, and the co-simulation stimulus. Pure TypeScript, about 1 s.
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config/resolve.ts';
import { formatOf, midFormatOf } from '../src/format/index.ts';
import { decodeWeightBlock, packWeightBlock, unpackWeightBlock } from '../src/format/pack.ts';
import { Rng } from '../src/io/rng.ts';
import { quantizeMatrix, weightBlockOf } from '../src/quant/quantize.ts';
import { assignLevels, inLayerOrder } from '../src/quant/scope.ts';
import { weightPool } from '../src/sim/stimulus.ts';
import { configProblems, laplaceWeights } from './config-helpers.ts';

const three = (pe: object = {}, extra: object = {}) =>
  resolveConfig({
    name: 'q3',
    pe: {
      block: 8,
      high: 4,
      low: 'mip2q',
      maskScope: { kind: 'layer' },
      mid: { lanes: 2, format: 'int', bits: 4 },
      ...pe,
    },
    ...extra,
  });
const problems = (pe: object) => configProblems({ name: 'q', pe });
const weights = laplaceWeights;

describe('pe.mid: the config', () => {
  it('derives three kinds of lanes and a layout with the middle codes before the low ones', () => {
    const c = three();
    expect(c.derived).toMatchObject({ highLanes: 4, midLanes: 2, lowLanes: 2, lowCount: 4, lanes: 8 });
    const l = c.derived.weightLayout;
    expect(l.mid.map((f) => f.bits)).toEqual([4, 4]);
    expect(l.low.length).toBe(2);
    expect(l.mid[1]!.offset + 4).toBe(l.low[0]!.offset);
    expect(midFormatOf(c)!.valueRange).toEqual([-128, 112]);
    // Without pe.mid nothing changes (no middle fields, the same hash as before the field existed).
    const two = resolveConfig({
      name: 'q3',
      pe: { block: 8, high: 4, low: 'mip2q', maskScope: { kind: 'layer' } },
    });
    expect(two.derived.midLanes).toBe(0);
    expect(two.derived.weightLayout.mid).toEqual([]);
    expect(c.hash).not.toBe(two.hash);
  });

  it('says which combinations are illegal, one line naming the field', () => {
    const mid = { lanes: 2, format: 'int', bits: 4 };
    expect(problems({ block: 8, high: 4, low: 'mip2q', mid })).toEqual([
      expect.stringMatching(/^pe\.mid: needs pe\.maskScope \{kind: 'layer'\}/),
    ]);
    const layer = { block: 8, high: 4, low: 'mip2q', maskScope: { kind: 'layer' } };
    expect(problems({ ...layer, mid: { ...mid, lanes: 4 } })).toEqual([
      expect.stringMatching(/^pe\.mid\.lanes: 4 must be less than B - H = 4/),
    ]);
    expect(problems({ ...layer, mid: { ...mid, format: 'mip2q' } })).toEqual([
      expect.stringMatching(/^pe\.mid\.format: 'mip2q' has parameters/),
    ]);
    expect(problems({ ...layer, mid: { ...mid, format: 'sparse' } })).toEqual([
      expect.stringMatching(/^pe\.mid\.format: 'sparse' must have a lane and no metadata/),
    ]);
    expect(problems({ ...layer, mid: { ...mid, format: 'nope' } })[0]).toMatch(
      /^pe\.mid\.format: must be one of/,
    );
  });
});

describe('assignLevels: exact minimum-cost assignment to three levels', () => {
  it('matches brute force over every assignment (7 items)', () => {
    const r = new Rng(17);
    for (let trial = 0; trial < 40; trial++) {
      const n = 7;
      const caps: [number, number, number] = trial % 2 ? [3, 2, 2] : [2, 1, 4];
      // Integer costs make ties common: the total must still be the minimum.
      const cost = Float64Array.from({ length: 3 * n }, (_, i) =>
        i % 3 === 0 ? 0 : trial % 3 === 0 ? Math.floor(r.float() * 4) : r.float() * 10 - 2,
      );
      const level = assignLevels(cost, caps);
      const total = (lv: ArrayLike<number>) => {
        let t = 0;
        for (let i = 0; i < n; i++) t += cost[3 * i + lv[i]!]!;
        return t;
      };
      expect([0, 1, 2].map((l) => Array.from(level).filter((x) => x === l).length)).toEqual(caps);
      let best = Infinity;
      const lv = new Array(n).fill(0);
      for (let code = 0; code < 3 ** n; code++) {
        let x = code;
        const cnt = [0, 0, 0];
        for (let i = 0; i < n; i++) {
          lv[i] = x % 3;
          cnt[x % 3]!++;
          x = Math.floor(x / 3);
        }
        if (cnt[0] === caps[0] && cnt[1] === caps[1]) best = Math.min(best, total(lv));
      }
      expect(total(level)).toBeCloseTo(best, 9);
    }
  });
});

describe('three-level quantizer (scope layer)', () => {
  it('gives every input channel one of three levels in fixed lanes, in the slots’ proportions', () => {
    const I = 16;
    const P = 9; // a 3x3 conv
    const N = 6;
    const W = weights(N * P * I, 3);
    const cfg = three();
    for (const select of ['error', 'magnitude'] as const) {
      const qm = quantizeMatrix(cfg, W, N, P * I, { select, channels: I });
      const plan = qm.channelPlan!;
      expect([...plan.perm].sort((a, b) => a - b)).toEqual(Array.from({ length: I }, (_, i) => i));
      expect([0, 1, 2].map((l) => plan.level!.filter((x) => x === l).length)).toEqual([8, 4, 4]);
      // The array order: positions 0..3 high, 4..5 middle (INT4: multiples of 16), 6..7 MIP2Q.
      for (let c = 0; c < I; c++) expect(plan.level![plan.perm[c]!]).toBe(c % 8 < 4 ? 0 : c % 8 < 6 ? 1 : 2);
      const inLayer = inLayerOrder(qm.values, qm);
      for (let n = 0; n < N; n++) {
        for (let k = 0; k < qm.Kp; k++) {
          const v = qm.values[n * qm.Kp + k]!;
          expect(qm.low[n * qm.Kp + k]).toBe(k % 8 >= 4 ? 1 : 0);
          if (k % 8 >= 4 && k % 8 < 6) expect(v % 16 === 0 && v >= -128 && v <= 112).toBe(true);
          if (k % 8 >= 6)
            expect(v === 0 || 2 ** Math.round(Math.log2(Math.abs(v))) === Math.abs(v)).toBe(true);
        }
        // In the layer's own order a channel keeps its level at every kernel position.
        for (let k = 0; k < P * I; k++) {
          const v = inLayer[n * qm.Kp + k]!;
          if (plan.level![k % I] === 1) expect(Math.abs(v % 16)).toBe(0);
        }
      }
      // Packed and unpacked, the blocks decode to the quantizer's values.
      for (let n = 0; n < N; n++) {
        for (let j = 0; j < qm.Kp / 8; j++) {
          const b = weightBlockOf(qm, n, j);
          const back = unpackWeightBlock(cfg, packWeightBlock(cfg, b));
          expect(back).toEqual(b);
          expect(decodeWeightBlock(cfg, back)).toEqual(
            Array.from(qm.values.subarray(n * qm.Kp + j * 8, n * qm.Kp + j * 8 + 8)),
          );
        }
      }
    }
  });

  it('a middle level lowers the error of the same channels against two levels with the same high share', () => {
    const I = 32;
    const N = 8;
    const W = weights(N * I, 5);
    const twoLevel = resolveConfig({
      name: 'q2',
      pe: { block: 8, high: 4, low: 'mip2q', maskScope: { kind: 'layer' } },
    });
    const e2 = quantizeMatrix(twoLevel, W, N, I, { select: 'error' }).weightedError;
    // INT4 on half of the low channels: every one of those channels has the choice of both.
    const e3 = quantizeMatrix(three(), W, N, I, { select: 'error' }).weightedError;
    expect(e3).toBeLessThan(e2);
  });
});

describe('three-level co-simulation stimulus', () => {
  it('draws legal middle and low codes in the fixed lanes (the golden model decodes each with its format)', () => {
    const cfg = three({}, { array: { rows: 2, cols: 2 } });
    const pool = weightPool(cfg, new Rng(4), 40);
    const mid = midFormatOf(cfg)!;
    const low = formatOf(cfg);
    for (const b of pool.blocks) {
      expect(b.low.map(Number).join('')).toBe('00001111');
      expect(mid.codeProblem(b.codes[4]!)).toBeNull();
      expect(low.codeProblem(b.codes[6]!)).toBeNull();
    }
    // The edge blocks reach both formats' extremes.
    const neg = pool.blocks[pool.special.negative!]!;
    expect(decodeWeightBlock(cfg, neg).slice(4)).toEqual([-128, -128, -64, -64]);
  });
});
