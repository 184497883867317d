// The lane planner: which library lane module computes each kind of product, with which
// parameters. Every lane module has one port contract (a, code, meta, p; templates/lib/
// strum_lane_full.v) and the parameters A_BITS, A_SIGNED, C_BITS, M_BITS, P_BITS, plus its
// format's own (LaneSpec.params) and SHIFT for a format whose metadata is a shift of the product.
import type { ResolvedDpu } from '../config/resolve.ts';
import { midFormatOf } from '../format/levels.ts';
import { formatOf } from '../format/registry.ts';
import type { MetaField } from '../format/spec.ts';
import { bind, LIB, type LibraryModule, laneModule, type ParamBinding } from './library.ts';
import { int } from './verilog.ts';

/**
 * The metadata field the low lanes apply as a shift of their product (DLIQ's t), with its
 * plain code range, or null. Other metadata has no RTL path yet: refused here.
 */
export function laneShift(
  cfg: ResolvedDpu,
): { field: MetaField; plainRange: readonly [number, number]; inLane: boolean } | null {
  const fmt = formatOf(cfg);
  const shift = fmt.lane?.shift ?? null;
  // A field the lane takes itself (LP's scale) travels like a shift but is never shared.
  const own = shift ? undefined : fmt.lane?.laneMeta;
  const index = shift?.meta ?? own;
  const routed = fmt.meta.filter((_, i) => index === i);
  if (routed.length !== fmt.meta.length) {
    throw new Error(
      `rtl: format '${fmt.name}' has metadata no lane applies (only a lane shift is supported)`,
    );
  }
  if (index === undefined || !fmt.meta[index]) return null;
  return {
    field: fmt.meta[index]!,
    plainRange: shift ? shift.plainRange : fmt.valueRange,
    inLane: !shift,
  };
}

/** One kind of lane of a PE: its library module, bound parameters and product width. */
export interface LaneKind {
  readonly lib: LibraryModule;
  readonly params: ParamBinding[];
  readonly pBits: number;
  /** Bits of the `code` input. */
  readonly cBits: number;
  /** Bits of the `meta` input (1 when the lane applies none: tie it to 0). */
  readonly mBits: number;
}

function common(cfg: ResolvedDpu, c: number, m: number, p: number) {
  const A = int(cfg.activation.bits, 'activation.bits', 1);
  // The lanes widen the activation to the product: it must be wider (sign or a 0 on top).
  if (int(p, 'product width', 2) <= A)
    throw new Error(`rtl: product width ${p} cannot hold ${A}-bit activations`);
  return { A_BITS: A, A_SIGNED: cfg.activation.signed ? 1 : 0, C_BITS: c, M_BITS: m, P_BITS: p };
}

/** The full-precision lane: p = a * w. */
export function fullLane(cfg: ResolvedDpu): LaneKind {
  const W = int(cfg.weightBits, 'weightBits', 2);
  const P = cfg.derived.highProductBits;
  return { lib: LIB.laneFull, params: bind(common(cfg, W, 1, P)), pBits: P, cBits: W, mBits: 1 };
}

/**
 * The format's low lane. `shifted`: the lane applies the format's shift itself (dynamic
 * lanes); otherwise a PE shifts the low lanes' sum once (static lanes) or there is no shift.
 */
export function lowLane(cfg: ResolvedDpu, shifted: boolean): LaneKind {
  const fmt = formatOf(cfg);
  const lane = fmt.lane;
  if (!lane) throw new Error(`rtl: format '${fmt.name}' has no low lane`);
  const shift = laneShift(cfg);
  const dynamic = cfg.pe.mode === 'dynamic';
  // A static lane without a shift computes the low product; with a shift the PE applies, the
  // product before the shift; a lane that applies its metadata itself (shift.inLane) the low product.
  const d = cfg.derived;
  const P = int(
    dynamic ? d.lowModeProductBits : shift && !shift.inLane ? d.plainLowProductBits : d.lowProductBits,
    'low product bits',
    1,
  );
  const N = int(fmt.codeBits, 'codeBits', 1);
  const M = (shifted || shift?.inLane) && shift ? int(shift.field.bits, 'shift bits', 1) : 1;
  const params: Record<string, number> = { ...common(cfg, N, M, P), ...lane.params };
  if (lane.shift) params.SHIFT = shifted ? 1 : 0;
  return { lib: laneModule(lane.kind, lane.source), params: bind(params), pBits: P, cBits: N, mBits: M };
}

/** The middle lane of a three-level PE (pe.mid): the middle format's lane module, no metadata. */
export function midLane(cfg: ResolvedDpu): LaneKind {
  const mid = midFormatOf(cfg);
  if (!mid?.lane) throw new Error('rtl: this config has no middle lane (pe.mid)');
  const P = int(cfg.derived.midProductBits, 'midProductBits', 1);
  const N = int(mid.codeBits, 'middle codeBits', 1);
  const params: Record<string, number> = { ...common(cfg, N, 1, P), ...mid.lane.params };
  if (mid.lane.shift) params.SHIFT = 0;
  return {
    lib: laneModule(mid.lane.kind, mid.lane.source),
    params: bind(params),
    pBits: P,
    cBits: N,
    mBits: 1,
  };
}

/** The dynamic lane around a full lane (and the low lane the PE puts beside it). */
export function dynLane(cfg: ResolvedDpu, low: LaneKind | null, isolate: boolean): LaneKind {
  const full = fullLane(cfg);
  if (low && low.pBits > full.pBits)
    throw new Error(`rtl: low-mode product (${low.pBits} bits) wider than the lane (${full.pBits})`);
  const params = bind({
    A_BITS: cfg.activation.bits,
    A_SIGNED: cfg.activation.signed ? 1 : 0,
    W_BITS: full.cBits,
    P_BITS: full.pBits,
    HAS_LOW: low ? 1 : 0,
    LC_BITS: low ? low.cBits : 1,
    LP_BITS: low ? low.pBits : 2,
    ISOLATE: isolate ? 1 : 0,
  });
  return { lib: LIB.laneDyn, params, pBits: full.pBits, cBits: full.cBits, mBits: 1 };
}
