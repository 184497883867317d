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
  /** Per original channel: 1 = low precision (with three levels: middle or low). */
  readonly low: Uint8Array;
  /** Three levels (pe.mid): per original channel 0 = high, 1 = middle, 2 = low; absent with two. */
  readonly level?: Uint8Array;
}

/** The middle level of a three-level layer: M positions per block (H..H+M-1) and its nearest-value table. */
export interface MidPlan {
  readonly M: number;
  readonly table: NearestTable;
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
/** The level of slot c: 0 high (positions 0..H-1), 1 middle (H..H+M-1), 2 low. */
const slotLevel = (c: number, B: number, H: number, M: number) => (c % B < H ? 0 : c % B < H + M ? 1 : 2);

/**
 * Exact minimum-cost assignment of items to three levels with capacities (sum = items):
 * cost[3 i + l] is item i's cost at level l. Successive shortest paths: each item enters
 * along the cheapest path through the levels (moving at most one item out of each level it
 * passes), which keeps every partial assignment optimal. Deterministic (ties: lower level,
 * lower item). Returns each item's level.
 */
export function assignLevels(cost: Float64Array, caps: readonly [number, number, number]): Uint8Array {
  const n = cost.length / 3;
  if (caps[0] + caps[1] + caps[2] !== n) throw new RangeError(`capacities ${caps.join('+')} != ${n} items`);
  const level = new Uint8Array(n).fill(255);
  const count = [0, 0, 0];
  const move = new Float64Array(9);
  const who = new Int32Array(9);
  const dist = new Float64Array(3);
  const pred = new Int8Array(3);
  for (let i = 0; i < n; i++) {
    // Cheapest move of an already placed item from level a to level b.
    move.fill(Infinity);
    who.fill(-1);
    for (let j = 0; j < i; j++) {
      const a = level[j]!;
      for (let b = 0; b < 3; b++) {
        if (b === a) continue;
        const d = cost[3 * j + b]! - cost[3 * j + a]!;
        if (d < move[3 * a + b]!) {
          move[3 * a + b] = d;
          who[3 * a + b] = j;
        }
      }
    }
    for (let b = 0; b < 3; b++) {
      dist[b] = cost[3 * i + b]!;
      pred[b] = -1;
    }
    // Bellman-Ford over the three levels (paths of at most two moves; no negative cycles).
    for (let round = 0; round < 2; round++) {
      for (let a = 0; a < 3; a++) {
        for (let b = 0; b < 3; b++) {
          if (a === b || who[3 * a + b]! < 0) continue;
          const d = dist[a]! + move[3 * a + b]!;
          if (d < dist[b]! - 1e-12 * Math.abs(dist[b]!)) {
            dist[b] = d;
            pred[b] = a;
          }
        }
      }
    }
    let t = -1;
    for (let b = 0; b < 3; b++) if (count[b]! < caps[b]! && (t < 0 || dist[b]! < dist[t]!)) t = b;
    count[t]!++;
    // Walk back: the item that moves into t came from pred[t], and so on; i enters the first level.
    let at = t;
    const seen = new Set<number>();
    while (pred[at]! >= 0 && !seen.has(at)) {
      seen.add(at);
      const from = pred[at]!;
      level[who[3 * from + at]!] = at;
      at = from;
    }
    level[i] = at;
  }
  return level;
}

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
  mid?: MidPlan,
): ChannelPlan {
  const problem = channelPlanProblem(K, I, B);
  if (problem) throw new RangeError(problem);
  if (sensitivity && sensitivity.length !== I) {
    throw new RangeError(`sensitivity has ${sensitivity.length} values, ${I} input channels need ${I}`);
  }
  const cost = new Float64Array(I);
  // Three levels: each channel's cost at the middle level too.
  const costMid = mid ? new Float64Array(I) : null;
  for (let n = 0; n < N; n++) {
    const s2 = scales[n]! * scales[n]!;
    const inv = invScales[n]!;
    for (let k = 0; k < K; k++) {
      const x = W[n * K + k]! * inv;
      let q = roundHalfEven(x);
      q = Math.max(-qmax, Math.min(qmax, q));
      let c: number;
      const idx = x >= 0 ? Math.ceil(2 * x) : Math.floor(2 * x);
      if (select === 'magnitude') c = q * q;
      else {
        let best = Infinity;
        for (const tab of tables) {
          const v = tab.value[idx + tab.offset]!;
          best = Math.min(best, (x - v) * (x - v));
        }
        c = best - (x - q) * (x - q);
      }
      cost[k % I] += s2 * c;
      if (costMid) {
        const v = mid!.table.value[idx + mid!.table.offset]!;
        costMid[k % I] += s2 * (select === 'magnitude' ? q * q : (x - v) * (x - v) - (x - q) * (x - q));
      }
    }
  }
  if (sensitivity) {
    for (let i = 0; i < I; i++) {
      cost[i] *= sensitivity[i]!;
      if (costMid) costMid[i] *= sensitivity[i]!;
    }
  }
  if (mid && costMid) {
    // Three levels: the exact assignment of channels to the high, middle and low slots.
    // Magnitude policy: costs m, 2m (the larger summed q^2, the higher the level).
    const caps: [number, number, number] = [0, 0, 0];
    for (let c = 0; c < I; c++) caps[slotLevel(c, B, H, mid.M)]++;
    const c3 = new Float64Array(3 * I);
    for (let i = 0; i < I; i++) {
      c3[3 * i + 1] = costMid[i]!;
      c3[3 * i + 2] = select === 'magnitude' ? 2 * cost[i]! : cost[i]!;
    }
    const level = assignLevels(c3, caps);
    const byLevel: number[][] = [[], [], []];
    for (let i = 0; i < I; i++) byLevel[level[i]!]!.push(i);
    const next = [0, 0, 0];
    const perm = new Int32Array(I);
    for (let c = 0; c < I; c++) {
      const l = slotLevel(c, B, H, mid.M);
      perm[c] = byLevel[l]![next[l]!++]!;
    }
    return { channels: I, perm, low: level.map((l) => (l > 0 ? 1 : 0)), level };
  }
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
  mid?: MidPlan,
): number {
  const L = B - H;
  const Kp = Math.ceil(K / B) * B;
  const nb = Kp / B;
  const G = scope.kind === 'group' ? scope.channels : 1;
  if (mid && scope.kind !== 'layer') throw new RangeError('a middle level needs scope layer');
  const midEnd = mid ? H + mid.M : H;
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
          // Scope 'layer' with three levels: positions H..H+M-1 hold the middle format.
          const isMid = midEnd > H && i >= H && i < midEnd;
          for (let t = 0; t < T; t++) {
            const tab = isMid ? mid!.table : tables[tFirst + t]!;
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
