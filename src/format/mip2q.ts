// pe.low = 'mip2q': power-of-two low weights. code = {sign, k} with k in the low lowBits-1
// bits; k = 0 is zero, otherwise the value is (sign ? -1 : 1) * 2^(k-1). The lane shifts the
// activation by k - 1 and negates (templates/lib/strum_lane_mip2q.v).
import { z } from 'zod';
import { bitsFor } from './bits.ts';
import { codeWidthProblem, extremeCodes, type FormatConfig, type LowFormatSpec, legalCodes } from './spec.ts';

const params = z.strictObject({
  maxExponent: z
    .number({ error: 'must be a number' })
    .int('must be an integer')
    .min(0, 'must be at least 0')
    .max(14, 'must be at most 14')
    .default(6)
    .describe('MIP2Q low value is ±2^e with e in 0..maxExponent, or 0'),
});
export type Mip2qParams = z.output<typeof params>;

/** MIP2Q code for zero. */
export const MIP2Q_ZERO = 0;

/** Sign bit and exponent field k of a MIP2Q code. */
export function mip2qFields(
  c: Pick<FormatConfig, 'lowBits'>,
  code: number,
): { negative: boolean; k: number } {
  const signBit = 2 ** (c.lowBits - 1);
  return { negative: code >= signBit, k: code % signBit };
}

export function mip2qDecode(c: Pick<FormatConfig, 'lowBits'>, code: number): number {
  const { negative, k } = mip2qFields(c, code);
  if (k === 0) return 0;
  const mag = 2 ** (k - 1);
  return negative ? -mag : mag;
}

/** The code of ±2^exponent. */
export function mip2qEncode(
  c: Pick<FormatConfig, 'lowBits'> & { readonly mip2q?: Mip2qParams },
  negative: boolean,
  exponent: number,
): number {
  const max = c.mip2q?.maxExponent ?? 2 ** (c.lowBits - 1) - 2;
  if (!Number.isInteger(exponent) || exponent < 0 || exponent > max) {
    throw new RangeError(`MIP2Q exponent ${exponent} outside 0..${max}`);
  }
  return (negative ? 2 ** (c.lowBits - 1) : 0) + exponent + 1;
}

export const mip2qFormat: LowFormatSpec<Mip2qParams, 'mip2q'> = {
  name: 'mip2q',
  hasLow: true,
  color: '#1f77b4',
  summary: 'power of two: ±2^e (e in 0..maxExponent) or 0; the lane shifts and negates',
  params,
  check(c, p) {
    const issues = [];
    const codeMax = 2 ** (c.lowBits - 1) - 2;
    if (p.maxExponent > codeMax) {
      issues.push({
        path: 'mip2q.maxExponent',
        message: `${p.maxExponent} does not fit a ${c.lowBits}-bit code (sign + exponent code, max ${codeMax})`,
      });
    }
    if (p.maxExponent > c.weightBits - 2) {
      issues.push({
        path: 'mip2q.maxExponent',
        message: `2^${p.maxExponent} is outside the ${c.weightBits}-bit weight grid (max ${c.weightBits - 2})`,
      });
    }
    return issues;
  },
  bind(c, p) {
    const codeProblem = (code: number) => {
      const wide = codeWidthProblem(code, c.lowBits);
      if (wide) return wide;
      const { negative, k } = mip2qFields(c, code);
      if (k === 0 && negative) return 'MIP2Q zero must have sign 0';
      if (k > p.maxExponent + 1) return `MIP2Q exponent ${k - 1} exceeds mip2q.maxExponent ${p.maxExponent}`;
      return null;
    };
    const codes = legalCodes(c.lowBits, codeProblem);
    const decode = (code: number) => mip2qDecode(c, code);
    return {
      name: 'mip2q',
      hasLow: true,
      codeBits: c.lowBits,
      codes,
      codeProblem,
      decode,
      valueRange: [-(2 ** p.maxExponent), 2 ** p.maxExponent],
      meta: [],
      metaCandidates: [[]],
      edgeCodes: extremeCodes(codes, decode),
      lane: { kind: 'mip2q', params: { E_BITS: bitsFor(p.maxExponent) }, shift: null },
      describe: `e in 0..${p.maxExponent}`,
    };
  },
};
