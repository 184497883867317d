// pe.low = 'int': a narrow integer on the high weights' per-channel scale. code = q, lowBits-bit
// two's complement; value = q * 2^(weightBits - lowBits): INT-lowBits with a step of 2^(W - b)
// on the INT8 grid (lowBits 4: -128..112 in steps of 16; lowBits 2: -128, -64, 0, 64). The
// lane multiplies a * q and shifts by the constant step (wiring): templates/lib/strum_lane_int.v.
// The middle level of three-level per-input-channel precision (pe.mid, docs/CODESIGN.md).
import { signedRange, toSigned, toUnsigned } from './bits.ts';
import { codeWidthProblem, extremeCodes, type FormatConfig, type LowFormatSpec, legalCodes } from './spec.ts';

/** log2 of the value step: weightBits - lowBits. */
export const intStep = (c: Pick<FormatConfig, 'weightBits' | 'lowBits'>): number => c.weightBits - c.lowBits;

export function intDecode(c: Pick<FormatConfig, 'weightBits' | 'lowBits'>, code: number): number {
  return toSigned(code, c.lowBits) * 2 ** intStep(c);
}

/** The code of q (the value is q * 2^step). */
export function intEncode(c: Pick<FormatConfig, 'lowBits'>, q: number): number {
  const [lo, hi] = signedRange(c.lowBits);
  if (!Number.isInteger(q) || q < lo || q > hi) throw new RangeError(`int value ${q} outside ${lo}..${hi}`);
  return toUnsigned(q, c.lowBits);
}

export const intFormat: LowFormatSpec<Record<string, never>, 'int'> = {
  name: 'int',
  hasLow: true,
  summary: "two's complement q on the high weights' scale: q * 2^(weightBits - lowBits) (INT-lowBits)",
  bind(c) {
    const codeProblem = (code: number) => codeWidthProblem(code, c.lowBits);
    const codes = legalCodes(c.lowBits, codeProblem);
    const decode = (code: number) => intDecode(c, code);
    const [lo, hi] = signedRange(c.lowBits);
    const step = intStep(c);
    return {
      name: 'int',
      hasLow: true,
      codeBits: c.lowBits,
      codes,
      codeProblem,
      decode,
      valueRange: [lo * 2 ** step, hi * 2 ** step],
      meta: [],
      metaCandidates: [[]],
      edgeCodes: extremeCodes(codes, decode),
      lane: { kind: 'int', params: { STEP: step }, shift: null },
      describe: `INT${c.lowBits}, step 2^${step} on the ${c.weightBits}-bit grid`,
    };
  },
};
