// 1-3-bit weight formats for an all-low PE (pe.high = 0): binary (+-1), ternary ({-1, 0, +1})
// and lowint (2-3-bit two's complement), each times a per-output-channel float scale that the
// quantizer chooses to minimise the squared error (src/quant/lowbit.ts), with block-structured
// sparsity: whole blocks of `array.cols` output channels x B weights pruned by norm to a target
// compression ratio, and skipped by the array's schedule (src/sim/schedule.ts). The seed paper:
// Yin et al., arXiv 1804.07370. docs/LOWBIT.md is the prose of this file.
import { z } from 'zod';
import { signedRange, toSigned, toUnsigned } from './bits.ts';
import {
  type BoundFormat,
  codeWidthProblem,
  extremeCodes,
  type FormatConfig,
  type FormatIssue,
  type LowFormatSpec,
  legalCodes,
} from './spec.ts';

/** The block-sparsity parameters every 1-3-bit format takes (its config group). */
export const lowbitParams = z.strictObject({
  compression: z
    .number({ error: 'must be a number' })
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .max(64, 'must be at most 64')
    .default(1)
    .describe(
      'Block compression: of every column group (array.cols output channels) only ceil(blocks / compression) ' +
        'weight blocks of B are kept (the largest by norm); the array skips the rest. 1: dense',
    ),
});
export type LowbitParams = z.output<typeof lowbitParams>;

/** An all-low PE: every lane is a 1-3-bit lane (no INT8 lanes, no router). */
function allLowIssues(c: FormatConfig, name: string): FormatIssue[] {
  const out: FormatIssue[] = [];
  if (c.pe.high !== 0)
    out.push({ path: 'pe.high', message: `must be 0 with pe.low '${name}' (every lane is low)` });
  if (c.pe.mode !== 'static')
    out.push({ path: 'pe.mode', message: `must be 'static' with pe.low '${name}'` });
  return out;
}

function bound(
  name: string,
  codeBits: number,
  codes: number[],
  codeProblem: (code: number) => string | null,
  decode: (code: number) => number,
  encode: (v: number) => number,
  kind: string,
  params: Readonly<Record<string, number>>,
  p: LowbitParams,
  describe: string,
): BoundFormat {
  const values = codes.map(decode);
  return {
    name,
    hasLow: true,
    codeBits,
    codes,
    codeProblem,
    decode,
    valueRange: [Math.min(...values), Math.max(...values)],
    meta: [],
    metaCandidates: [[]],
    edgeCodes: extremeCodes(codes, decode),
    lane: { kind, params, shift: null },
    describe: `${describe}, per-channel scale${p.compression > 1 ? `, ${p.compression}x block compression` : ''}`,
    lowbit: { compression: p.compression, encode },
  };
}

/** binary: 1-bit code, 0 = +1, 1 = -1 (the sign); the sign lane (ZERO = 0) selects a or -a. */
export const binaryFormat: LowFormatSpec<LowbitParams, 'binary'> = {
  name: 'binary',
  hasLow: true,
  color: '#7f7f7f',
  summary: 'binary weights +-1 x a per-channel scale (1-bit code = the sign), block-sparse (all-low PE)',
  params: lowbitParams,
  allLow: true,
  check: (c) => allLowIssues(c, 'binary'),
  bind: (_c, p) =>
    bound(
      'binary',
      1,
      [0, 1],
      (code) => codeWidthProblem(code, 1),
      (code) => (code === 0 ? 1 : -1),
      (v) => (v < 0 ? 1 : 0),
      'sign',
      { ZERO: 0 },
      p,
      'w in {-1, +1}',
    ),
};

const TERN: Readonly<Record<number, number>> = { 0: 0, 1: 1, 3: -1 };

/** tern: 2-bit code, 01 = +1, 11 = -1, 00 = 0 (10 illegal); the sign lane (ZERO = 1) adds, subtracts or skips. */
export const ternFormat: LowFormatSpec<LowbitParams, 'tern'> = {
  name: 'tern',
  hasLow: true,
  color: '#17becf',
  summary: 'ternary weights {-1, 0, +1} x a per-channel scale (code 01 = +1, 11 = -1, 00 = 0), block-sparse',
  params: lowbitParams,
  allLow: true,
  check: (c) => allLowIssues(c, 'tern'),
  bind: (_c, p) =>
    bound(
      'tern',
      2,
      [0, 1, 3],
      (code) => (code in TERN ? null : `ternary code ${code} is not 0, 1 or 3`),
      (code) => TERN[code]!,
      (v) => (v === 0 ? 0 : v > 0 ? 1 : 3),
      'sign',
      { ZERO: 1 },
      p,
      'w in {-1, 0, +1}',
    ),
};

/** lowint: lowBits-bit two's complement q (2 or 3 bits) x a per-channel scale; the int lane with no step. */
export const lowintFormat: LowFormatSpec<LowbitParams, 'lowint'> = {
  name: 'lowint',
  hasLow: true,
  color: '#bcbd22',
  summary: "2-3-bit two's complement weights x a per-channel scale (lowBits), block-sparse (all-low PE)",
  params: lowbitParams,
  allLow: true,
  check: (c) => [
    ...allLowIssues(c, 'lowint'),
    ...(c.lowBits > 3
      ? [{ path: 'lowBits', message: `${c.lowBits} must be 2 or 3 with pe.low 'lowint'` }]
      : []),
  ],
  bind: (c, p) => {
    const problem = (code: number) => codeWidthProblem(code, c.lowBits);
    return bound(
      'lowint',
      c.lowBits,
      legalCodes(c.lowBits, problem),
      problem,
      (code) => toSigned(code, c.lowBits),
      (v) => toUnsigned(v, c.lowBits),
      'int',
      { STEP: 0 },
      p,
      `INT${c.lowBits} (${signedRange(c.lowBits).join('..')})`,
    );
  },
};

/** Blocks of B a column group keeps at a compression ratio: ceil(blocks / compression), at least 1. */
export const keptBlocks = (blocks: number, compression: number): number =>
  Math.max(1, Math.ceil(blocks / compression));

/** Pruning of one layer: which reduction blocks each column group keeps. */
export interface BlockKeep {
  /** Output channels per group (array.cols; the last group may be short). */
  readonly group: number;
  /** Reduction blocks per row (Kp / B). */
  readonly blocks: number;
  /** [groups * blocks]: 1 = kept. */
  readonly keep: Uint8Array;
}

/** The kept block indices of group g, ascending (the block index of the compressed storage). */
export function keptIndices(k: BlockKeep, g: number): number[] {
  const out: number[] = [];
  for (let j = 0; j < k.blocks; j++) if (k.keep[g * k.blocks + j]) out.push(j);
  return out;
}
