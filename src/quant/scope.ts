// The quantizer for the mask scopes that take the router out of the PE (docs/CODESIGN.md):
// 'group' chooses one mask per block for G adjacent output channels, 'layer' one precision
// per input channel for the whole layer, with the channel permutation that puts every
// block's high weights in lanes 0..H-1. quantize.ts calls in here; the per-position costs
// are the pe-scope quantizer's (runGeneral): (x - low value)^2 - (x - q)^2 on the integer
// grid, weighted by s_c^2 so channels of different scales add up in the real domain.
import type { MaskScope } from '../config/mask-scope.ts';
import type { NearestTable, SelectPolicy } from './quantize.ts';

const ROUND_MAGIC = 1.5 * 2 ** 52;
const roundHalfEven = (x: number) => x + ROUND_MAGIC - ROUND_MAGIC;

/** A layer's input-channel plan under scope 'layer'. */
export interface ChannelPlan {
  /** I: input channels (K = positions x I). */
  readonly channels: number;
  /** perm[new channel] = original channel: the order the array sees (fold it into the producer). */
  readonly perm: Int32Array;
  /** Per original channel: 1 = low precision. */
  readonly low: Uint8Array;
}

/** Why a layer's input channels cannot be put into fixed lane positions, or null. */
export function channelPlanProblem(K: number, I: number, B: number): string | null {
  if (!Number.isInteger(I) || I < 1 || K % I !== 0) return `${I} input channels do not divide K = ${K}`;
  if (K !== I && I % B !== 0) {
    return `${I} input channels at ${K / I} kernel positions: blocks straddle kernel positions unless B (${B}) divides the channels`;
  }
  return null;
}

/** Block position of new channel c is c mod B in both legal cases (K = I, or B | I). */
const isHighSlot = (c: number, B: number, H: number) => c % B < H;

/**
 * Choose each input channel's precision and the permutation. The low channels are the ones
 * whose move to the low format costs least, summed over every output channel and kernel
 * position (error policy: s_c^2 ((x - v)^2 - (x - q)^2) with v the nearest low value over
 * every metadata candidate; magnitude policy: s_c^2 q^2), each channel's sum times its
 * sensitivity (mean square calibration activation) when given. As many channels go high as
 * the array has high slots among the layer's real positions.
 */
export function planChannels(
  W: ArrayLike<number>,
  N: number,
  K: number,
  I: number,
  B: number,
  H: number,
  qmax: number,
  scales: Float64Array,
  invScales: Float64Array,
  tables: readonly NearestTable[],
  select: SelectPolicy,
  sensitivity?: ArrayLike<number>,
): ChannelPlan {
  const problem = channelPlanProblem(K, I, B);
  if (problem) throw new RangeError(problem);
  if (sensitivity && sensitivity.length !== I) {
    throw new RangeError(`sensitivity has ${sensitivity.length} values, ${I} input channels need ${I}`);
  }
  const cost = new Float64Array(I);
  for (let n = 0; n < N; n++) {
    const s2 = scales[n]! * scales[n]!;
    const inv = invScales[n]!;
    for (let k = 0; k < K; k++) {
      const x = W[n * K + k]! * inv;
      let q = roundHalfEven(x);
      q = Math.max(-qmax, Math.min(qmax, q));
      let c: number;
      if (select === 'magnitude') c = q * q;
      else {
        let best = Infinity;
        for (const tab of tables) {
          const v = tab.value[(x >= 0 ? Math.ceil(2 * x) : Math.floor(2 * x)) + tab.offset]!;
          best = Math.min(best, (x - v) * (x - v));
        }
        c = best - (x - q) * (x - q);
      }
      cost[k % I] += s2 * c;
    }
  }
  if (sensitivity) for (let i = 0; i < I; i++) cost[i] *= sensitivity[i]!;
  let highSlots = 0;
  for (let c = 0; c < I; c++) if (isHighSlot(c, B, H)) highSlots++;
  // Cheapest first; ties to the lower channel.
  const order = Array.from({ length: I }, (_, i) => i).sort((a, b) => cost[a]! - cost[b]! || a - b);
  const low = new Uint8Array(I);
  for (let r = 0; r < I - highSlots; r++) low[order[r]!] = 1;
  const highs: number[] = [];
  const lows: number[] = [];
  for (let i = 0; i < I; i++) (low[i] ? lows : highs).push(i);
  const perm = new Int32Array(I);
  let h = 0;
  let l = 0;
  for (let c = 0; c < I; c++) perm[c] = isHighSlot(c, B, H) ? highs[h++]! : lows[l++]!;
  return { channels: I, perm, low };
}

