// Three-level blocks (pe.mid, docs/CODESIGN.md): besides the H high weights and the low
// format, M of a block's L = B - H mask positions hold a middle format (e.g. INT4 between
// INT8 and MIP2Q). The j-th low position of a block, in block order, is a middle weight when
// j < M and a low-format weight otherwise; with pe.maskScope 'layer' (the only scope that
// allows it) every block's mask is positions H..B-1, so the middle lanes read positions
// H..H+M-1. The middle format is any registered format with a lane and no metadata, bound
// with its own code width (pe.mid.bits) through the same spec as pe.low.
import { lowFormatSpec } from './registry.ts';
import type { BoundFormat, FormatConfig } from './spec.ts';

/** pe.mid: the middle level of a three-level block. */
export interface MidLevel {
  /** M: middle weights (and lanes) per block. */
  readonly lanes: number;
  /** The middle format: a registered format name (a pe.low value). */
  readonly format: string;
  /** Its code width (the middle format's lowBits). */
  readonly bits: number;
}

export type LevelsConfig = FormatConfig & { readonly pe: { readonly mid?: MidLevel } };

export const midLevelOf = (c: { readonly pe: { readonly mid?: MidLevel } }): MidLevel | null =>
  c.pe.mid ?? null;

/** M of a config (0 without pe.mid). */
export const midCountOf = (c: { readonly pe: { readonly mid?: MidLevel } }): number => c.pe.mid?.lanes ?? 0;

const views = new WeakMap<object, FormatConfig>();

/**
 * The config as the middle format sees it: pe.low = the middle format, lowBits = its bits
 * (what its spec binds to and lowTables reads). null without pe.mid. One object per config.
 */
export function midConfigOf(c: LevelsConfig): FormatConfig | null {
  const mid = midLevelOf(c);
  if (!mid) return null;
  let v = views.get(c);
  if (!v) {
    v = { ...c, pe: { ...c.pe, low: mid.format }, lowBits: mid.bits };
    views.set(c, v);
  }
  return v;
}

const bound = new WeakMap<object, BoundFormat>();

/** Why pe.mid cannot be this format, or null (the spec must take no parameters). */
export function midFormatProblem(name: string): string | null {
  const spec = lowFormatSpec(name);
  if (!spec.hasLow) return `'${name}' has no low weights`;
  if (spec.params) return `'${name}' has parameters (a middle format must have none)`;
  return null;
}

/** The middle format bound to the config, or null without pe.mid. */
export function midFormatOf(c: LevelsConfig): BoundFormat | null {
  const view = midConfigOf(c);
  if (!view) return null;
  let f = bound.get(c);
  if (!f) {
    f = lowFormatSpec(view.pe.low).bind(view, {});
    bound.set(c, f);
  }
  return f;
}

/**
 * The format of each of a static block's L low positions, in block order (the j-th low
 * position): the middle format for j < M, else `low`.
 */
export function lowPositionFormats(c: LevelsConfig, low: BoundFormat, L: number): BoundFormat[] {
  const mid = midFormatOf(c);
  const M = mid ? midCountOf(c) : 0;
  return Array.from({ length: L }, (_, j) => (j < M ? mid! : low));
}
