// The generated magnitude-policy kernel (src/quant/magnitude-kernel.ts) against the general
// loop ({ general: true }): every output array and the weighted error must be bit-identical,
// for any block shape, bit widths, low format, DLIQ granularity and weights with ties, zeros
// and padding.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ResolvedDpu, resolveConfig } from '../src/config/resolve.ts';
import { Rng } from '../src/io/rng.ts';
import { quantizeMatrix } from '../src/quant/quantize.ts';

const formatArb = fc.record({
  logB: fc.integer({ min: 0, max: 6 }),
  lowCount: fc.integer({ min: 0, max: 64 }),
  low: fc.constantFrom('mip2q', 'dliq', 'sparse'),
  perLayer: fc.boolean(),
  weightBits: fc.integer({ min: 2, max: 16 }),
  lowBits: fc.integer({ min: 2, max: 8 }),
  shiftMax: fc.integer({ min: 0, max: 7 }),
  maxExponent: fc.integer({ min: 0, max: 14 }),
});

function cfgOf(f: typeof formatArb extends fc.Arbitrary<infer T> ? T : never): ResolvedDpu | null {
  const B = 2 ** f.logB;
  try {
    return resolveConfig({
      name: 'q',
      pe: { block: B, high: B - Math.min(f.lowCount, B), low: f.low },
      weightBits: f.weightBits,
      lowBits: f.lowBits,
      dliq: { granularity: f.perLayer ? 'layer' : 'block', shiftMax: f.shiftMax },
      mip2q: { maxExponent: f.maxExponent },
    });
  } catch {
    return null; // a combination the schema rejects
  }
}

// Halves of the INT8 grid (when a row's max is 1) give ties in rounding and in |q|.
const weightArb = fc.oneof(
  fc.constantFrom(0, 0.5, -0.5, 1, -1, 0.25, -0.75),
  fc.integer({ min: -254, max: 254 }).map((h) => h / 254),
  fc.integer({ min: -20, max: 20 }).map((h) => h / 254),
  fc.double({ min: -1, max: 1, noNaN: true }),
  fc.double({ min: -0.02, max: 0.02, noNaN: true }),
);

function expectSame(cfg: ResolvedDpu, W: Float32Array, N: number, K: number): void {
  const fast = quantizeMatrix(cfg, W, N, K, { select: 'magnitude' });
  const general = quantizeMatrix(cfg, W, N, K, { select: 'magnitude', general: true });
  expect(fast.codes).toEqual(general.codes);
  expect(fast.values).toEqual(general.values);
  expect(fast.low).toEqual(general.low);
  expect(fast.metaIndex).toEqual(general.metaIndex);
  expect(fast.layerMetaIndex).toBe(general.layerMetaIndex);
  expect(Object.is(fast.weightedError, general.weightedError)).toBe(true);
}

describe('magnitude kernel = general loop', () => {
  it('on random formats and matrices (property)', () => {
    let checked = 0;
    fc.assert(
      fc.property(
        formatArb,
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 150 }),
        fc.array(weightArb, { minLength: 450, maxLength: 450 }),
        (f, N, K, pool) => {
          const cfg = cfgOf(f);
          fc.pre(cfg !== null);
          const W = Float32Array.from({ length: N * K }, (_, i) => pool[i % pool.length]!);
          expectSame(cfg!, W, N, K);
          checked++;
        },
      ),
      { numRuns: 300 },
    );
    expect(checked).toBeGreaterThan(100);
  });

  it('on Laplacian weights for the presets (B = 16, H = 8)', () => {
    const rnd = new Rng(7);
    const N = 8;
    const K = 1000; // not a multiple of 16: the last block is padded
    const W = Float32Array.from(
      { length: N * K },
      () => Math.log(rnd.float() + 1e-12) * (rnd.float() < 0.5 ? -0.01 : 0.01),
    );
    for (const low of ['mip2q', 'dliq', 'sparse'] as const) {
      for (const granularity of ['block', 'layer'] as const) {
        expectSame(
          resolveConfig({ name: 'q', pe: { block: 16, high: 8, low }, dliq: { granularity } }),
          W,
          N,
          K,
        );
      }
    }
  });
});
