// The packer against docs/FORMATS.md: the documented word widths and field positions, and
// bit-exact round trips of every format (property tests over random legal configs).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config/resolve.ts';
import {
  decodeWeightBlock,
  packActivationBlock,
  packWeightBlock,
  readBits,
  unpackActivationBlock,
  unpackWeightBlock,
  type WeightBlock,
  weightBlockProblem,
  wordsFor,
  writeBits,
} from '../src/format/pack.ts';
import { activationArb, blockArb, configArb, layerMetaAt, presetConfigs } from './quant-arbitraries.ts';

describe('documented layouts (docs/FORMATS.md examples)', () => {
  const bits = Object.fromEntries(presetConfigs.map(([k, c]) => [k, c.derived.weightBlockBits]));
  it('word widths of the presets', () => {
    expect(bits).toEqual({
      int8: 128,
      'strum-mip2q': 112,
      'strum-dliq': 114,
      'strum-sparse': 80,
      'strum-dynamic': 144,
      // Mask scopes change where the router is, not the packed block.
      'strum-mip2q-group': 112,
      'strum-mip2q-layer': 112,
      // Three levels: mask, 8 high, 4 INT4 middle and 4 MIP2Q low codes (16 + 64 + 16 + 16).
      'strum-layer3': 112,
      // LP4 low codes like MIP2Q's (16 + 64 + 32); all-LP: the (all-ones) mask and 16 LP8 codes.
      'strum-lp': 112,
      lp8: 144,
      // All-ternary: the (all-ones, unused) mask and 16 2-bit codes; the compressed storage leaves the mask out.
      'tern-bs4': 48,
      // SDP splits the activations: the weights are the INT8 block.
      sdp: 128,
      // Static SDP: 4 groups x 4 stored parts x 7 bits (4-bit code, high/low, 2-bit index).
      'sdp-w': 112,
    });
  });

  it('strum-mip2q field positions: mask [15:0], high0 [23:16], high7 [79:72], low0 [83:80], low7 [111:108]', () => {
    const c = presetConfigs.find(([k]) => k === 'strum-mip2q')![1];
    const block: WeightBlock = {
      low: [...new Array(8).fill(false), ...new Array(8).fill(true)],
      codes: [-1, 0, 0, 0, 0, 0, 0, 0x55, 0xf, 0, 0, 0, 0, 0, 0, 0x9],
      meta: [],
    };
    const w = packWeightBlock(c, block);
    expect(readBits(w, 0, 16)).toBe(0xff00);
    expect(readBits(w, 16, 8)).toBe(0xff); // high0 = -1
    expect(readBits(w, 72, 8)).toBe(0x55); // high7
    expect(readBits(w, 80, 4)).toBe(0xf); // low0
    expect(readBits(w, 108, 4)).toBe(0x9); // low7
  });

  it('strum-dliq puts the block shift at [113:112]; int8 puts slot i at 8i', () => {
    const d = presetConfigs.find(([k]) => k === 'strum-dliq')![1];
    const block: WeightBlock = {
      low: new Array(16).fill(false).map((_, i) => i % 2 === 1),
      codes: new Array(16).fill(0),
      meta: [3],
    };
    expect(readBits(packWeightBlock(d, block), 112, 2)).toBe(3);
    const i8 = presetConfigs.find(([k]) => k === 'int8')![1];
    const codes = Array.from({ length: 16 }, (_, i) => i - 8);
    const w = packWeightBlock(i8, { low: new Array(16).fill(false), codes, meta: [] });
    for (let i = 0; i < 16; i++) expect(readBits(w, 8 * i, 8)).toBe((i - 8 + 256) % 256);
  });

  it('dynamic: a low code sits in the low bits of its slot', () => {
    const c = presetConfigs.find(([k]) => k === 'strum-dynamic')![1];
    const low = new Array(16).fill(false);
    low[3] = true;
    const codes = new Array(16).fill(0);
    codes[3] = 0xb;
    codes[4] = -128;
    const w = packWeightBlock(c, { low, codes, meta: [] });
    expect(readBits(w, 0, 16)).toBe(1 << 3);
    expect(readBits(w, 16 + 3 * 8, 8)).toBe(0xb);
    expect(readBits(w, 16 + 4 * 8, 8)).toBe(0x80);
  });
});

