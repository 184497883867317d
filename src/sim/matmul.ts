// A whole matrix product on the generated array in Verilator: activations A [rows, Kp]
// (Kp a multiple of B) times a quantized layer's weight blocks, tiled as the array computes
// it (array.rows activation rows x array.cols output channels per tile, Kp / B blocks each).
// The same harness, stream records and bulk checker as `strumgen sim`; the array's
// out_data values are also returned, so callers use what the RTL computed.
import type { ResolvedDpu } from '../config/resolve.ts';
import { toSigned, wrapSigned } from '../format/bits.ts';
import { packActivationBlock, readBits, wordsFor } from '../format/pack.ts';
import { formatOf } from '../format/registry.ts';
import { keptIndices } from '../quant/lowbit.ts';
import type { FaultKind } from '../rtl/index.ts';
import { buildModel } from './build.ts';
import { Checker } from './check.ts';
import { blockDotKernel } from './dot.ts';
import { runHarness } from './run.ts';
import { matmulTiles, tileBlocks } from './schedule.ts';
import {
  type BlockPool,
  type Chunk,
  CTL_CLEAR,
  CTL_LAST,
  CTL_VALID,
  encodeChunk,
  type LayerWeights,
  layerPool,
  peActivationPool,
  portGeometry,
  type TileInfo,
} from './stimulus.ts';

/** Cycles per chunk handed to the harness. */
const CHUNK_CYCLES = 8192;

export interface MatmulResult {
  /** [rows, N]: what the array's out_data said. */
  readonly out: Float64Array;
  /** Results that differ from the golden model (the bulk checker), 0 when the RTL is right. */
  readonly mismatches: number;
  readonly tiles: number;
  /** Valid cycles streamed (one block per row and column each; the skipped blocks are not streamed). */
  readonly vectors: number;
  readonly cycles: number;
  readonly seconds: number;
  readonly buildSeconds: number;
}

/** Distinct activation blocks of A (im2col repeats many, zeros above all), packed once. */
function activationBlocks(
  cfg: ResolvedDpu,
  A: Int8Array,
  blocks: number,
): { pool: BlockPool; index: Uint32Array } {
  const B = cfg.pe.block;
  const seen = new Map<string, number>();
  const index = new Uint32Array(blocks);
  const items: Int8Array[] = [new Int8Array(B)];
  seen.set(Buffer.from(items[0]!.buffer).toString('latin1'), 0);
  for (let b = 0; b < blocks; b++) {
    const v = A.subarray(b * B, (b + 1) * B);
    const key = Buffer.from(v.buffer, v.byteOffset, B).toString('latin1');
    let i = seen.get(key);
    if (i === undefined) {
      i = items.length;
      seen.set(key, i);
      items.push(v);
    }
    index[b] = i;
  }
  const words = wordsFor(cfg.derived.activationBlockBits);
  const packed = new Uint32Array(items.length * words);
  const values = new Float64Array(items.length * B);
  items.forEach((v, k) => {
    packActivationBlock(cfg, Array.from(v), packed.subarray(k * words, (k + 1) * words));
    values.set(v, k * B);
  });
  return {
    pool: {
      count: items.length,
      words,
      packed,
      values,
      special: { zero: 0 },
      first: 1,
      ordinary: items.length - 1,
    },
    index,
  };
}

/**
 * The blocks each column group streams, in order: all of a row's blocks, or with block sparsity
 * the kept ones (the compressed storage's index, src/format/blocksparse.ts): the weights come
 * from the compressed storage in this order and the index says which activation block goes
 * with each. `indexFault` (test-only): the activation side reads one wrong index entry.
 */
