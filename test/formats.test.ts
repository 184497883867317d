// The weight number formats against docs/FORMATS.md, and encode/decode round trips.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeLow,
  dliqDecode,
  dliqEncode,
  dliqRange,
  legalLowCodes,
  lowCodeProblem,
  mip2qDecode,
  mip2qEncode,
  toSigned,
  toUnsigned,
} from '../src/format/index.ts';
import { configArb, presetConfigs } from './quant-arbitraries.ts';

const preset = (k: string) => presetConfigs.find(([n]) => n === k)![1];

describe('documented codes (defaults)', () => {
  const mip = preset('strum-mip2q');
  it('MIP2Q: 0x0 = 0, 0x1..0x7 = 1..64, 0x9..0xF = -1..-64, 0x8 illegal', () => {
    expect(mip2qDecode(mip, 0)).toBe(0);
    expect([1, 2, 3, 4, 5, 6, 7].map((c) => mip2qDecode(mip, c))).toEqual([1, 2, 4, 8, 16, 32, 64]);
    expect([9, 10, 11, 12, 13, 14, 15].map((c) => mip2qDecode(mip, c))).toEqual([
      -1, -2, -4, -8, -16, -32, -64,
    ]);
    expect(lowCodeProblem(mip, 8)).toMatch(/sign 0/);
    expect(legalLowCodes(mip)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15]);
  });

  it('DLIQ: codes -8..7 shifted by t in 0..3 reach -64..56', () => {
    const d = preset('strum-dliq');
    expect(dliqRange(d)).toEqual([-8, 7]);
    const values = legalLowCodes(d).flatMap((c) => [0, 1, 2, 3].map((t) => decodeLow(d, c, [t])));
    expect(Math.min(...values)).toBe(-64);
    expect(Math.max(...values)).toBe(56);
    expect(dliqDecode(d, 0xf, 2)).toBe(-4);
  });

  it('sparse low weights are the single code 0 (value 0); INT8 has none', () => {
    expect(legalLowCodes(preset('strum-sparse'))).toEqual([0]);
    expect(decodeLow(preset('strum-sparse'), 0, [])).toBe(0);
    expect(legalLowCodes(preset('int8'))).toEqual([]);
  });
});

describe('round trips (property)', () => {
  it('toSigned inverts toUnsigned for every width', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 48 }), fc.double({ min: 0, max: 1, noNaN: true }), (bits, f) => {
        const lo = -(2 ** (bits - 1));
        const v = Math.floor(lo + f * (2 ** bits - 1));
        expect(toSigned(toUnsigned(v, bits), bits)).toBe(v);
      }),
    );
  });

  it('MIP2Q and DLIQ encode/decode are inverse over every legal code of every config', () => {
    fc.assert(
      fc.property(configArb, (cfg) => {
        for (const code of legalLowCodes(cfg)) {
          if (cfg.pe.low === 'mip2q') {
            const v = mip2qDecode(cfg, code);
            if (v === 0) expect(code).toBe(0);
            else expect(mip2qEncode(cfg, v < 0, Math.log2(Math.abs(v)))).toBe(code);
            expect(Math.abs(v)).toBeLessThanOrEqual(2 ** cfg.mip2q!.maxExponent);
          } else if (cfg.pe.low === 'dliq') {
            const q = dliqDecode(cfg, code, 0);
            expect(dliqEncode(cfg, q)).toBe(code);
            for (let t = 0; t <= cfg.dliq!.shiftMax; t++) expect(decodeLow(cfg, code, [t])).toBe(q * 2 ** t);
          }
        }
        // Everything not listed as legal is refused.
        const legal = new Set(legalLowCodes(cfg));
        if (cfg.pe.low !== 'none') {
          for (let c = 0; c < 2 ** cfg.lowBits; c++)
            expect(lowCodeProblem(cfg, c) === null).toBe(legal.has(c));
        }
      }),
      { numRuns: 200 },
    );
  });
});
