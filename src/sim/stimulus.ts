// Seeded stimulus for the co-simulation: pools of packed blocks, a stream of array
// cycles built from them (edge cases first, then random tiles, or the tiles of a real
// layer), and the binary records the harness replays (sim/harness.cpp).
//
// Every block goes through the shared packer (packActivationBlock / packWeightBlock) once
// when the pool is made; a cycle then only picks pool indices, so millions of cycles cost
// little. Each pool also holds the decoded integer values the checker multiplies.
import { groupChannelsOf, maskScopeOf } from '../config/mask-scope.ts';
import type { ResolvedDpu } from '../config/resolve.ts';
import { lowPositionFormats } from '../format/levels.ts';
import {
  decodeWeightBlock,
  packActivationBlock,
  packWeightBlock,
  placeWords,
  type WeightBlock,
  wordsFor,
} from '../format/pack.ts';
import { formatOf } from '../format/registry.ts';
import type { BoundFormat } from '../format/spec.ts';
import { structureOf } from '../format/structure.ts';
import { activationRange, highRange } from '../format/values.ts';
import type { Rng } from '../io/rng.ts';
import { blockDot } from '../quant/golden.ts';
import type { BlockKeep } from '../quant/lowbit.ts';

/** Blocks packed once: `packed` holds `words` words per block, `values` B integers per block. */
export interface BlockPool {
  readonly count: number;
  readonly words: number;
  readonly packed: Uint32Array;
  readonly values: Float64Array;
  /** Named special blocks (edge cases) and their indices. */
  readonly special: Readonly<Record<string, number>>;
  /** Index of the first ordinary (random or layer) block, and how many there are. */
  readonly first: number;
  readonly ordinary: number;
}

export interface WeightPool extends BlockPool {
  /** The logical blocks (for mismatch reports). */
  readonly blocks: readonly WeightBlock[];
}

function buildPool<T>(
  count: number,
  words: number,
  B: number,
  items: readonly T[],
  pack: (item: T, out: Uint32Array) => void,
  decode: (item: T) => readonly number[],
): { packed: Uint32Array; values: Float64Array } {
  const packed = new Uint32Array(count * words);
  const values = new Float64Array(count * B);
  items.forEach((item, k) => {
    pack(item, packed.subarray(k * words, (k + 1) * words));
    values.set(decode(item), k * B);
  });
  return { packed, values };
}

/** Activation blocks: zero, all max, all min, alternating min/max, then `random` uniform ones. */
export function activationPool(cfg: ResolvedDpu, rng: Rng, random: number): BlockPool {
  const B = cfg.pe.block;
  const [lo, hi] = activationRange(cfg);
  const special: Record<string, number> = {};
  const items: number[][] = [];
  const add = (name: string, a: number[]) => {
    special[name] = items.length;
    items.push(a);
  };
  add('zero', new Array(B).fill(0));
  add('max', new Array(B).fill(hi));
  add('min', new Array(B).fill(lo));
  add(
    'alternating',
    Array.from({ length: B }, (_, i) => (i % 2 ? hi : lo)),
  );
  // The PE structure's own edge cases (SDP on the activations: the top-K selector's ties).
  for (const [name, a] of structureOf(cfg).activationEdges(rng, lo, hi)) add(name, a);
  const first = items.length;
  for (let k = 0; k < random; k++) items.push(Array.from({ length: B }, () => rng.int(lo, hi)));
  const words = wordsFor(cfg.derived.activationBlockBits);
  const { packed, values } = buildPool(
    items.length,
    words,
    B,
    items,
    (a, out) => packActivationBlock(cfg, a, out),
    (a) => a,
  );
  return { count: items.length, words, packed, values, special, first, ordinary: random };
}

/**
 * The activations the PE multiplies, for the golden dot products: the pool itself, or what the
 * PE structure makes of it (SDP: each group's kept parts); the ports still carry the raw blocks.
 */