function streamedBlocks(
  cfg: ResolvedDpu,
  layer: LayerWeights,
  indexFault: boolean,
): { weight: number[][]; act: number[][] } {
  const nb = layer.K / cfg.pe.block;
  const groups = Math.ceil(layer.N / cfg.array.cols);
  const k = layer.blockKeep;
  if (k && (k.group !== cfg.array.cols || k.blocks !== nb)) {
    throw new RangeError(
      `block index for groups of ${k.group} x ${k.blocks} blocks, the array needs ${cfg.array.cols} x ${nb}`,
    );
  }
  const weight = Array.from({ length: groups }, (_, g) =>
    k ? keptIndices(k, g) : Array.from({ length: nb }, (_, j) => j),
  );
  const act = weight.map((w) => [...w]);
  if (indexFault) {
    // The first kept block's activation index points at a block the group pruned (or the next one).
    const j0 = act[0]![0]!;
    const pruned = k ? Array.from({ length: nb }, (_, j) => j).find((j) => !k.keep[j]) : undefined;
    act[0]![0] = pruned ?? (j0 + 1) % nb;
  }
  return { weight, act };
}

/** Output-stationary tiles: rows of A in groups of array.rows, channels in groups of array.cols. */
function* tileChunks(
  cfg: ResolvedDpu,
  rows: number,
  layer: LayerWeights,
  actIndex: Uint32Array,
  streamed: { weight: number[][]; act: number[][] },
): Generator<Chunk> {
  const R = cfg.array.rows;
  const C = cfg.array.cols;
  const nb = layer.K / cfg.pe.block;
  // Every group streams the same count (tileBlocks, the schedule's one definition).
  const ns = tileBlocks(cfg, nb);
  const tilesPerChunk = Math.max(1, Math.floor(CHUNK_CYCLES / ns));
  let start = 0;
  let index = 0;
  const all: [number, number][] = [];
  for (let rg = 0; rg < Math.ceil(rows / R); rg++)
    for (let cg = 0; cg < Math.ceil(layer.N / C); cg++) all.push([rg, cg]);
  for (let t0 = 0; t0 < all.length; t0 += tilesPerChunk) {
    const group = all.slice(t0, t0 + tilesPerChunk);
    const n = group.length * ns;
    const ctl = new Uint8Array(n);
    const aIdx = new Uint32Array(n * R);
    const wIdx = new Uint32Array(n * C);
    const tiles: TileInfo[] = [];
    group.forEach(([rg, cg], g) => {
      const wb = streamed.weight[cg]!;
      const ab = streamed.act[cg]!;
      if (wb.length !== ns)
        throw new RangeError(`column group ${cg} keeps ${wb.length} blocks, the schedule ${ns}`);
      for (let i = 0; i < ns; i++) {
        const t = g * ns + i;
        ctl[t] = CTL_VALID | (i === 0 ? CTL_CLEAR : 0) | (i === ns - 1 ? CTL_LAST : 0);
        for (let r = 0; r < R; r++) {
          const row = rg * R + r;
          aIdx[t * R + r] = row < rows ? actIndex[row * nb + ab[i]!]! : 0;
        }
        for (let c = 0; c < C; c++) {
          const ch = cg * C + c;
          wIdx[t * C + c] = ch < layer.N ? 1 + ch * nb + wb[i]! : 0;
        }
      }
      tiles.push({ index: index++, first: start + g * ns, last: start + g * ns + ns - 1 });
    });
    yield { start, n, ctl, aIdx, wIdx, tiles, vectors: n };
    start += n;
  }
}

/** Results of A x W^T over every block (pruned blocks zero) that differ from `out`. */
function denseMismatches(
  cfg: ResolvedDpu,
  A: Int8Array,
  rows: number,
  layer: LayerWeights,
  out: Float64Array,
): number {
  const B = cfg.pe.block;
  const K = layer.K;
  const nb = K / B;
  const fmt = formatOf(cfg);
  const keep = layer.blockKeep!;
  const W = new Float64Array(layer.N * K);
  for (let n = 0; n < layer.N; n++) {
    const g = Math.floor(n / keep.group);
    for (let j = 0; j < nb; j++) {
      if (!keep.keep[g * nb + j]) continue;
      const blk = layer.blocks[n]![j]!;
      for (let i = 0; i < B; i++) W[n * K + j * B + i] = fmt.decode(blk.codes[i]!, blk.meta);
    }
  }
  let bad = 0;
  for (let r = 0; r < rows; r++) {
    for (let n = 0; n < layer.N; n++) {
      let acc = 0;
      for (let k = 0; k < K; k++) acc += A[r * K + k]! * W[n * K + k]!;
      if (wrapSigned(acc, cfg.accumulator.bits) !== out[r * layer.N + n]) bad++;
    }
  }
  return bad;
}

