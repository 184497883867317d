// The array's schedule of one matrix product A [rows, Kp] x W [N, Kp]^T, as simulateMatmul
// streams it: output-stationary tiles of array.rows activation rows x array.cols output
// channels, Kp / B blocks per tile (fewer with block sparsity: tileBlocks), one block a
// cycle, tiles back to back. The one
// definition of how many tiles and cycles a layer takes on a config's array.
import type { ResolvedDpu } from '../config/resolve.ts';
import { keptBlocks } from '../format/lowbit.ts';
import { formatOf } from '../format/registry.ts';

/** Tiles of a [rows, N] result: ceil(rows / array.rows) x ceil(N / array.cols). */
export const matmulTiles = (cfg: ResolvedDpu, rows: number, N: number): number =>
  Math.ceil(rows / cfg.array.rows) * Math.ceil(N / cfg.array.cols);

/**
 * Cycles of the product streamed on the array: one block a cycle per tile, plus the
 * pipeline's latency once (the last results leave the array before the next layer starts).
 */
export function matmulCycles(cfg: ResolvedDpu, rows: number, N: number, Kp: number): number {
  if (Kp % cfg.pe.block !== 0) throw new RangeError(`Kp ${Kp} is not a multiple of B ${cfg.pe.block}`);
  return matmulTiles(cfg, rows, N) * tileBlocks(cfg, Kp / cfg.pe.block) + cfg.derived.latency;
}

/**
 * Blocks one tile streams out of a row's `blocks`: all of them, or with block sparsity (the
 * 1-3-bit formats' compression, src/format/lowbit.ts) only the blocks its column group kept,
 * keptBlocks(blocks, compression): the pruned blocks are skipped, never streamed.
 */
export function tileBlocks(cfg: ResolvedDpu, blocks: number): number {
  const sparse = formatOf(cfg).lowbit;
  return sparse ? keptBlocks(blocks, sparse.compression) : blocks;
}
