// Packs and unpacks weight and activation blocks into the words the hardware consumes,
// following the layout in layout.ts. Words are 32-bit, LSB first: the same order as a
// Verilator wide signal (VlWide), so the harness copies them unchanged.
import { toSigned, toUnsigned } from './bits.ts';
import type { BitField, WeightBlockLayout } from './layout.ts';
import { type LevelsConfig, lowPositionFormats } from './levels.ts';
import { formatOf } from './registry.ts';
import type { FormatConfig } from './spec.ts';
import { type StructureConfig, structureOf } from './structure.ts';
import { activationRange, highRange } from './values.ts';

/** The parts of a resolved config the packer reads. */
export interface PackConfig extends LevelsConfig {
  readonly pe: LevelsConfig['pe'] & StructureConfig['pe'];
  readonly derived: {
    readonly lowCount: number;
    readonly weightLayout: WeightBlockLayout;
    readonly activationBlockBits: number;
  };
}

/** One weight block in logical form. */
export interface WeightBlock {
  /** low[i] is true when position i holds a low-precision weight. */
  readonly low: readonly boolean[];
  /** Per position: the signed integer of a high weight, or the unsigned low code of a low one. */
  readonly codes: readonly number[];
  /** Values of the format's per-block metadata fields (layout.meta order; [] when none, e.g. DLIQ per layer). */
  readonly meta: readonly number[];
}

export const wordsFor = (bits: number) => Math.max(1, Math.ceil(bits / 32));

export function writeBits(words: Uint32Array, offset: number, bits: number, value: number): void {
  let v = value;
  for (let done = 0; done < bits; ) {
    const pos = offset + done;
    const word = pos >>> 5;
    const bit = pos & 31;
    const take = Math.min(32 - bit, bits - done);
    const chunk = v % 2 ** take;
    const mask = take === 32 ? 0xffffffff : ((1 << take) - 1) << bit;
    words[word] = ((words[word]! & ~mask) | ((chunk << bit) & mask)) >>> 0;
    v = Math.floor(v / 2 ** take);
    done += take;
  }
}

export function readBits(words: Uint32Array, offset: number, bits: number): number {
  let out = 0;
  for (let done = 0; done < bits; ) {
    const pos = offset + done;
    const bit = pos & 31;
    const take = Math.min(32 - bit, bits - done);
    const chunk = (words[pos >>> 5]! >>> bit) & (take === 32 ? 0xffffffff : (1 << take) - 1);
    out += (chunk >>> 0) * 2 ** done;
    done += take;
  }
  return out;
}

const put = (w: Uint32Array, f: BitField, v: number) => writeBits(w, f.offset, f.bits, v);

/** Why a block cannot be packed for this config, or null. */
export function weightBlockProblem(cfg: PackConfig, block: WeightBlock): string | null {
  const B = cfg.pe.block;
  const fmt = formatOf(cfg);
  if (block.low.length !== B || block.codes.length !== B) return `a block has ${B} weights`;
  const lows = block.low.filter(Boolean).length;
  if (!fmt.hasLow && lows) return 'the INT8 baseline has no low weights';
  if (cfg.pe.mode === 'static' && fmt.hasLow && lows !== cfg.derived.lowCount) {
    return `a static block has exactly ${cfg.derived.lowCount} low weights, this one has ${lows}`;
  }
  const [hlo, hhi] = highRange(cfg);
  const lowFmts = lowPositionFormats(cfg, fmt, lows);
  let j = 0;
  for (let i = 0; i < B; i++) {
    const c = block.codes[i]!;
    if (block.low[i]) {
      const problem = lowFmts[j++]!.codeProblem(c);
      if (problem) return `position ${i}: ${problem}`;
    } else if (!Number.isInteger(c) || c < hlo || c > hhi) {
      return `position ${i}: high weight ${c} outside ${hlo}..${hhi}`;
    }
  }
  // A PE structure's stored parts (SDP on the weights): the codes are the values it can store.
  const partsProblem = structureOf(cfg).weightParts?.problem(block.codes);
  if (partsProblem) return partsProblem;
  const fields = fmt.meta.filter((m) => m.scope === 'block');
  if (block.meta.length !== fields.length) {
    return fields.length
      ? `a block carries ${fields.length} metadata value(s) (${fields.map((m) => m.name).join(', ')}), this one ${block.meta.length}`
      : `this format carries no per-block metadata, the block has ${block.meta.length} value(s)`;
  }
  for (let m = 0; m < fields.length; m++) {
    const v = block.meta[m]!;
    if (!Number.isInteger(v) || v < 0 || v > fields[m]!.max)
      return `${fields[m]!.name} ${v} outside 0..${fields[m]!.max}`;
  }
  return null;
}

/** Pack one block; throws RangeError on a block the config cannot hold. */
export function packWeightBlock(cfg: PackConfig, block: WeightBlock, out?: Uint32Array): Uint32Array {
  const problem = weightBlockProblem(cfg, block);
  if (problem) throw new RangeError(problem);
  const layout = cfg.derived.weightLayout;
  const words = out ?? new Uint32Array(wordsFor(layout.totalBits));
  words.fill(0);
  const wb = cfg.weightBits;
  if (layout.mask) {
    for (let i = 0; i < cfg.pe.block; i++) if (block.low[i]) writeBits(words, layout.mask.offset + i, 1, 1);
  }
  const parts = structureOf(cfg).weightParts;
  if (parts) {
    // A PE structure's part entries (SDP on the weights; src/format/structure.ts).
    parts.encode(block.codes).forEach((raw, j) => {
      put(words, layout.parts[j]!, raw);
    });
  } else if (layout.slots.length) {
    // Dynamic and INT8: position i has its own slot; a low code sits in its LSBs.
    layout.slots.forEach((f, i) => {
      put(words, f, block.low[i] ? block.codes[i]! : toUnsigned(block.codes[i]!, wb));
    });
  } else {
    // The j-th low position: a middle code (j < M), then the low-format codes (if stored).
    const lowFields = [...layout.mid, ...layout.low];
    let h = 0;
    let l = 0;
    for (let i = 0; i < cfg.pe.block; i++) {
      if (!block.low[i]) put(words, layout.high[h++]!, toUnsigned(block.codes[i]!, wb));
      else {
        const f = lowFields[l++];
        if (f) put(words, f, block.codes[i]!);
      }
    }
  }
  layout.meta.forEach((f, m) => {
    put(words, f, block.meta[m]!);
  });
  return words;
}

