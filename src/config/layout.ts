// The packed bit layout of one weight block and one activation block: the single
// definition that the packer, the golden model, the RTL context and the simulation
// harness all read. docs/FORMATS.md describes the same layout in prose.
import type { LowFormat, PeMode } from './schema.ts';

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
  /** Static StruM: the L low codes, in block order, lowBits each (none for sparse). */
  readonly low: readonly BitField[];
  /** Dynamic StruM and INT8: one weightBits slot per block position (a low code sits in its LSBs). */
  readonly slots: readonly BitField[];
  /** DLIQ with per-block granularity: the block's shift t. */
  readonly shift: BitField | null;
}

export interface LayoutParams {
  readonly block: number;
  readonly high: number;
  readonly low: LowFormat;
  readonly mode: PeMode;
  readonly weightBits: number;
  readonly lowBits: number;
  /** Bits of the DLIQ shift field when it is stored per block, else 0. */
  readonly blockShiftBits: number;
}

/** Bits needed to store the unsigned values 0..max. */
export function bitsFor(max: number): number {
  let bits = 0;
  while (2 ** bits <= max) bits++;
  return bits;
}

/** Fields are laid out LSB first in this order: mask, high (or slots), low, shift. */
export function weightBlockLayout(p: LayoutParams): WeightBlockLayout {
  let offset = 0;
  const take = (name: string, bits: number): BitField => {
    const field = { name, offset, bits };
    offset += bits;
    return field;
  };
  const L = p.block - p.high;
  const mask = p.low === 'none' ? null : take('mask', p.block);
  const fields = (prefix: string, count: number, bits: number) =>
    Array.from({ length: count }, (_, i) => take(`${prefix}${i}`, bits));
  let high: BitField[] = [];
  let low: BitField[] = [];
  let slots: BitField[] = [];
  if (p.low === 'none' || p.mode === 'dynamic') {
    slots = fields('slot', p.block, p.weightBits);
  } else {
    high = fields('high', p.high, p.weightBits);
    if (p.low !== 'sparse') low = fields('low', L, p.lowBits);
  }
  const shift = p.blockShiftBits > 0 ? take('shift', p.blockShiftBits) : null;
  return { totalBits: offset, mask, high, low, slots, shift };
}
