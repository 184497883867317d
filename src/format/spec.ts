// The number-format interface: what one low-precision weight format must say so that every
// stage (config, quantizer, packer, golden model, RTL, co-simulation) can use it without a
// case on its name. One module per format implements LowFormatSpec (int8.ts, mip2q.ts,
// dliq.ts, sparse.ts); registry.ts lists them. docs/FORMATS.md ("How to add a format") is
// the prose of this file.
import type { z } from 'zod';
import type { Range } from './bits.ts';

/** The parts of a config a format depends on (a resolved config is one). */
export interface FormatConfig {
  readonly pe: {
    readonly block: number;
    readonly high: number;
    readonly low: string;
    readonly mode: 'static' | 'dynamic';
  };
  readonly weightBits: number;
  readonly lowBits: number;
  readonly activation: { readonly bits: number; readonly signed: boolean };
}

/** A config problem: the dotted path of the field and the rule it breaks. */
export interface FormatIssue {
  readonly path: string;
  readonly message: string;
}

/**
 * Where one metadata value lives. 'block': a field of every packed weight block (beside the
 * mask and codes); 'layer': one value for the whole layer, on an array input port
 * `in_<name>` (constant while a layer runs). The quantizer picks a value per block or per
 * layer from `metaCandidates`.
 */
export type MetaScope = 'block' | 'layer';

export interface MetaField {
  /** Field name: the packed field (block) or the port suffix (layer, `in_<name>`). */
  readonly name: string;
  /** Short symbol for labels and docs (DLIQ: 't'). */
  readonly symbol: string;
  readonly scope: MetaScope;
  /** Unsigned width; legal values are 0..max. */
  readonly bits: number;
  readonly max: number;
  /** One line for docs and PORTS.md. */
  readonly meaning: string;
}

/**
 * The lane that computes activation x low weight, as the RTL stage instantiates it: the
 * library module `strum_lane_<kind>` (templates/lib/strum_lane_<kind>.v, or `source`) with the
 * lane port contract (a, code, meta, p) and the parameters A_BITS, A_SIGNED, C_BITS, M_BITS,
 * P_BITS, plus `params` (and SHIFT, when `shift` is set).
 */
export interface LaneSpec {
  readonly kind: string;
  /** The lane module's own Verilog parameters (e.g. MIP2Q's E_BITS); a string is a Verilog literal (LP's mantissa table). */
  readonly params: Readonly<Record<string, number | string>>;
  /**
   * The lane module's Verilog file, for a format that lives outside this repository's
   * templates/lib/ (e.g. a test's toy format); it must define exactly `strum_lane_<kind>`.
   */
  readonly source?: string;
  /**
   * When the format's value is (plain code value) << meta[shiftMeta], the lane may leave the
   * shift out and a PE shifts the sum of its low lanes once (all low lanes of a block share
   * the metadata). `plainRange` is the range of the plain code value (before the shift). The
   * lane module then has a parameter SHIFT: 1 = shift the product by `meta` itself, 0 = leave
   * it to the PE.
   */
  readonly shift: { readonly meta: number; readonly plainRange: Range } | null;
  /**
   * Index of a metadata field the lane module itself takes on its `meta` port in every PE
   * (static lanes too), when it is not a shift a PE could share (LP's per-layer scale t: the
   * lane rounds after scaling). M_BITS is then the field's width. Absent: none.
   */
  readonly laneMeta?: number;
  /**
   * A test-only fault inside the lane module, for the RTL stage's fault overlay (fault kind
   * 'low-lane-internal', src/rtl/faults.ts): `inject` returns the module's text with the fault
   * (module name unchanged; it throws when the text is not the one it knows), `why` is the
   * overlay comment. Absent: the lane has no internal fault (the generic 'low-lane-sign' still
   * applies).
   */
  readonly fault?: { readonly why: string; inject(text: string): string };
}