/** W [N, K] with its input channels reordered: column p * I + c is original column p * I + perm[c]. */
export function permuteColumns<T extends Float32Array | Int16Array | Float64Array>(
  W: T,
  N: number,
  K: number,
  perm: Int32Array,
): T {
  const I = perm.length;
  const out = new (W.constructor as new (n: number) => T)(W.length);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      const p = k - (k % I);
      out[n * K + k] = W[n * K + p + perm[k % I]!]!;
    }
  }
  return out;
}

/** The inverse of permuteColumns (array order back to the layer's own order). */
export function unpermuteColumns<T extends Float32Array | Int16Array | Float64Array | Uint8Array>(
  W: T,
  N: number,
  K: number,
  perm: Int32Array,
): T {
  const I = perm.length;
  const out = new (W.constructor as new (n: number) => T)(W.length);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      const p = k - (k % I);
      out[n * K + p + perm[k % I]!] = W[n * K + k]!;
    }
  }
  return out;
}

interface Out {
  codes: Int16Array;
  low: Uint8Array;
  values: Int16Array;
  metaIndex: Uint8Array;
}

/**
 * Quantize every row into `out` with masks of the given scope: 'group' shares one mask per
 * block among G consecutive rows (output channels), 'layer' fixes every block's mask to
 * positions H..B-1 (the columns are already permuted). fixedT >= 0: that metadata candidate
 * everywhere; -1: each row's block picks its own (DLIQ's shift stays per channel). Returns
 * sum_c s_c^2 * err_c as runGeneral does.
 *
 * Group selection, error policy: with one metadata candidate (MIP2Q, sparse, DLIQ per layer)
 * the group's error is a sum of per-position costs, so the L positions of smallest summed
 * cost are the exact optimum. With a per-block candidate per row (DLIQ) the mask and the
 * rows' shifts are chosen alternately (shifts given the mask, exact; mask given the shifts,
 * exact) from the mask of smallest summed best-shift cost, until the error stops falling:
 * a local optimum. Magnitude policy: the L positions of smallest summed s_c |q|.
 * `columnWeights` (per input channel) scales each position's cost (sensitivity).
 */
