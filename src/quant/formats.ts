// The number formats of one weight, defined once. docs/FORMATS.md is the prose of this
// file; the packer, golden model, RTL context and harness all call these functions.
import type { ResolvedDpu } from '../config/resolve.ts';

/** The parts of a resolved config the formats depend on. */
export type FormatParams = Pick<
  ResolvedDpu,
  'pe' | 'weightBits' | 'lowBits' | 'dliq' | 'mip2q' | 'activation'
>;

/** Two's complement value of the low `bits` bits of `raw`. */
export function toSigned(raw: number, bits: number): number {
  const m = 2 ** bits;
  const v = ((raw % m) + m) % m;
  return v >= m / 2 ? v - m : v;
}

/** Low `bits` bits of a (possibly negative) integer, as an unsigned number. */
export function toUnsigned(value: number, bits: number): number {
  const m = 2 ** bits;
  return ((value % m) + m) % m;
}

/** Range of a full-precision (high) weight: all of two's complement. */
export function highRange(p: FormatParams): [number, number] {
  return [-(2 ** (p.weightBits - 1)), 2 ** (p.weightBits - 1) - 1];
}

/** Range of activations. */
export function activationRange(p: FormatParams): [number, number] {
  const b = p.activation.bits;
  return p.activation.signed ? [-(2 ** (b - 1)), 2 ** (b - 1) - 1] : [0, 2 ** b - 1];
}

// MIP2Q: code = {sign, k} with k in the low lowBits-1 bits. k = 0 is zero; otherwise the
// value is (sign ? -1 : 1) * 2^(k-1). The hardware shifts the activation by k-1.

/** MIP2Q code for zero. */
export const MIP2Q_ZERO = 0;

export function mip2qEncode(p: FormatParams, negative: boolean, exponent: number): number {
  if (!Number.isInteger(exponent) || exponent < 0 || exponent > p.mip2q.maxExponent) {
    throw new RangeError(`MIP2Q exponent ${exponent} outside 0..${p.mip2q.maxExponent}`);
  }
  return (negative ? 2 ** (p.lowBits - 1) : 0) + exponent + 1;
}

/** Sign bit and exponent field k of a MIP2Q code. */
export function mip2qFields(p: FormatParams, code: number): { negative: boolean; k: number } {
  const signBit = 2 ** (p.lowBits - 1);
  return { negative: code >= signBit, k: code % signBit };
}

export function mip2qDecode(p: FormatParams, code: number): number {
  const { negative, k } = mip2qFields(p, code);
  if (k === 0) return 0;
  const mag = 2 ** (k - 1);
  return negative ? -mag : mag;
}

// DLIQ: code = q, lowBits-bit two's complement; value = q * 2^t with t the block's (or layer's) shift.

export function dliqRange(p: FormatParams): [number, number] {
  return [-(2 ** (p.lowBits - 1)), 2 ** (p.lowBits - 1) - 1];
}

export function dliqEncode(p: FormatParams, q: number): number {
  const [lo, hi] = dliqRange(p);
  if (!Number.isInteger(q) || q < lo || q > hi) throw new RangeError(`DLIQ value ${q} outside ${lo}..${hi}`);
  return toUnsigned(q, p.lowBits);
}

export function dliqDecode(p: FormatParams, code: number, shift: number): number {
  return toSigned(code, p.lowBits) * 2 ** shift;
}

/**
 * Integer value of a low weight from its lowBits code (and the DLIQ shift).
 * Sparse low weights are zero and carry no code.
 */
export function decodeLow(p: FormatParams, code: number, shift: number): number {
  switch (p.pe.low) {
    case 'mip2q':
      return mip2qDecode(p, code);
    case 'dliq':
      return dliqDecode(p, code, shift);
    case 'sparse':
      return 0;
    case 'none':
      throw new Error('the INT8 baseline has no low weights');
  }
}

/** Range of a decoded low weight (MIP2Q ±2^maxExponent, DLIQ q * 2^shiftMax); [0, 0] for sparse and none. */
export function lowValueRange(p: FormatParams): [number, number] {
  switch (p.pe.low) {
    case 'mip2q':
      return [-(2 ** p.mip2q.maxExponent), 2 ** p.mip2q.maxExponent];
    case 'dliq': {
      const [lo, hi] = dliqRange(p);
      return [lo * 2 ** p.dliq.shiftMax, hi * 2 ** p.dliq.shiftMax];
    }
    default:
      return [0, 0];
  }
}

/** Why a low code is not legal for this config, or null when it is. */
export function lowCodeProblem(p: FormatParams, code: number): string | null {
  if (!Number.isInteger(code) || code < 0 || code >= 2 ** p.lowBits) {
    return `low code ${code} is not a ${p.lowBits}-bit code`;
  }
  if (p.pe.low === 'mip2q') {
    const { negative, k } = mip2qFields(p, code);
    if (k === 0 && negative) return 'MIP2Q zero must have sign 0';
    if (k > p.mip2q.maxExponent + 1)
      return `MIP2Q exponent ${k - 1} exceeds mip2q.maxExponent ${p.mip2q.maxExponent}`;
  }
  if (p.pe.low === 'sparse' && code !== 0) return 'a sparse low weight must be 0';
  return null;
}

/** Every legal low code of the config's low format, ascending (sparse: [0]; none: []). */
export function legalLowCodes(p: FormatParams): number[] {
  if (p.pe.low === 'none') return [];
  const out: number[] = [];
  for (let c = 0; c < 2 ** p.lowBits; c++) if (lowCodeProblem(p, c) === null) out.push(c);
  return out;
}