export function unpackWeightBlock(cfg: PackConfig, words: Uint32Array): WeightBlock {
  const layout = cfg.derived.weightLayout;
  const B = cfg.pe.block;
  const get = (f: BitField) => readBits(words, f.offset, f.bits);
  const low = Array.from({ length: B }, (_, i) =>
    layout.mask ? readBits(words, layout.mask.offset + i, 1) === 1 : false,
  );
  const codes: number[] = new Array(B).fill(0);
  const parts = structureOf(cfg).weightParts;
  if (parts) {
    parts.decode(layout.parts.map(get)).forEach((v, i) => {
      codes[i] = v;
    });
  } else if (layout.slots.length) {
    layout.slots.forEach((f, i) => {
      codes[i] = low[i] ? get(f) % 2 ** formatOf(cfg).codeBits : toSigned(get(f), cfg.weightBits);
    });
  } else {
    const lowFields = [...layout.mid, ...layout.low];
    let h = 0;
    let l = 0;
    for (let i = 0; i < B; i++) {
      if (!low[i]) codes[i] = toSigned(get(layout.high[h++]!), cfg.weightBits);
      else {
        const f = lowFields[l++];
        codes[i] = f ? get(f) : 0;
      }
    }
  }
  return { low, codes, meta: layout.meta.map(get) };
}

/**
 * The metadata values a block's low weights decode with, in the format's meta order: the
 * block's own fields, and `layerMeta` (the layer-scope values, in order) for the others.
 */
export function blockMeta(
  cfg: FormatConfig,
  block: WeightBlock,
  layerMeta: readonly number[] = [],
): number[] {
  let b = 0;
  let l = 0;
  return formatOf(cfg).meta.map((m) => (m.scope === 'block' ? block.meta[b++]! : (layerMeta[l++] ?? 0)));
}

/**
 * Integer weight values of a block; `layerMeta` holds the format's layer-scope metadata.
 * This is the arithmetic meaning of the block that the hardware must reproduce.
 */
export function decodeWeightBlock(
  cfg: LevelsConfig,
  block: WeightBlock,
  layerMeta: readonly number[] = [],
): number[] {
  const fmt = formatOf(cfg);
  const meta = blockMeta(cfg, block, layerMeta);
  if (!cfg.pe.mid) return block.codes.map((c, i) => (block.low[i] ? fmt.decode(c, meta) : c));
  // Three levels: the j-th low position decodes with its level's format (a middle format has no metadata).
  const fmts = lowPositionFormats(cfg, fmt, block.low.filter(Boolean).length);
  let j = 0;
  return block.codes.map((c, i) => {
    if (!block.low[i]) return c;
    const f = fmts[j++]!;
    return f === fmt ? f.decode(c, meta) : f.decode(c, []);
  });
}

/** Pack B activations, lane i at bits [i*A, i*A + A). */
export function packActivationBlock(
  cfg: PackConfig,
  acts: readonly number[],
  out?: Uint32Array,
): Uint32Array {
  const A = cfg.activation.bits;
  const [lo, hi] = activationRange(cfg);
  const words = out ?? new Uint32Array(wordsFor(cfg.derived.activationBlockBits));
  words.fill(0);
  if (acts.length !== cfg.pe.block) throw new RangeError(`an activation block has ${cfg.pe.block} values`);
  acts.forEach((a, i) => {
    if (!Number.isInteger(a) || a < lo || a > hi)
      throw new RangeError(`activation ${a} outside ${lo}..${hi}`);
    writeBits(words, i * A, A, toUnsigned(a, A));
  });
  return words;
}

export function unpackActivationBlock(cfg: PackConfig, words: Uint32Array): number[] {
  const A = cfg.activation.bits;
  return Array.from({ length: cfg.pe.block }, (_, i) => {
    const raw = readBits(words, i * A, A);
    return cfg.activation.signed ? toSigned(raw, A) : raw;
  });
}

/**
 * OR `words` packed words (LSB first, zero above the value's width) into a wider image
 * whose word 0 is `dst[dstBase]`, starting at bit `offset` of that image: how blocks are
 * concatenated into the array's `in_act` / `in_wgt` ports. The image must be zero there.
 */
export function placeWords(
  dst: Uint32Array,
  dstBase: number,
  offset: number,
  src: Uint32Array,
  srcBase: number,
  words: number,
): void {
  const shift = offset & 31;
  let at = dstBase + (offset >>> 5);
  if (shift === 0) {
    for (let i = 0; i < words; i++) dst[at + i]! |= src[srcBase + i]!;
    return;
  }
  for (let i = 0; i < words; i++, at++) {
    const v = src[srcBase + i]!;
    dst[at]! |= v << shift;
    const spill = v >>> (32 - shift);
    // A spill past the image is always zero (the value fits), so it is never written.
    if (spill) dst[at + 1]! |= spill;
  }
}