export function runScoped(
  B: number,
  H: number,
  qmax: number,
  W: ArrayLike<number>,
  N: number,
  K: number,
  select: SelectPolicy,
  scales: Float64Array,
  invScales: Float64Array,
  out: Out,
  tables: readonly NearestTable[],
  fixedT: number,
  scope: MaskScope,
  columnWeights?: { readonly channels: number; readonly weights: ArrayLike<number> },
): number {
  const L = B - H;
  const Kp = Math.ceil(K / B) * B;
  const nb = Kp / B;
  const G = scope.kind === 'group' ? scope.channels : 1;
  const tFirst = Math.max(fixedT, 0);
  const T = fixedT >= 0 ? 1 : tables.length;
  const { codes, values, low, metaIndex } = out;
  low.fill(0);
  // One group of up to G rows x one block: x, q, high error and per candidate the low value, code, cost.
  const x = new Float64Array(G * B);
  const q = new Int32Array(G * B);
  const be = new Float64Array(G * B);
  const lv = new Int32Array(T * G * B);
  const lc = new Int32Array(T * G * B);
  const cost = new Float64Array(T * G * B);
  const tRow = new Int32Array(G);
  const score = new Float64Array(B);
  const mask = new Uint8Array(B);
  const rowErr = new Float64Array(N);
  const order = new Int32Array(B);
  const cw = (k: number) => (columnWeights ? columnWeights.weights[k % columnWeights.channels]! : 1);

  /** mask = the L positions of smallest score, ties to the lower position. */
  const maskFromScore = () => {
    for (let i = 0; i < B; i++) order[i] = i;
    const o = Array.from(order).sort((a, b) => score[a]! - score[b]! || a - b);
    mask.fill(0);
    for (let r = 0; r < L; r++) mask[o[r]!] = 1;
  };
  /** Each row's best candidate for the current mask; returns the group's weighted cost. */
  const bestShifts = (rows: number, g0: number, k0: number) => {
    let total = 0;
    for (let r = 0; r < rows; r++) {
      let best = 0;
      let bestE = Infinity;
      for (let t = 0; t < T; t++) {
        let e = 0;
        for (let i = 0; i < B; i++) if (mask[i]) e += cost[(t * G + r) * B + i]!;
        if (e < bestE) {
          bestE = e;
          best = t;
        }
      }
      tRow[r] = best;
      const s = scales[g0 + r]!;
      let we = 0;
      for (let i = 0; i < B; i++) if (mask[i]) we += cost[(best * G + r) * B + i]! * cw(k0 + i);
      total += s * s * we;
    }
    return total;
  };

  for (let g0 = 0; g0 < N; g0 += G) {
    const rows = Math.min(G, N - g0);
    for (let j = 0; j < nb; j++) {
      const k0 = j * B;
      for (let r = 0; r < rows; r++) {
        const n = g0 + r;
        const inv = invScales[n]!;
        for (let i = 0; i < B; i++) {
          const k = k0 + i;
          const xk = k < K ? W[n * K + k]! * inv : 0;
          let qk = roundHalfEven(xk);
          // biome-ignore lint/complexity/useMathMinMax: same clamp as runGeneral
          qk = qk > qmax ? qmax : qk < -qmax ? -qmax : qk;
          const o = r * B + i;
          x[o] = xk;
          q[o] = qk;
          be[o] = (xk - qk) * (xk - qk);
          codes[n * Kp + k] = qk;
          values[n * Kp + k] = qk;
          for (let t = 0; t < T; t++) {
            const tab = tables[tFirst + t]!;
            const idx = (xk >= 0 ? Math.ceil(2 * xk) : Math.floor(2 * xk)) + tab.offset;
            const v = tab.value[idx]!;
            const c = (t * G + r) * B + i;
            lv[c] = v;
            lc[c] = tab.code[idx]!;
            cost[c] = (xk - v) * (xk - v) - be[o]!;
          }
        }
      }
      if (scope.kind === 'layer') {
        for (let i = 0; i < B; i++) mask[i] = i >= H ? 1 : 0;
        bestShifts(rows, g0, k0);
      } else if (select === 'magnitude') {
        score.fill(0);
        for (let r = 0; r < rows; r++) {
          for (let i = 0; i < B; i++) score[i] += scales[g0 + r]! * Math.abs(q[r * B + i]!) * cw(k0 + i);
        }
        maskFromScore();
        bestShifts(rows, g0, k0);
      } else {
        // Start: each position's cost at each row's best candidate for that position alone.
        score.fill(0);
        for (let r = 0; r < rows; r++) {
          const s2 = scales[g0 + r]! ** 2;
          for (let i = 0; i < B; i++) {
            let m = Infinity;
            for (let t = 0; t < T; t++) m = Math.min(m, cost[(t * G + r) * B + i]!);
            score[i] += s2 * m * cw(k0 + i);
          }
        }
        maskFromScore();
        let err = bestShifts(rows, g0, k0);
        for (let iter = 0; T > 1 && iter < 16; iter++) {
          const keep = Uint8Array.from(mask);
          const keepT = Int32Array.from(tRow);
          score.fill(0);
          for (let r = 0; r < rows; r++) {
            const s2 = scales[g0 + r]! ** 2;
            for (let i = 0; i < B; i++) score[i] += s2 * cost[(tRow[r]! * G + r) * B + i]! * cw(k0 + i);
          }
          maskFromScore();
          const e = bestShifts(rows, g0, k0);
          if (!(e < err)) {
            mask.set(keep);
            tRow.set(keepT);
            break;
          }
          err = e;
        }
      }
      for (let r = 0; r < rows; r++) {
        const n = g0 + r;
        const t = tRow[r]!;
        let e = 0;
        for (let i = 0; i < B; i++) {
          e += be[r * B + i]!;
          if (!mask[i]) continue;
          const c = (t * G + r) * B + i;
          const o = n * Kp + k0 + i;
          codes[o] = lc[c]!;
          values[o] = lv[c]!;
          low[o] = 1;
          e += cost[c]!;
        }
        rowErr[n] += e;
        metaIndex[n * nb + j] = tFirst + t;
      }
    }
  }
  let total = 0;
  for (let n = 0; n < N; n++) total += scales[n]! * scales[n]! * rowErr[n]!;
  return total;
}

