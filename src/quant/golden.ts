// Bit-exact integer model of a lane, a PE and the output-stationary PE array. The RTL
// must match it bit for bit; the co-simulation compares against it.
import type { ResolvedDpu } from '../config/resolve.ts';
import { wrapSigned } from '../format/bits.ts';
import { decodeWeightBlock, unpackWeightBlock, type WeightBlock } from '../format/pack.ts';
import { structureOf } from '../format/structure.ts';

export { wrapSigned };

/** Exact dot product of one activation block and one decoded weight block. */
export function blockDot(
  acts: ArrayLike<number>,
  weights: ArrayLike<number>,
  aOff = 0,
  wOff = 0,
  B = weights.length,
): number {
  let s = 0;
  for (let i = 0; i < B; i++) s += acts[aOff + i]! * weights[wOff + i]!;
  return s;
}

/** One accumulator step: clear starts a new sum with this block, else it adds; wraps at accumulator.bits. */
export function accumulate(cfg: ResolvedDpu, acc: number, blockSum: number, clear: boolean): number {
  return wrapSigned((clear ? 0 : acc) + blockSum, cfg.accumulator.bits);
}

/** One cycle at the array's inputs. clear and last only count when valid. */
export interface ArrayCycle {
  readonly valid: boolean;
  /** Start a new accumulation with this block (acc = block sum). */
  readonly clear: boolean;
  /** This block ends a tile: the array captures every accumulator into its result registers. */
  readonly last: boolean;
  /** rows activation blocks of B integers. */
  readonly act: readonly (readonly number[])[];
  /** cols packed weight blocks (or already unpacked blocks). */
  readonly wgt: readonly (Uint32Array | WeightBlock)[];
}

/** The state of the array model: one accumulator per PE and the captured results. */
export class GoldenArray {
  readonly rows: number;
  readonly cols: number;
  /** acc[r * cols + c]: PE (r, c)'s accumulator, the per-PE partial sum. */
  readonly acc: Float64Array;
  /** Completed tiles, each rows*cols results in row-major order. */
  readonly tiles: Float64Array[] = [];

  constructor(
    readonly cfg: ResolvedDpu,
    /** The format's layer-scope metadata values (e.g. the DLIQ shift per layer); [] when none. */
    readonly layerMeta: readonly number[] = [],
  ) {
    this.rows = cfg.array.rows;
    this.cols = cfg.array.cols;
    this.acc = new Float64Array(this.rows * this.cols);
  }

  /** Decoded integer weights of a column's block. */
  weightsOf(w: Uint32Array | WeightBlock): number[] {
    const block = w instanceof Uint32Array ? unpackWeightBlock(this.cfg, w) : w;
    return decodeWeightBlock(this.cfg, block, this.layerMeta);
  }

  step(cycle: ArrayCycle): Float64Array | null {
    if (!cycle.valid) return null;
    const { rows, cols, cfg } = this;
    const weights = cycle.wgt.map((w) => this.weightsOf(w));
    for (let r = 0; r < rows; r++) {
      // What the PE multiplies (SDP: the kept parts of each activation group; src/format/structure.ts).
      const a = structureOf(cfg).peActivations(cycle.act[r]!);
      for (let c = 0; c < cols; c++) {
        const i = r * cols + c;
        this.acc[i] = accumulate(cfg, this.acc[i]!, blockDot(a, weights[c]!), cycle.clear);
      }
    }
    if (!cycle.last) return null;
    const tile = Float64Array.from(this.acc);
    this.tiles.push(tile);
    return tile;
  }
}

/**
 * The results of one whole tile: A is rows x K activations, W is cols x K decoded
 * weights (K a multiple of B), both row-major. Same result as stepping the array
 * K/B times with clear on the first block and last on the final one.
 */
export function tileResults(
  cfg: ResolvedDpu,
  A: ArrayLike<number>,
  W: ArrayLike<number>,
  K: number,
): Float64Array {
  const { rows, cols } = cfg.array;
  const B = cfg.pe.block;
  const bits = cfg.accumulator.bits;
  const out = new Float64Array(rows * cols);
  const acts = structureOf(cfg).peActivations(Array.from(A));
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      let acc = 0;
      for (let k = 0; k < K; k += B) acc = wrapSigned(acc + blockDot(acts, W, r * K + k, c * K + k, B), bits);
      out[r * cols + c] = acc;
    }
  }
  return out;
}
