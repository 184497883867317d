// pe.low = 'dliq': low integers with a shared shift. code = q, lowBits-bit two's complement;
// value = q * 2^t with t the block's (or the layer's) shift, a metadata field the quantizer
// searches (t in 0..shiftMax). A static PE multiplies a * q in plain lanes and shifts the low
// lanes' sum once (templates/lib/strum_lane_dliq.v, src/rtl/pe.ts).
import { z } from 'zod';
import { bitsFor, signedRange, toSigned, toUnsigned } from './bits.ts';
import {
  codeWidthProblem,
  extremeCodes,
  type FormatConfig,
  type LowFormatSpec,
  legalCodes,
  type MetaField,
} from './spec.ts';

const params = z.strictObject({
  shiftMax: z
    .number({ error: 'must be a number' })
    .int('must be an integer')
    .min(0, 'must be at least 0')
    .max(7, 'must be at most 7')
    .default(3)
    .describe('DLIQ low value is q * 2^t with t in 0..shiftMax'),
  granularity: z.enum(['block', 'layer']).default('block').describe('One shift t per block or per layer'),
});
export type DliqParams = z.output<typeof params>;

/** Range of the code value q. */
export const dliqRange = (c: Pick<FormatConfig, 'lowBits'>): [number, number] => signedRange(c.lowBits);

export function dliqEncode(c: Pick<FormatConfig, 'lowBits'>, q: number): number {
  const [lo, hi] = dliqRange(c);
  if (!Number.isInteger(q) || q < lo || q > hi) throw new RangeError(`DLIQ value ${q} outside ${lo}..${hi}`);
  return toUnsigned(q, c.lowBits);
}

export function dliqDecode(c: Pick<FormatConfig, 'lowBits'>, code: number, shift: number): number {
  return toSigned(code, c.lowBits) * 2 ** shift;
}

export const dliqFormat: LowFormatSpec<DliqParams, 'dliq'> = {
  name: 'dliq',
  hasLow: true,
  color: '#d62728',
  summary: "two's complement q with a shift t per block or per layer: q * 2^t",
  params,
  bind(c, p) {
    const codeProblem = (code: number) => codeWidthProblem(code, c.lowBits);
    const codes = legalCodes(c.lowBits, codeProblem);
    const bits = bitsFor(p.shiftMax);
    // A 0-bit shift (shiftMax 0) is not stored at all: t is always 0.
    const meta: MetaField[] =
      bits > 0
        ? [
            {
              name: 'shift',
              symbol: 't',
              scope: p.granularity,
              bits,
              max: p.shiftMax,
              meaning: `DLIQ shift t of the ${p.granularity} (value = q * 2^t)`,
            },
          ]
        : [];
    const candidates = Array.from({ length: p.shiftMax + 1 }, (_, t) => (bits > 0 ? [t] : []));
    const decode = (code: number, m: readonly number[]) => dliqDecode(c, code, m[0] ?? 0);
    const [lo, hi] = dliqRange(c);
    const scale = 2 ** p.shiftMax;
    return {
      name: 'dliq',
      hasLow: true,
      codeBits: c.lowBits,
      codes,
      codeProblem,
      decode,
      valueRange: [lo * scale, hi * scale],
      meta,
      metaCandidates: candidates,
      edgeCodes: extremeCodes(codes, (code) => decode(code, [])),
      lane: {
        kind: 'dliq',
        params: {},
        shift: bits > 0 ? { meta: 0, plainRange: [lo, hi] } : null,
      },
      describe: `t in 0..${p.shiftMax}, per ${p.granularity}`,
    };
  },
};
