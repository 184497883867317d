// Compressed storage of a block-sparse 1-3-bit layer (src/format/lowbit.ts): what a weight
// memory holds and what its size is. Three parts, 32-bit words each, least significant bit first:
//  - index: per column group (array.cols output channels), a bitmap of the row's Kp / B blocks,
//    bit j = 1 when block j is kept (groups x blocks bits);
//  - codes: for each group, for each kept block in ascending order, for each of the group's
//    channels, the block's B codes of codeBits each (the order the array streams them);
//  - scales: one per output channel, counted as 16 bits (an fp16; the values stay in the
//    quantizer's float64 here).
// The all-low PE's packed block also carries a B-bit mask (all ones, unused by the PE): it is
// not stored. docs/LOWBIT.md describes the layout.
import { type BlockKeep, keptIndices } from './lowbit.ts';
import { readBits, type WeightBlock, wordsFor, writeBits } from './pack.ts';

/** Bits one per-channel scale takes in storage (an fp16). */
export const SCALE_BITS = 16;

export interface CompressedLayer {
  readonly N: number;
  /** Padded reduction length, a multiple of B. */
  readonly Kp: number;
  readonly B: number;
  readonly codeBits: number;
  /** Output channels per group (the index's granularity). */
  readonly group: number;
  readonly index: Uint32Array;
  readonly codes: Uint32Array;
  readonly bits: {
    readonly index: number;
    readonly codes: number;
    readonly scales: number;
    readonly total: number;
  };
}

/** Bits per real weight (N x K) of the compressed storage, index and scales included. */
export const bitsPerWeight = (c: CompressedLayer, K: number): number => c.bits.total / (c.N * K);

/** The compressed storage of `blocks` ([n][j]) under the pruning `keep`. */
export function compressLayer(
  blocks: readonly (readonly WeightBlock[])[],
  keep: BlockKeep,
  B: number,
  codeBits: number,
): CompressedLayer {
  const N = blocks.length;
  const nb = keep.blocks;
  const groups = Math.ceil(N / keep.group);
  const indexBits = groups * nb;
  const index = new Uint32Array(wordsFor(indexBits));
  let kept = 0;
  for (let g = 0; g < groups; g++) {
    for (let j = 0; j < nb; j++) if (keep.keep[g * nb + j]) writeBits(index, g * nb + j, 1, 1);
    kept += keptIndices(keep, g).length * (Math.min(N, (g + 1) * keep.group) - g * keep.group);
  }
  const codeTotal = kept * B * codeBits;
  const codes = new Uint32Array(wordsFor(codeTotal));
  let at = 0;
  for (let g = 0; g < groups; g++) {
    for (const j of keptIndices(keep, g)) {
      for (let n = g * keep.group; n < Math.min(N, (g + 1) * keep.group); n++) {
        const blk = blocks[n]![j]!;
        for (let i = 0; i < B; i++, at += codeBits) writeBits(codes, at, codeBits, blk.codes[i]!);
      }
    }
  }
  const scales = N * SCALE_BITS;
  return {
    N,
    Kp: nb * B,
    B,
    codeBits,
    group: keep.group,
    index,
    codes,
    bits: { index: indexBits, codes: codeTotal, scales, total: indexBits + codeTotal + scales },
  };
}

/** The layer back from its storage: the pruning and every block (null where pruned). */
export function decompressLayer(c: CompressedLayer): { keep: BlockKeep; blocks: (WeightBlock | null)[][] } {
  const nb = c.Kp / c.B;
  const groups = Math.ceil(c.N / c.group);
  const keep = new Uint8Array(groups * nb);
  for (let b = 0; b < groups * nb; b++) keep[b] = readBits(c.index, b, 1);
  const k: BlockKeep = { group: c.group, blocks: nb, keep };
  const blocks: (WeightBlock | null)[][] = Array.from({ length: c.N }, () => new Array(nb).fill(null));
  let at = 0;
  for (let g = 0; g < groups; g++) {
    for (const j of keptIndices(k, g)) {
      for (let n = g * c.group; n < Math.min(c.N, (g + 1) * c.group); n++) {
        const codes: number[] = [];
        for (let i = 0; i < c.B; i++, at += c.codeBits) codes.push(readBits(c.codes, at, c.codeBits));
        blocks[n]![j] = { low: new Array(c.B).fill(true), codes, meta: [] };
      }
    }
  }
  return { keep: k, blocks };
}