export function peActivationPool(cfg: ResolvedDpu, pool: BlockPool): BlockPool {
  const values = structureOf(cfg).peActivations(pool.values);
  return values === pool.values ? pool : { ...pool, values };
}

/** k distinct positions of 0..B-1, in order. */
function choose(rng: Rng, B: number, k: number): boolean[] {
  const pos = Array.from({ length: B }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + rng.below(B - i);
    [pos[i], pos[j]] = [pos[j]!, pos[i]!];
  }
  const mask = new Array(B).fill(false);
  for (let i = 0; i < k; i++) mask[pos[i]!] = true;
  return mask;
}

/** Low code with the most negative (sign) or most positive value of the format (its edge codes). */
function extremeLowCode(fmt: BoundFormat, negative: boolean): number {
  const { edgeCodes } = fmt;
  return negative ? edgeCodes.negative : edgeCodes.positive;
}

/** A uniformly drawn legal low code. */
function randomLowCode(fmt: BoundFormat, rng: Rng): number {
  const { codes } = fmt;
  return codes.length ? codes[rng.below(codes.length)]! : 0;
}

/** The metadata candidates of one scope ([[]] when the format has none there). */
function candidatesOf(cfg: ResolvedDpu, scope: 'block' | 'layer'): readonly (readonly number[])[] {
  const fmt = formatOf(cfg);
  return fmt.meta.some((m) => m.scope === scope) ? fmt.metaCandidates : [[]];
}

/** Random layer-scope metadata values for a run ([] when the format has none; no draw then). */
export function randomLayerMeta(cfg: ResolvedDpu, rng: Rng): readonly number[] {
  const c = candidatesOf(cfg, 'layer');
  return c.length > 1 || c[0]!.length ? c[rng.below(c.length)]! : [];
}

/**
 * Weight blocks: named edge blocks (zero, extremes; all-low and all-high masks for dynamic
 * StruM), then `random` blocks with random masks (exactly L low when static) and codes over
 * the whole legal range (high weights include -2^(W-1), which the quantizer never makes).
 */