/** A format bound to one config (formatOf): everything later stages ask, with no further case on the name. */
export interface BoundFormat {
  readonly name: string;
  /** false only for the INT8 baseline: no mask, no low weights. */
  readonly hasLow: boolean;
  /** Bits of one stored low code; 0 when low weights are not stored (they are all zero). */
  readonly codeBits: number;
  /** Every legal code, ascending. */
  readonly codes: readonly number[];
  /** Why `code` is not a legal code, or null. */
  codeProblem(code: number): string | null;
  /** Integer value of a legal code, given the metadata values (the format's `meta` order). */
  decode(code: number, meta: readonly number[]): number;
  /** Range of a decoded low value over every code and metadata value ([0, 0] without lows). */
  readonly valueRange: Range;
  /** The metadata fields, all of one scope; [] when the format has none. */
  readonly meta: readonly MetaField[];
  /** Metadata value tuples the quantizer tries (per block or per layer); [[]] without metadata. */
  readonly metaCandidates: readonly (readonly number[])[];
  /** Stimulus edge cases: codes of the most negative and most positive value (at the last candidate). */
  readonly edgeCodes: { readonly negative: number; readonly positive: number };
  /** Further low codes the co-simulation's edge blocks hold (LP: zero, NaR, regime extremes); absent: none. */
  readonly edgeLowCodes?: readonly number[];
  /** The lane that multiplies by a low weight; null when no low lane exists (none, sparse). */
  readonly lane: LaneSpec | null;
  /** One line for `strumgen config` (null: nothing to add). */
  readonly describe: string | null;
  /**
   * 1-3-bit formats of an all-low PE (lowbit.ts): the quantizer picks each output channel's
   * scale by least squares and prunes whole blocks to `compression` (src/quant/lowbit.ts); the
   * schedule skips the pruned blocks (src/sim/schedule.ts). Absent for every other format.
   */
  readonly lowbit?: {
    readonly compression: number;
    /** The code of a value (the quantizer's inverse of decode; every value of the format's set). */
    encode(value: number): number;
  };
}

/** One format, as registered: its name, its config parameters and how to bind it to a config. */
export interface LowFormatSpec<P = Record<string, never>, N extends string = string> {
  /** The value of `pe.low`; also the config key of the parameters. */
  readonly name: N;
  /** false only for the INT8 baseline (no mask, no low weights); BoundFormat.hasLow repeats it. */
  readonly hasLow: boolean;
  /** One line for docs and the config reference. */
  readonly summary: string;
  /** Its colour in plots (the sweep's fronts); a neutral one when absent. */
  readonly color?: string;
  /** Every lane is low (no INT8 lanes, no router): pe.high defaults to 0 instead of B / 2. */
  readonly allLow?: boolean;
  /**
   * The parameters as a zod object (defaults included), validated under the config key
   * `name`. They exist in the resolved config, and enter its hash, only when pe.low = name.
   */
  readonly params?: z.ZodType<P>;
  /** Cross-field rules (config paths in the issues). */
  check?(c: FormatConfig, p: P): FormatIssue[];
  /** The format for one config (after check). */
  bind(c: FormatConfig, p: P): BoundFormat;
}

/** Helpers for specs: legal codes from a problem function, and the default edge codes. */
export function legalCodes(codeBits: number, problem: (code: number) => string | null): number[] {
  const out: number[] = [];
  for (let c = 0; c < 2 ** codeBits; c++) if (problem(c) === null) out.push(c);
  return out;
}

/** Codes of the most negative and most positive decoded value (first code on ties). */
export function extremeCodes(
  codes: readonly number[],
  value: (code: number) => number,
): { negative: number; positive: number } {
  let negative = codes[0] ?? 0;
  let positive = codes[0] ?? 0;
  for (const c of codes) {
    if (value(c) < value(negative)) negative = c;
    if (value(c) > value(positive)) positive = c;
  }
  return { negative, positive };
}

/** Range of `decode` over every code and metadata candidate. */
export function valueRangeOf(
  codes: readonly number[],
  candidates: readonly (readonly number[])[],
  decode: (code: number, meta: readonly number[]) => number,
): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const m of candidates) {
    for (const c of codes) {
      const v = decode(c, m);
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  return lo <= hi ? [lo, hi] : [0, 0];
}

/** Generic code-range check: an integer in 0..2^bits - 1. */
export function codeWidthProblem(code: number, bits: number): string | null {
  if (!Number.isInteger(code) || code < 0 || code >= 2 ** bits)
    return `low code ${code} is not a ${bits}-bit code`;
  return null;
}
