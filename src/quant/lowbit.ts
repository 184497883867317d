// The quantizer of the 1-3-bit formats (src/format/lowbit.ts: binary, tern, lowint) for an
// all-low PE, and their block-structured sparsity. Per layer [N, K]:
//  1. pruning: the output channels fall into column groups of G = array.cols (the channels one
//     array tile computes together); each group keeps its keptBlocks(Kp / B, compression)
//     reduction blocks of largest L2 norm (over the group's G x B weights), the others are zero
//     and are never streamed (the schedule skips them: src/sim/schedule.ts);
//  2. per output channel, the scale s minimising sum (w - s * q(w / s))^2 over the kept weights,
//     q = the nearest format value: a grid of 64 clipping points of max|w| refined by Lloyd
//     steps (s = sum w q / sum q^2), the best kept;
//  3. values = q (0 in pruned blocks), codes = the format's code of q.
// docs/LOWBIT.md is the prose.

import { type BlockKeep, keptBlocks } from '../format/lowbit.ts';

export { type BlockKeep, keptIndices } from '../format/lowbit.ts';

import type { BoundFormat } from '../format/spec.ts';
import type { FormatParams, QuantizedMatrix } from './quantize.ts';

/** Output channels pruned together: the array's columns when the config has an array, else 1. */
export const pruneGroupOf = (p: FormatParams): number =>
  (p as FormatParams & { array?: { cols: number } }).array?.cols ?? 1;

/** The format's integer values, ascending, and their range. */
function valueSet(fmt: BoundFormat): { lo: number; hi: number; zero: boolean } {
  const vs = fmt.codes.map((c) => fmt.decode(c, []));
  return { lo: Math.min(...vs), hi: Math.max(...vs), zero: vs.includes(0) };
}

/** Nearest format value of x (ties toward zero); a format without 0 (binary) takes the sign. */
function nearest(x: number, lo: number, hi: number, zero: boolean): number {
  const a = Math.abs(x);
  let q = Math.sign(x) * Math.ceil(a - 0.5);
  if (q < lo) q = lo;
  else if (q > hi) q = hi;
  if (q === 0 && !zero) q = x < 0 ? -1 : 1;
  return q;
}

/** Squared error of w ~ s * nearest(w / s) over xs. */
function errorAt(xs: Float64Array, s: number, lo: number, hi: number, zero: boolean): number {
  let e = 0;
  const inv = 1 / s;
  for (let i = 0; i < xs.length; i++) {
    const d = xs[i]! - s * nearest(xs[i]! * inv, lo, hi, zero);
    e += d * d;
  }
  return e;
}

/** Least-squares scale of one channel's kept weights. */
export function channelScale(xs: Float64Array, lo: number, hi: number, zero: boolean): number {
  let m = 0;
  for (let i = 0; i < xs.length; i++) m = Math.max(m, Math.abs(xs[i]!));
  if (!(m > 0)) return 0;
  const vmax = Math.max(hi, -lo);
  let best = m / vmax;
  let bestErr = errorAt(xs, best, lo, hi, zero);
  for (let i = 1; i < 64; i++) {
    const s = (m * i) / 64 / vmax;
    const e = errorAt(xs, s, lo, hi, zero);
    if (e < bestErr) {
      bestErr = e;
      best = s;
    }
  }
  // Lloyd: given the assignment, the best scale is sum w q / sum q^2.
  let s = best;
  for (let it = 0; it < 8; it++) {
    let wq = 0;
    let qq = 0;
    const inv = 1 / s;
    for (let i = 0; i < xs.length; i++) {
      const q = nearest(xs[i]! * inv, lo, hi, zero);
      wq += xs[i]! * q;
      qq += q * q;
    }
    if (!(qq > 0) || !(wq > 0)) break;
    const next = wq / qq;
    const e = errorAt(xs, next, lo, hi, zero);
    if (e < bestErr) {
      bestErr = e;
      best = next;
    }
    if (next === s) break;
    s = next;
  }
  return best;
}

/** Which blocks each column group keeps (largest L2 norm first; ties keep the earlier block). */
export function pruneBlocks(
  W: ArrayLike<number>,
  N: number,
  K: number,
  B: number,
  group: number,
  compression: number,
): BlockKeep {
  const nb = Math.ceil(K / B);
  const groups = Math.ceil(N / group);
  const keep = new Uint8Array(groups * nb);
  const count = keptBlocks(nb, compression);
  const norm = new Float64Array(nb);
  for (let g = 0; g < groups; g++) {
    norm.fill(0);
    for (let n = g * group; n < Math.min(N, (g + 1) * group); n++) {
      for (let k = 0; k < K; k++) {
        const w = W[n * K + k]!;
        norm[Math.floor(k / B)]! += w * w;
      }
    }
    const order = Array.from({ length: nb }, (_, j) => j).sort((a, b) => norm[b]! - norm[a]! || a - b);
    for (let i = 0; i < count; i++) keep[g * nb + order[i]!] = 1;
  }
  return { group, blocks: nb, keep };
}

/** quantizeMatrix for a 1-3-bit format (fmt.lowbit set); every position is low. */
export function quantizeLowbit(
  p: FormatParams,
  fmt: BoundFormat,
  W: ArrayLike<number>,
  N: number,
  K: number,
): QuantizedMatrix {
  const B = p.pe.block;
  const Kp = Math.ceil(K / B) * B;
  const nb = Kp / B;
  const group = pruneGroupOf(p);
  const { compression, encode } = fmt.lowbit!;
  const blockKeep = pruneBlocks(W, N, K, B, group, compression);
  const { lo, hi, zero } = valueSet(fmt);
  const scales = new Float64Array(N);
  const codes = new Int16Array(N * Kp);
  const values = new Int16Array(N * Kp);
  const low = new Uint8Array(N * Kp).fill(1);
  const zeroCode = encode(zero ? 0 : 1);
  let weightedError = 0;
  const xs = new Float64Array(K);
  for (let n = 0; n < N; n++) {
    const g = Math.floor(n / group);
    let m = 0;
    for (let k = 0; k < K; k++) {
      const w = W[n * K + k]!;
      if (!Number.isFinite(w)) throw new RangeError(`weight [${n}, ${k}] is ${w} (not finite)`);
      if (blockKeep.keep[g * nb + Math.floor(k / B)]) xs[m++] = w;
    }
    const s = channelScale(xs.subarray(0, m), lo, hi, zero);
    scales[n] = s;
    for (let k = 0; k < Kp; k++) {
      const o = n * Kp + k;
      const kept = blockKeep.keep[g * nb + Math.floor(k / B)] === 1;
      const w = k < K ? W[n * K + k]! : 0;
      // A kept block holds the codes the array computes: a padded position is 0 where the
      // format has 0, else (binary) +1, multiplied by a zero activation (the padding).
      const q = kept ? (s > 0 ? nearest(w / s, lo, hi, zero) : zero ? 0 : 1) : 0;
      // A pruned block is never streamed; binary has no 0 and stores +1 there.
      codes[o] = kept ? encode(q) : zeroCode;
      values[o] = q;
      if (k < K) weightedError += (w - s * q) ** 2;
    }
  }
  return {
    N,
    K,
    Kp,
    B,
    scales,
    codes,
    low,
    values,
    metaValues: fmt.metaCandidates,
    metaScope: null,
    metaIndex: new Uint8Array(N * nb),
    layerMetaIndex: 0,
    weightedError,
    channelPlan: null,
    blockKeep,
  };
}