export function weightPool(
  cfg: ResolvedDpu,
  rng: Rng,
  random: number,
  layerMeta: readonly number[] = [],
): WeightPool {
  // A PE structure that stores its own weights (SDP on the weights: part entries) draws its blocks.
  const own = structureOf(cfg).weightBlocks(rng, random, highRange(cfg));
  if (own) {
    const items = [...own.edges.map(([, b]) => b), ...own.random];
    const special = Object.fromEntries(own.edges.map(([name], i) => [name, i]));
    return finishWeightPool(cfg, items, special, own.edges.length, []);
  }
  const B = cfg.pe.block;
  const L = cfg.derived.lowCount;
  const [wlo, whi] = highRange(cfg);
  const hasLow = formatOf(cfg).hasLow;
  const dynamic = cfg.pe.mode === 'dynamic';
  // Per-block metadata: the edge blocks take the last candidate (DLIQ: the largest shift).
  const cands = candidatesOf(cfg, 'block');
  const firstMeta = cands[0]!;
  const lastMeta = cands[cands.length - 1]!;
  const randomMeta = () => cands[rng.below(cands.length)]!;
  const special: Record<string, number> = {};
  const items: WeightBlock[] = [];
  const make = (
    low: boolean[],
    high: () => number,
    lowCode: (fmt: BoundFormat) => number,
    meta: readonly number[],
  ): WeightBlock => {
    // The j-th low position's format (pe.mid: the middle format for the first M).
    const fmts = lowPositionFormats(cfg, formatOf(cfg), low.filter(Boolean).length);
    let j = 0;
    return { low, codes: low.map((l) => (l ? lowCode(fmts[j++]!) : high())), meta };
  };
  const add = (name: string, b: WeightBlock) => {
    special[name] = items.length;
    items.push(b);
  };
  // Static blocks always have L low positions; place them first, last or spread. Mask scope
  // 'layer': every block has the fixed pattern (high lanes 0..H-1); 'group': the random
  // blocks come in families of G with one mask (the stream gives a column group one family).
  const scope = maskScopeOf(cfg);
  const G = groupChannelsOf(cfg);
  const lastL = Array.from({ length: B }, (_, i) => hasLow && i >= B - L);
  const firstL = scope.kind === 'layer' ? lastL : Array.from({ length: B }, (_, i) => hasLow && i < L);
  add(
    'zero',
    make(
      firstL,
      () => 0,
      () => 0,
      firstMeta,
    ),
  );
  add(
    'negative',
    make(
      lastL,
      () => wlo,
      (f) => extremeLowCode(f, true),
      lastMeta,
    ),
  );
  add(
    'positive',
    make(
      firstL,
      () => whi,
      (f) => extremeLowCode(f, false),
      lastMeta,
    ),
  );
  // The format's own edge codes (LP: zero, NaR, regime extremes), L to a block, at the largest metadata.
  const edgeLow = formatOf(cfg).edgeLowCodes ?? [];
  const lowSlots = dynamic ? B : L;
  for (let i = 0; hasLow && lowSlots > 0 && i < edgeLow.length; i += lowSlots) {
    let j = i;
    const mask = dynamic ? new Array(B).fill(true) : firstL;
    add(
      `format-edges-${i / lowSlots}`,
      make(
        mask,
        () => whi,
        () => edgeLow[j++ % edgeLow.length]!,
        lastMeta,
      ),
    );
  }
  if (dynamic) {
    const all = new Array(B).fill(true);
    const none = new Array(B).fill(false);
    add(
      'all-low',
      make(
        all,
        () => 0,
        (f) => randomLowCode(f, rng),
        randomMeta(),
      ),
    );
    add(
      'all-low-negative',
      make(
        all,
        () => 0,
        (f) => extremeLowCode(f, true),
        lastMeta,
      ),
    );
    add(
      'all-high',
      make(
        none,
        () => rng.int(wlo, whi),
        () => 0,
        randomMeta(),
      ),
    );
    add(
      'all-high-negative',
      make(
        none,
        () => wlo,
        () => 0,
        firstMeta,
      ),
    );
  }
  const first = items.length;
  let family: boolean[] = [];
  for (let k = 0; k < Math.ceil(random / G) * G; k++) {
    if (G > 1 && k % G === 0) family = choose(rng, B, L);
    const low = !hasLow
      ? new Array(B).fill(false)
      : dynamic
        ? choose(rng, B, rng.int(0, B))
        : scope.kind === 'layer'
          ? lastL
          : G > 1
            ? family
            : choose(rng, B, L);
    items.push(
      make(
        low,
        () => rng.int(wlo, whi),
        (f) => randomLowCode(f, rng),
        randomMeta(),
      ),
    );
  }
  return finishWeightPool(cfg, items, special, first, layerMeta);
}

function finishWeightPool(
  cfg: ResolvedDpu,
  items: WeightBlock[],
  special: Record<string, number>,
  first: number,
  layerMeta: readonly number[],
): WeightPool {
  const words = wordsFor(cfg.derived.weightBlockBits);
  const { packed, values } = buildPool(
    items.length,
    words,
    cfg.pe.block,
    items,
    (b, out) => packWeightBlock(cfg, b, out),
    (b) => decodeWeightBlock(cfg, b, layerMeta),
  );
  return {
    count: items.length,
    words,
    packed,
    values,
    special,
    first,
    ordinary: items.length - first,
    blocks: items,
  };
}

