// pe.low = 'lp': logarithmic-posit low weights (src/format/lp.ts is the definition) on the
// PE's integer weight grid. The code width n is lowBits; es and rs are static config (they
// fix the lane's decoder); the scale factor sf is per-layer run-time metadata, stored as t in
// 0..shiftMax (sf = R + pMin - M - t, docs/FORMATS.md "LP as a lane format"). The lane
// (templates/lib/strum_lane_lp.v) decodes sign / regime / exponent / fraction, looks the
// fraction up in the 2^Fmax-entry mantissa table, shifts by the integer exponent and t, rounds
// onto the grid and multiplies by the activation. An all-LP PE is pe.high = 0.
import { z } from 'zod';
import { bitsFor } from './bits.ts';
import { lpDatapath, lpFields, lpGrid, lpGridValue, lpNaR, lpParamsProblem, lpTable } from './lp.ts';
import {
  codeWidthProblem,
  extremeCodes,
  type FormatIssue,
  type LowFormatSpec,
  legalCodes,
  type MetaField,
} from './spec.ts';

const int = (min: number, max: number) =>
  z
    .number({ error: 'must be a number' })
    .int('must be an integer')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);

const params = z.strictObject({
  es: int(0, 6).default(0).describe('LP exponent field bits es (at most lowBits - 2)'),
  rs: int(1, 7).default(3).describe('LP maximum regime run length rs (at most lowBits - 1)'),
  shiftMax: int(0, 15)
    .default(7)
    .describe('LP per-layer scale t in 0..shiftMax (run-time layer metadata; sf = R + pMin - M - t)'),
});
export type LpFormatParams = z.output<typeof params>;

// The test-only fault of the lane (LaneSpec.fault): the regime decoder with an off-by-one cap,
// so a run one short of rs is read as capped (its terminator becomes an exponent or fraction
// bit). Only codes with such a run go wrong: the regime-extreme edge codes of the stimulus find it.
const REGIME_LINE = "    rb = m < CAP ? m + 1'b1 : m;";
function regimeCapFault(text: string): string {
  if (!text.includes(REGIME_LINE)) throw new Error('fault overlay: the LP lane has no regime-bits line');
  return text.replace(REGIME_LINE, "    rb = m + 1 < CAP ? m + 1'b1 : m;");
}

/** Largest lane magnitude register the lane may build (bits). */
const MAX_WIDE_BITS = 48;

export const lpFormat: LowFormatSpec<LpFormatParams, 'lp'> = {
  name: 'lp',
  hasLow: true,
  summary:
    'logarithmic posit: ±2^(k*2^es + e + f/2^F - sf), es/rs static, sf per layer; mantissa table + shift onto the weight grid',
  params,
  check(c, p) {
    const issues: FormatIssue[] = [];
    const problem = lpParamsProblem({ n: c.lowBits, es: p.es, rs: p.rs, sf: 0 });
    if (problem) {
      const [field, ...rest] = problem.split(':');
      const path = field === 'lp.n' ? 'lowBits' : field!;
      issues.push({ path, message: rest.join(':').trim() });
      return issues;
    }
    const grid = lpGrid({ n: c.lowBits, es: p.es, rs: p.rs }, c.weightBits, p.shiftMax);
    if (grid.R < 1) {
      issues.push({
        path: 'lp.shiftMax',
        message: `${p.shiftMax} leaves no rounding shift on the ${c.weightBits}-bit grid (lower shiftMax or weightBits)`,
      });
    }
    if (grid.wideBits > MAX_WIDE_BITS) {
      issues.push({
        path: 'lp.es',
        message: `es ${p.es} with rs ${p.rs} spans ${grid.wideBits} bits of magnitude (at most ${MAX_WIDE_BITS})`,
      });
    }
    return issues;
  },
  bind(c, p) {
    const lp = { n: c.lowBits, es: p.es, rs: p.rs };
    const t = lpTable(lp);
    const dp = lpDatapath(lp);
    const grid = lpGrid(lp, c.weightBits, p.shiftMax);
    const codeProblem = (code: number) => codeWidthProblem(code, c.lowBits);
    // Every code is legal: NaR reads as 0 (the quantizer never writes it; the stimulus does).
    const codes = legalCodes(c.lowBits, codeProblem);
    const bits = bitsFor(p.shiftMax);
    const meta: MetaField[] =
      bits > 0
        ? [
            {
              name: 'lpscale',
              symbol: 't',
              scope: 'layer',
              bits,
              max: p.shiftMax,
              meaning: `LP scale t of the layer (sf = ${grid.R + t.pMin - dp.M} - t)`,
            },
          ]
        : [];
    const candidates = Array.from({ length: p.shiftMax + 1 }, (_, s) => (bits > 0 ? [s] : []));
    const decode = (code: number, m: readonly number[]) => lpGridValue(lp, code, m[0] ?? 0, grid);
    const top = (code: number) => decode(code, [p.shiftMax]);
    let lo = 0;
    let hi = 0;
    for (const code of codes) {
      lo = Math.min(lo, top(code));
      hi = Math.max(hi, top(code));
    }
    // Stimulus edges: zero, NaR, and the first and last body of every regime, both signs.
    const half = 2 ** (c.lowBits - 1);
    const byK = new Map<number, [number, number]>();
    for (let b = 1; b < half; b++) {
      const { k } = lpFields(lp, b);
      const have = byK.get(k);
      byK.set(k, have ? [have[0], b] : [b, b]);
    }
    const bodies = [...new Set([...byK.values()].flat())];
    const edges = [0, lpNaR(c.lowBits), ...bodies, ...bodies.map((b) => b + half)];
    const mant = dp.mant;
    const mantBits = dp.M + 1;
    const mantLiteral = `${mant.length * mantBits}'h${mant
      .reduceRight((acc, m) => (acc << BigInt(mantBits)) | BigInt(m), 0n)
      .toString(16)}`;
    return {
      name: 'lp',
      hasLow: true,
      codeBits: c.lowBits,
      codes,
      codeProblem,
      decode,
      valueRange: [lo, hi],
      meta,
      metaCandidates: candidates,
      edgeCodes: extremeCodes(codes, top),
      edgeLowCodes: edges,
      lane: {
        kind: 'lp',
        params: {
          ES: p.es,
          RS: p.rs,
          F_MAX: t.Fmax,
          MF: dp.M,
          PMIN_NEG: -t.pMin,
          WIDE_BITS: grid.wideBits,
          R: grid.R,
          G_BITS: c.weightBits,
          MANT: mantLiteral,
        },
        shift: null,
        laneMeta: bits > 0 ? 0 : undefined,
        fault: { why: 'the LP regime cap off by one', inject: regimeCapFault },
      },
      describe: `LP${c.lowBits} es=${p.es} rs=${p.rs}, Fmax=${t.Fmax}, t in 0..${p.shiftMax} per layer (sf = ${grid.R + t.pMin - dp.M} - t), grid rounding 2^-${grid.R}`,
    };
  },
};
