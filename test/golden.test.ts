// The golden PE-array model against a brute-force integer matrix product (BigInt, wrapped
// once at the end) on the decoded weights: random legal configs, extremes of activations and
// weights, accumulator wrap, H = 0 and H = B.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ResolvedDpu } from '../src/config/resolve.ts';
import { resolveConfig } from '../src/config/resolve.ts';
import { activationRange, decodeLow, formatOf, highRange, legalLowCodes } from '../src/format/index.ts';
import { decodeWeightBlock, packWeightBlock, type WeightBlock } from '../src/format/pack.ts';
import { GoldenArray, tileResults, wrapSigned } from '../src/quant/golden.ts';
import { activationArb, blockArb, configArb, metaCandidates } from './quant-arbitraries.ts';

interface Case {
  cfg: ResolvedDpu;
  /** The format's layer metadata ([] unless per layer). */
  layerMeta: readonly number[];
  /** [col][block] */
  blocks: WeightBlock[][];
  /** [row][k] */
  acts: number[][];
}

const caseArb = (cfgArb: fc.Arbitrary<ResolvedDpu>) =>
  cfgArb.chain((cfg) =>
    fc.integer({ min: 1, max: 4 }).chain((nb) =>
      fc.record({
        cfg: fc.constant(cfg),
        layerMeta: fc.constantFrom(...metaCandidates(cfg, 'layer')),
        blocks: fc.array(fc.array(blockArb(cfg), { minLength: nb, maxLength: nb }), {
          minLength: cfg.array.cols,
          maxLength: cfg.array.cols,
        }),
        acts: fc.array(activationArb(cfg, nb * cfg.pe.block), {
          minLength: cfg.array.rows,
          maxLength: cfg.array.rows,
        }),
      }),
    ),
  );

/** Reference: exact BigInt dot products of decoded weights, wrapped to the accumulator once. */
function reference(c: Case): number[] {
  const bits = BigInt(c.cfg.accumulator.bits);
  const m = 1n << bits;
  const out: number[] = [];
  for (const a of c.acts) {
    for (const col of c.blocks) {
      const w = col.flatMap((b) => decodeWeightBlock(c.cfg, b, c.layerMeta));
      let s = 0n;
      for (let k = 0; k < w.length; k++) s += BigInt(a[k]!) * BigInt(w[k]!);
      let v = ((s % m) + m) % m;
      if (v >= m / 2n) v -= m;
      out.push(Number(v));
    }
  }
  return out;
}

/** Exact (unwrapped) result of row r, column c. */
function exactSum(c: Case, r: number, col: number): number {
  const w = c.blocks[col]!.flatMap((b) => decodeWeightBlock(c.cfg, b, c.layerMeta));
  return w.reduce((s, x, k) => s + x * c.acts[r]![k]!, 0);
}

/** Step the array through the tile with packed words, as the hardware sees it. */
function stepped(c: Case): Float64Array {
  const g = new GoldenArray(c.cfg, c.layerMeta);
  const B = c.cfg.pe.block;
  const nb = c.blocks[0]!.length;
  let result: Float64Array | null = null;
  for (let j = 0; j < nb; j++) {
    // An idle cycle between blocks must change nothing.
    expect(g.step({ valid: false, clear: true, last: true, act: [], wgt: [] })).toBeNull();
    result = g.step({
      valid: true,
      clear: j === 0,
      last: j === nb - 1,
      act: c.acts.map((a) => a.slice(j * B, (j + 1) * B)),
      wgt: c.blocks.map((col) => packWeightBlock(c.cfg, col[j]!)),
    });
  }
  return result!;
}

function check(c: Case): void {
  const expected = reference(c);
  expect(Array.from(stepped(c))).toEqual(expected);
  const A = c.acts.flat();
  const W = c.blocks.flatMap((col) => col.flatMap((b) => decodeWeightBlock(c.cfg, b, c.layerMeta)));
  expect(Array.from(tileResults(c.cfg, A, W, c.acts[0]!.length))).toEqual(expected);
}

/** Configs with a narrow accumulator, so sums wrap often. */
const wrappingArb = configArb.map((cfg) => resolveConfig({ ...stripDerived(cfg), accumulator: { bits: 8 } }));

function stripDerived(cfg: ResolvedDpu) {
  const { derived: _d, hash: _h, shortHash: _s, warnings: _w, ...rest } = cfg;
  return rest;
}

describe('golden array vs brute-force integer matrix product', () => {
  it('random legal configs, blocks and activations', () => {
    fc.assert(fc.property(caseArb(configArb), check), { numRuns: 300 });
  });

  it('accumulator wrap (8-bit accumulator)', () => {
    let wrapped = 0;
    fc.assert(
      fc.property(caseArb(wrappingArb), (c) => {
        check(c);
        if (Math.abs(exactSum(c, 0, 0)) >= 128) wrapped++;
      }),
      { numRuns: 150 },
    );
    expect(wrapped).toBeGreaterThan(20);
  });

  it('extremes: activations -128/127 against weights at the format limits, H = 0 and H = B', () => {
    for (const [low, high] of [
      ['mip2q', 0],
      ['mip2q', 16],
      ['dliq', 0],
      ['dliq', 8],
      ['sparse', 0],
      ['none', 16],
    ] as const) {
      for (const mode of low === 'none' ? (['static'] as const) : (['static', 'dynamic'] as const)) {
        const cfg = resolveConfig({
          name: 'x',
          array: { rows: 2, cols: 2 },
          pe: { block: 16, high, low, mode },
          accumulator: { bits: 24 },
        });
        const [hlo, hhi] = highRange(cfg);
        const [alo, ahi] = activationRange(cfg);
        // The last metadata candidate gives the widest values (DLIQ: t = shiftMax).
        const t = formatOf(cfg).metaCandidates.at(-1)!;
        const codes = [...legalLowCodes(cfg)].sort((a, b) => decodeLow(cfg, a, t) - decodeLow(cfg, b, t));
        const L = cfg.derived.lowCount;
        // Column 0: most negative high weight and low value; column 1: most positive.
        const block = (neg: boolean): WeightBlock => ({
          low: Array.from({ length: 16 }, (_, i) => i >= 16 - L),
          codes: Array.from({ length: 16 }, (_, i) =>
            i >= 16 - L ? (neg ? codes[0]! : codes.at(-1)!) : neg ? hlo : hhi,
          ),
          meta: metaCandidates(cfg, 'block').at(-1)!,
        });
        const nb = 120; // 120 blocks of -128 * -64 * 16 already overflow a 24-bit accumulator
        const c: Case = {
          cfg,
          layerMeta: metaCandidates(cfg, 'layer').at(-1)!,
          blocks: [
            Array.from({ length: nb }, () => block(true)),
            Array.from({ length: nb }, () => block(false)),
          ],
          acts: [new Array(16 * nb).fill(alo), new Array(16 * nb).fill(ahi)],
        };
        check(c);
        // The exact sums really overflow the 24-bit accumulator (unless all weights are 0).
        if (low !== 'sparse' || high > 0) expect(Math.abs(exactSum(c, 0, 0))).toBeGreaterThan(2 ** 23);
      }
    }
  });

  it('wrapSigned matches BigInt two’s complement', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 48 }),
        fc.bigInt({ min: -(2n ** 52n), max: 2n ** 52n }),
        (bits, x) => {
          const m = 1n << BigInt(bits);
          let v = ((x % m) + m) % m;
          if (v >= m / 2n) v -= m;
          expect(wrapSigned(Number(x), bits)).toBe(Number(v));
        },
      ),
    );
  });
});