/** A real layer, already quantized for the config (quantizeForConfig). */
export interface LayerWeights {
  readonly name: string;
  /** Output channels and padded reduction length (a multiple of B). */
  readonly N: number;
  readonly K: number;
  /** [n][j] blocks. */
  readonly blocks: readonly (readonly WeightBlock[])[];
  /** The format's layer metadata of the layer (quantizeForConfig's layerMeta). */
  readonly layerMeta: readonly number[];
  /** Block sparsity (quantizeForConfig's blockKeep): the kept blocks, the only ones streamed. */
  readonly blockKeep?: BlockKeep;
}

/** The layer's blocks, n-major (block (n, j) at first + n * K/B + j), after one zero block. */
export function layerPool(cfg: ResolvedDpu, layer: LayerWeights): WeightPool {
  const B = cfg.pe.block;
  const L = cfg.derived.lowCount;
  const zero: WeightBlock = {
    low: Array.from({ length: B }, (_, i) => formatOf(cfg).hasLow && cfg.pe.mode === 'static' && i < L),
    codes: new Array(B).fill(0),
    meta: candidatesOf(cfg, 'block')[0]!,
  };
  const items = [zero, ...layer.blocks.flat()];
  return finishWeightPool(cfg, items, { zero: 0 }, 1, layer.layerMeta);
}

// ---------------------------------------------------------------------------------------
// The cycle stream.

export const CTL_VALID = 1;
export const CTL_CLEAR = 2;
export const CTL_LAST = 4;

/** A tile: the results captured by the block with in_last. */
export interface TileInfo {
  readonly index: number;
  /** Stream cycle of the tile's first cycle and of its last block. */
  readonly first: number;
  readonly last: number;
}

/** A run of consecutive cycles, always made of whole tiles (and idle cycles). */
export interface Chunk {
  /** Stream cycle of ctl[0]. */
  readonly start: number;
  readonly n: number;
  /** Per cycle: CTL_VALID | CTL_CLEAR | CTL_LAST bits as driven (clear/last count only when valid). */
  readonly ctl: Uint8Array;
  /** Pool indices: activation block of row r at aIdx[t*rows + r], weight block of column c at wIdx[t*cols + c]. */
  readonly aIdx: Uint32Array;
  readonly wIdx: Uint32Array;
  readonly tiles: readonly TileInfo[];
  readonly vectors: number;
}

export interface StreamOptions {
  /** Valid cycles to emit in total. */
  readonly vectors: number;
  /** Begin with the edge-case tiles (random mode only). */
  readonly edges?: boolean;
  /** Longest random tile, in blocks. */
  readonly maxBlocks?: number;
  /** Stop after this tile (used to re-run one tile). */
  readonly lastTile?: number;
}

interface TileSpec {
  readonly blocks: number;
  /** Pool index of row r's / column c's block in the tile's block t; absent: random ordinary blocks. */
  readonly act?: (t: number, r: number) => number;
  readonly wgt?: (t: number, c: number) => number;
  /** The tile does not start with clear (it continues the previous accumulation). */
  readonly noClear?: boolean;
  /** Blocks (after the first) that carry clear: the accumulation restarts there. */
  readonly clearAt?: readonly number[];
  /** Idle cycles inserted after these blocks (with junk data and junk clear/last bits). */
  readonly idleAfter?: readonly number[];
  /** Idle cycles after the tile. */
  readonly gap?: number;
  readonly label: string;
}

/**
 * Generates the cycle stream chunk by chunk. Deterministic for a seed and options, so a
 * re-run with the same seed and vector count replays the same cycles.
 */
export class StimulusStream {
  private readonly rows: number;
  private readonly cols: number;
  private readonly B: number;
  private readonly specs: TileSpec[] = [];
  private cycle = 0;
  private vectors = 0;
  private tileIndex = 0;
  private readonly maxBlocks: number;
  /** Mask scope 'group': G columns share a mask, so they draw from one family of the pool. */
  private readonly G: number;
  private family = 0;
  /** Label of every tile that was not random (tile index -> label). */
  readonly labels = new Map<number, string>();