/** A x layer^T on the array; `A` holds rows x layer.K int8 activations. */
export async function simulateMatmul(
  cfg: ResolvedDpu,
  A: Int8Array,
  rows: number,
  layer: LayerWeights,
  /** fault: a test-only deliberate RTL bug (the check must then report mismatches). */
  opts: {
    timeoutMs?: number;
    onProgress?: (m: string) => void;
    fault?: FaultKind;
    /** Test-only: the activation side of the stream reads one wrong block index (block sparsity). */
    indexFault?: boolean;
  } = {},
): Promise<MatmulResult> {
  const B = cfg.pe.block;
  if (layer.K % B !== 0 || A.length !== rows * layer.K) {
    throw new RangeError(`activations ${A.length} for ${rows} rows of K ${layer.K} (a multiple of B ${B})`);
  }
  const build = await buildModel(cfg, { onProgress: opts.onProgress, fault: opts.fault });
  const t0 = performance.now();
  const R = cfg.array.rows;
  const C = cfg.array.cols;
  const nb = layer.K / B;
  const { pool: act, index } = activationBlocks(cfg, A, rows * nb);
  const wgt = layerPool(cfg, layer);
  const geometry = portGeometry(cfg);
  const kernel = blockDotKernel(R, C, B, peActivationPool(cfg, act), wgt, cfg.derived.blockSumBits);
  const out = new Float64Array(rows * layer.N);
  const colGroups = Math.ceil(layer.N / C);
  const bits = cfg.accumulator.bits;
  let tile = 0;
  // The checker compares every result with the golden model; this subclass also keeps them.
  class Capture extends Checker {
    override compare(words: Uint32Array, at: number, count: number): void {
      const rec = 1 + R * geometry.outWords;
      for (let k = 0; k < count; k++, tile++) {
        const rg = Math.floor(tile / colGroups);
        const cg = tile % colGroups;
        for (let r = 0; r < R; r++) {
          const row = rg * R + r;
          if (row >= rows) continue;
          const base = at + k * rec + 1 + r * geometry.outWords;
          const rowWords = words.subarray(base, base + geometry.outWords);
          for (let c = 0; c < C; c++) {
            const ch = cg * C + c;
            if (ch < layer.N) out[row * layer.N + ch] = toSigned(readBits(rowWords, c * bits, bits), bits);
          }
        }
      }
      super.compare(words, at, count);
    }
  }
  const checker = new Capture(cfg, geometry, act, wgt, kernel, {
    outputDelay: cfg.derived.latency - 1,
    layerMeta: layer.layerMeta,
    rerun: () => '',
  });
  let vectors = 0;
  const chunks = tileChunks(cfg, rows, layer, index, streamedBlocks(cfg, layer, opts.indexFault === true));
  const run = await runHarness({
    binary: build.binary,
    geometry,
    next: () => {
      const c = chunks.next().value ?? null;
      if (c) vectors += c.vectors;
      return c;
    },
    encode: (chunk) => encodeChunk(cfg, geometry, act, wgt, chunk, layer.layerMeta),
    checker,
    drainCycles: cfg.derived.latency + 4,
    timeoutMs: opts.timeoutMs ?? 600_000,
    what: `${cfg.name} (layer ${layer.name})`,
  });
  const expectedTiles = matmulTiles(cfg, rows, layer.N);
  const missing = expectedTiles - checker.tilesChecked;
  // With skipped blocks the checker above follows the stream; the dense product (every block,
  // pruned ones zero, no index) must give the same results, or the index paired wrong blocks.
  const dense = layer.blockKeep ? denseMismatches(cfg, A, rows, layer, out) : 0;
  return {
    out,
    mismatches: checker.mismatches + Math.max(0, missing) + dense,
    tiles: checker.tilesChecked,
    vectors,
    cycles: run.cycles,
    seconds: (performance.now() - t0) / 1000,
    buildSeconds: build.seconds,
  };
}