/**
 * A [N, Kp] array of a quantized matrix (values, low, codes) in the layer's own column
 * order: the identity without a channel plan; with one, column p * I + perm[c] gets array
 * column p * I + c (padding columns K..Kp-1 stay where they are).
 */
export function inLayerOrder<T extends Int16Array | Uint8Array>(
  arr: T,
  qm: {
    readonly N: number;
    readonly K: number;
    readonly Kp: number;
    readonly channelPlan: ChannelPlan | null;
  },
): T {
  const plan = qm.channelPlan;
  if (!plan) return arr;
  const { N, K, Kp } = qm;
  const I = plan.channels;
  const out = new (arr.constructor as new (n: number) => T)(arr.length);
  for (let n = 0; n < N; n++) {
    const o = n * Kp;
    for (let k = 0; k < Kp; k++) {
      out[o + (k < K ? k - (k % I) + plan.perm[k % I]! : k)] = arr[o + k]!;
    }
  }
  return out;
}

/**
 * Fold a consumer's input-channel permutation into its producer: output channel c of the
 * result is the producer's output channel perm[c] (its weight row, output channels first,
 * and its bias), so the producer writes its outputs in the order the consumer's array
 * expects and the permutation costs nothing at run time. Channel-wise steps between the
 * two (ReLU, requantization scales, batch norm) follow the same permutation.
 */
export function foldIntoProducer(
  weights: Float32Array,
  bias: Float32Array | null,
  perm: Int32Array,
): { weights: Float32Array; bias: Float32Array | null } {
  const N = perm.length;
  if (weights.length % N !== 0) {
    throw new RangeError(`producer has ${weights.length} weights, not a multiple of ${N} output channels`);
  }
  if (bias && bias.length !== N) throw new RangeError(`bias has ${bias.length} values, ${N} needed`);
  const row = weights.length / N;
  const w = new Float32Array(weights.length);
  for (let c = 0; c < N; c++) w.set(weights.subarray(perm[c]! * row, (perm[c]! + 1) * row), c * row);
  return { weights: w, bias: bias ? Float32Array.from(perm, (p) => bias[p]!) : null };
}

/**
 * Where real column k of a layer goes when it runs on the high lanes only: position
 * floor(k / H) * B + k mod H of a row of Kx = ceil(K / H) * B, the low positions holding
 * zero weights. Scope 'layer' runs a layer whose input channels cannot be permuted this
 * way: INT8 exactly, at H / B of the array's throughput.
 */
export function highLaneColumns(K: number, B: number, H: number): { Kx: number; pos: Int32Array } {
  const Kx = Math.ceil(K / H) * B;
  return { Kx, pos: Int32Array.from({ length: K }, (_, k) => Math.floor(k / H) * B + (k % H)) };
}

/** W [N, K] spread onto the high lanes (highLaneColumns), and the plan that keeps it in place. */
export function spreadOnHighLanes(
  W: ArrayLike<number>,
  N: number,
  K: number,
  B: number,
  H: number,
): { W: Float32Array; Kx: number; plan: ChannelPlan; pos: Int32Array } {
  const { Kx, pos } = highLaneColumns(K, B, H);
  const out = new Float32Array(N * Kx);
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) out[n * Kx + pos[k]!] = W[n * K + k]!;
  const plan: ChannelPlan = {
    channels: Kx,
    perm: Int32Array.from({ length: Kx }, (_, i) => i),
    low: Uint8Array.from({ length: Kx }, (_, i) => (i % B >= H ? 1 : 0)),
  };
  return { W: out, Kx, plan, pos };
}