  constructor(
    cfg: ResolvedDpu,
    private readonly act: BlockPool,
    private readonly wgt: BlockPool,
    private readonly rng: Rng,
    private readonly opts: StreamOptions,
    private readonly layer?: LayerWeights,
  ) {
    this.rows = cfg.array.rows;
    this.cols = cfg.array.cols;
    this.B = cfg.pe.block;
    this.maxBlocks = opts.maxBlocks ?? 32;
    this.G = groupChannelsOf(cfg);
    if (!layer && opts.edges !== false) this.edgeTiles(cfg);
  }

  private randomAct = () => this.act.first + this.rng.below(this.act.ordinary);
  /** A random ordinary weight block for column c (columns are asked in order 0, 1, ...). */
  private randomWgt = (c = 0) => {
    const { G, wgt } = this;
    if (G === 1) return wgt.first + this.rng.below(wgt.ordinary);
    if (c % G === 0) this.family = this.rng.below(wgt.ordinary / G);
    return wgt.first + this.family * G + (c % G);
  };

  /** The edge cases, in order; each is one or a few tiles. */
  private edgeTiles(cfg: ResolvedDpu) {
    const a = this.act.special;
    const w = this.wgt.special;
    const ra = () => this.randomAct();
    const rw = (_b: number, c: number) => this.randomWgt(c);
    const push = (label: string, spec: Omit<TileSpec, 'label'>) => this.specs.push({ label, ...spec });
    push('all-zero', { blocks: 2, act: () => a.zero!, wgt: () => w.zero! });
    push('zero activations', { blocks: 2, act: () => a.zero!, wgt: rw });
    push('zero weights', { blocks: 2, act: ra, wgt: () => w.zero! });
    for (const an of ['min', 'max', 'alternating']) {
      for (const wn of Object.keys(w).filter((k) => k !== 'zero')) {
        push(`${an} activations x ${wn} weights`, { blocks: 3, act: () => a[an]!, wgt: () => w[wn]! });
      }
    }
    for (const wn of Object.keys(w)) {
      push(`random activations x ${wn} weights`, { blocks: 2, act: ra, wgt: () => w[wn]! });
    }
    for (let i = 0; i < 6; i++) push('one-block tile, back to back', { blocks: 1, act: ra, wgt: rw });
    push('clear in the middle of a tile', { blocks: 6, act: ra, wgt: rw, clearAt: [3] });
    push('idle cycles inside a tile', { blocks: 5, act: ra, wgt: rw, idleAfter: [1, 3, 3], gap: 2 });
    push('tile without clear (continues the previous sum)', { blocks: 3, act: ra, wgt: rw, noClear: true });
    // Accumulator wrap: the largest block sum repeated until the accumulator overflows.
    const B = cfg.pe.block;
    let best = { sum: 0, a: a.zero!, w: w.zero! };
    for (const ai of Object.values(a)) {
      for (const wi of Object.values(w)) {
        const s = Math.abs(blockDot(this.act.values, this.wgt.values, ai * B, wi * B, B));
        if (s > best.sum) best = { sum: s, a: ai, w: wi };
      }
    }
    if (best.sum > 0) {
      const blocks = Math.floor(2 ** (cfg.accumulator.bits - 1) / best.sum) + 2;
      if (blocks <= Math.min(20_000, this.opts.vectors / 2)) {
        push('accumulator wrap', { blocks, act: () => best.a, wgt: () => best.w });
      }
    }
  }

