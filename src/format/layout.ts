// The packed bit layout of one weight block and one activation block: the single
// definition that the packer, the golden model, the RTL planner and the simulation
// harness all read. docs/FORMATS.md describes the same layout in prose.
import type { MetaField } from './spec.ts';

export interface BitField {
  /** Field name as it appears in docs and generated RTL comments. */
  readonly name: string;
  /** Bit offset of the field's LSB inside the packed word. */
  readonly offset: number;
  readonly bits: number;
}

export interface WeightBlockLayout {
  readonly totalBits: number;
  /** B-bit mask, bit i = 1 when weight i of the block is low precision (absent for the INT8 baseline). */
  readonly mask: BitField | null;
  /** Static StruM: the H high weights, in block order, two's complement, weightBits each. */
  readonly high: readonly BitField[];
  /** Static StruM: the low-format codes, in block order, codeBits each (none when codes are not stored). */
  readonly low: readonly BitField[];
  /**
   * Three-level blocks (pe.mid): the M middle codes, the block's first M low positions in
   * block order (levels.ts), before `low`; [] otherwise.
   */
  readonly mid: readonly BitField[];
  /** Dynamic StruM and INT8: one weightBits slot per block position (a low code sits in its LSBs). */
  readonly slots: readonly BitField[];
  /** The format's per-block metadata fields (e.g. the DLIQ shift), in the format's meta order. */
  readonly meta: readonly BitField[];
  /**
   * A PE structure's stored part entries (structure.ts weightParts; SDP on the weights: K
   * entries per group of G weights, group by group, `part{g*K + j}`); [] otherwise (then no
   * slots either).
   */
  readonly parts: readonly BitField[];
}

export interface LayoutParams {
  readonly block: number;
  readonly high: number;
  readonly mode: 'static' | 'dynamic';
  readonly weightBits: number;
  /** The format has low weights (a mask); false for the INT8 baseline. */
  readonly hasLow: boolean;
  /** Bits of a stored low code (0: low weights are not stored). */
  readonly codeBits: number;
  /** The format's metadata fields; those of scope 'block' are packed. */
  readonly meta: readonly MetaField[];
  /** pe.mid: M middle codes of `bits` each among the L low positions (static only). */
  readonly mid?: { readonly count: number; readonly bits: number } | null;
  /** A PE structure's stored part entries (structure.ts weightParts; SDP weights: B/G * K), instead of slots. */
  readonly parts?: { readonly count: number; readonly bits: number } | null;
}

/** Fields are laid out LSB first in this order: mask, high (or slots, or SDP parts), mid, low, metadata. */
export function weightBlockLayout(p: LayoutParams): WeightBlockLayout {
  let offset = 0;
  const take = (name: string, bits: number): BitField => {
    const field = { name, offset, bits };
    offset += bits;
    return field;
  };
  const L = p.block - p.high;
  const mask = p.hasLow ? take('mask', p.block) : null;
  const fields = (prefix: string, count: number, bits: number) =>
    Array.from({ length: count }, (_, i) => take(`${prefix}${i}`, bits));
  let high: BitField[] = [];
  let low: BitField[] = [];
  let mid: BitField[] = [];
  let slots: BitField[] = [];
  let parts: BitField[] = [];
  if (p.parts) {
    parts = fields('part', p.parts.count, p.parts.bits);
  } else if (!p.hasLow || p.mode === 'dynamic') {
    slots = fields('slot', p.block, p.weightBits);
  } else {
    high = fields('high', p.high, p.weightBits);
    const M = p.mid?.count ?? 0;
    if (M > 0) mid = fields('mid', M, p.mid!.bits);
    if (p.codeBits > 0) low = fields('low', L - M, p.codeBits);
  }
  const meta = p.meta.filter((m) => m.scope === 'block').map((m) => take(m.name, m.bits));
  return { totalBits: offset, mask, high, low, mid, slots, meta, parts };
}