describe('bit helpers', () => {
  it('writeBits/readBits round-trip any field across word boundaries', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 200 }),
        fc.integer({ min: 1, max: 48 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (offset, bits, frac) => {
          const value = Math.floor(frac * (2 ** bits - 1));
          const words = new Uint32Array(wordsFor(offset + bits)).fill(0xffffffff);
          writeBits(words, offset, bits, value);
          expect(readBits(words, offset, bits)).toBe(value);
          // Neighbouring bits untouched.
          if (offset > 0) expect(readBits(words, offset - 1, 1)).toBe(1);
          if (offset + bits < words.length * 32) expect(readBits(words, offset + bits, 1)).toBe(1);
        },
      ),
    );
  });
});

describe('round trips (property)', () => {
  it('every legal block of every config packs and unpacks bit-exactly', () => {
    fc.assert(
      fc.property(
        configArb.chain((cfg) => fc.tuple(fc.constant(cfg), blockArb(cfg))),
        ([cfg, block]) => {
          expect(weightBlockProblem(cfg, block)).toBeNull();
          const words = packWeightBlock(cfg, block);
          expect(words.length).toBe(wordsFor(cfg.derived.weightBlockBits));
          // No bit above the block width is set.
          const top = words.length * 32 - cfg.derived.weightBlockBits;
          if (top > 0) expect(readBits(words, cfg.derived.weightBlockBits, top)).toBe(0);
          const back = unpackWeightBlock(cfg, words);
          expect(back.low).toEqual(block.low);
          expect(back.codes).toEqual(block.codes);
          expect(back.meta).toEqual(block.meta);
          expect(decodeWeightBlock(cfg, back, layerMetaAt(cfg, 1))).toEqual(
            decodeWeightBlock(cfg, block, layerMetaAt(cfg, 1)),
          );
        },
      ),
      { numRuns: 400 },
    );
  });

  it('every preset round-trips', () => {
    for (const [, cfg] of presetConfigs) {
      fc.assert(
        fc.property(blockArb(cfg), (block) => {
          expect(unpackWeightBlock(cfg, packWeightBlock(cfg, block))).toEqual(block);
        }),
        { numRuns: 50 },
      );
    }
  });

  it('activation blocks round-trip (signed and unsigned, any width)', () => {
    fc.assert(
      fc.property(
        configArb.chain((cfg) => fc.tuple(fc.constant(cfg), activationArb(cfg, cfg.pe.block))),
        ([cfg, acts]) => {
          const w = packActivationBlock(cfg, acts);
          expect(w.length).toBe(wordsFor(cfg.derived.activationBlockBits));
          expect(unpackActivationBlock(cfg, w)).toEqual(acts);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('odd widths: lowBits 3, weightBits 6, unsigned activations', () => {
    const cfg = resolveConfig({
      name: 'odd',
      pe: { block: 8, high: 3, low: 'dliq' },
      weightBits: 6,
      lowBits: 3,
      activation: { bits: 5, signed: false },
      dliq: { shiftMax: 2 },
    });
    expect(cfg.derived.weightBlockBits).toBe(8 + 3 * 6 + 5 * 3 + 2);
    fc.assert(
      fc.property(blockArb(cfg), activationArb(cfg, 8), (block, acts) => {
        expect(unpackWeightBlock(cfg, packWeightBlock(cfg, block))).toEqual(block);
        expect(unpackActivationBlock(cfg, packActivationBlock(cfg, acts))).toEqual(acts);
      }),
      { numRuns: 100 },
    );
  });
});

describe('the packer refuses what the hardware cannot hold', () => {
  const mip = presetConfigs.find(([k]) => k === 'strum-mip2q')![1];
  const base = (): { low: boolean[]; codes: number[]; meta: number[] } => ({
    low: Array.from({ length: 16 }, (_, i) => i >= 8),
    codes: new Array(16).fill(0),
    meta: [],
  });
  it.each([
    ['wrong low count', (b: ReturnType<typeof base>) => (b.low[0] = true), /exactly 8 low/],
    ['negative-zero MIP2Q code', (b: ReturnType<typeof base>) => (b.codes[8] = 8), /sign 0/],
    ['high weight out of range', (b: ReturnType<typeof base>) => (b.codes[0] = 128), /outside -128..127/],
    ['metadata on MIP2Q', (b: ReturnType<typeof base>) => b.meta.push(1), /no per-block metadata/],
  ])('%s', (_name, spoil, message) => {
    const b = base();
    spoil(b);
    expect(() => packWeightBlock(mip, b)).toThrow(message);
  });
});