  private nextSpec(): TileSpec {
    const fromEdges = this.specs.shift();
    if (fromEdges) return fromEdges;
    const layer = this.layer;
    if (layer) {
      const nb = layer.K / this.B;
      const groups = Math.ceil(layer.N / this.cols);
      const g = this.tileIndex % groups;
      const ra = () => this.randomAct();
      return {
        label: `layer ${layer.name}, output channels ${g * this.cols}..${Math.min(layer.N, (g + 1) * this.cols) - 1}`,
        blocks: nb,
        act: ra,
        wgt: (t, c) => {
          const n = g * this.cols + c;
          return n < layer.N ? this.wgt.first + n * nb + t : this.wgt.special.zero!;
        },
      };
    }
    const rng = this.rng;
    const blocks = 1 + rng.below(this.maxBlocks);
    const clearAt: number[] = [];
    const idleAfter: number[] = [];
    for (let b = 1; b < blocks; b++) if (rng.chance(0.02)) clearAt.push(b);
    for (let b = 0; b < blocks - 1; b++) if (rng.chance(0.02)) idleAfter.push(b);
    return {
      label: '',
      blocks,
      clearAt,
      idleAfter,
      noClear: this.tileIndex > 0 && rng.chance(0.02),
      gap: rng.chance(0.05) ? rng.int(1, 3) : 0,
    };
  }

  /** Tiles emitted so far. */
  get tiles(): number {
    return this.tileIndex;
  }

  get done(): boolean {
    return (
      this.vectors >= this.opts.vectors ||
      (this.opts.lastTile !== undefined && this.tileIndex > this.opts.lastTile)
    );
  }

  // The chunk being filled (fields, not closure variables: this is the hot path).
  private n = 0;
  private cap = 0;
  private ctl = new Uint8Array(0);
  private aIdx = new Uint32Array(0);
  private wIdx = new Uint32Array(0);

  /** Append one cycle; spec null (or without act / wgt): random ordinary blocks. */
  private emit(bits: number, spec: TileSpec | null, b: number): void {
    const { rows, cols, rng, act, wgt } = this;
    if (this.n === this.cap) {
      this.cap *= 2;
      const grow = <T extends Uint8Array | Uint32Array>(old: T, size: number): T => {
        const fresh = new (old.constructor as new (n: number) => T)(size);
        fresh.set(old);
        return fresh;
      };
      this.ctl = grow(this.ctl, this.cap);
      this.aIdx = grow(this.aIdx, this.cap * rows);
      this.wIdx = grow(this.wIdx, this.cap * cols);
    }
    const n = this.n++;
    this.ctl[n] = bits;
    const aIdx = this.aIdx;
    const wIdx = this.wIdx;
    const ao = n * rows;
    const wo = n * cols;
    if (spec?.act) for (let r = 0; r < rows; r++) aIdx[ao + r] = spec.act(b, r);
    else for (let r = 0; r < rows; r++) aIdx[ao + r] = act.first + rng.below(act.ordinary);
    if (spec?.wgt) for (let c = 0; c < cols; c++) wIdx[wo + c] = spec.wgt(b, c);
    else if (this.G > 1) for (let c = 0; c < cols; c++) wIdx[wo + c] = this.randomWgt(c);
    else for (let c = 0; c < cols; c++) wIdx[wo + c] = wgt.first + rng.below(wgt.ordinary);
  }

  /** Idle cycles carry junk data and junk clear/last bits: only in_valid may make them count. */
  private idle(): void {
    this.emit(this.rng.below(4) << 1, null, 0);
  }

  /** The next chunk of about `target` cycles (whole tiles), or null at the end. */
  next(target: number): Chunk | null {
    if (this.done) return null;
    const { rows, cols } = this;
    this.cap = Math.max(target, 64);
    this.ctl = new Uint8Array(this.cap);
    this.aIdx = new Uint32Array(this.cap * rows);
    this.wIdx = new Uint32Array(this.cap * cols);
    this.n = 0;
    const start = this.cycle;
    let vectors = 0;
    const tiles: TileInfo[] = [];
    while (this.n < target && !this.done) {
      const spec = this.nextSpec();
      const blocks = Math.min(spec.blocks, this.opts.vectors - this.vectors);
      const first = start + this.n;
      for (let b = 0; b < blocks; b++) {
        let bits = CTL_VALID;
        if (b === 0 ? !spec.noClear : spec.clearAt?.includes(b)) bits |= CTL_CLEAR;
        if (b === blocks - 1) bits |= CTL_LAST;
        this.emit(bits, spec, b);
        vectors++;
        this.vectors++;
        if (spec.idleAfter?.length)
          for (const i of spec.idleAfter) if (i === b && b < blocks - 1) this.idle();
      }
      if (spec.label) this.labels.set(this.tileIndex, spec.label);
      tiles.push({ index: this.tileIndex++, first, last: start + this.n - 1 });
      for (let i = 0; i < (spec.gap ?? 0); i++) this.idle();
    }
    const n = this.n;
    this.cycle = start + n;
    return {
      start,
      n,
      ctl: this.ctl.subarray(0, n),
      aIdx: this.aIdx.subarray(0, n * rows),
      wIdx: this.wIdx.subarray(0, n * cols),
      tiles,
      vectors,
    };
  }
}

// ---------------------------------------------------------------------------------------
// Binary records for the harness.

export const STIM_MAGIC = 0x4d525453; // "STRM"
export const STIM_VERSION = 1;

/** Word counts of the ports, as the harness (and the Verilator model) sees them. */
export interface PortGeometry {
  readonly rows: number;
  readonly cols: number;
  readonly actWords: number;
  readonly wgtWords: number;
  /** Words of out_data (one result row). */
  readonly outWords: number;
  readonly recordWords: number;
}

export function portGeometry(cfg: ResolvedDpu): PortGeometry {
  const { rows, cols } = cfg.array;
  const io = cfg.derived.interface;
  const actWords = wordsFor(io.actBits);
  const wgtWords = wordsFor(io.wgtBits);
  const outWords = wordsFor(io.outBits);
  return { rows, cols, actWords, wgtWords, outWords, recordWords: 1 + actWords + wgtWords };
}

export function streamHeader(g: PortGeometry, drainCycles: number): Uint32Array {
  return Uint32Array.of(STIM_MAGIC, STIM_VERSION, g.rows, g.actWords, g.wgtWords, g.outWords, drainCycles, 0);
}

/**
 * The harness records of a chunk: per cycle the control word (valid, clear, last, and the
 * format's layer metadata in bits 8..31, laid out as derived.interface.layerMeta), then the
 * full in_act and in_wgt port images.
 */
export function encodeChunk(
  cfg: ResolvedDpu,
  g: PortGeometry,
  act: BlockPool,
  wgt: BlockPool,
  chunk: Chunk,
  layerMeta: readonly number[],
): Uint32Array {
  const { rows, cols, actWords, recordWords } = g;
  const abb = cfg.derived.activationBlockBits;
  const wbb = cfg.derived.weightBlockBits;
  const aw = act.words;
  const ww = wgt.words;
  const out = new Uint32Array(chunk.n * recordWords);
  const io = cfg.derived.interface;
  let metaImage = 0;
  io.layerMeta.forEach((m, i) => {
    const v = layerMeta[i] ?? 0;
    if (!Number.isInteger(v) || v < 0 || v > m.field.max)
      throw new RangeError(`${m.port} ${v} outside 0..${m.field.max}`);
    metaImage += v * 2 ** m.offset;
  });
  const metaBits = (metaImage << 8) >>> 0;
  const { ctl, aIdx, wIdx } = chunk;
  const ap = act.packed;
  const wp = wgt.packed;
  for (let t = 0; t < chunk.n; t++) {
    const base = t * recordWords;
    out[base] = (ctl[t]! | metaBits) >>> 0;
    const ab = base + 1;
    for (let r = 0; r < rows; r++) placeWords(out, ab, r * abb, ap, aIdx[t * rows + r]! * aw, aw);
    const wb = ab + actWords;
    for (let c = 0; c < cols; c++) placeWords(out, wb, c * wbb, wp, wIdx[t * cols + c]! * ww, ww);
  }
  return out;
}
