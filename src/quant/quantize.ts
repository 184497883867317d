// The reference quantizer: float weights [N outputs, K reduction] -> symmetric per-channel
// INT8 -> StruM blocks (H high, L low per block of B). docs/QUANTIZATION.md is its prose.
// Hot loops use typed arrays and precomputed nearest-value tables; no per-weight allocation.
// The magnitude policy runs a generated, unrolled kernel (magnitude-kernel.ts) that mirrors
// runGeneral below operation for operation; { general: true } forces runGeneral.
import { type MaskScope, maskScopeOf } from '../config/mask-scope.ts';
import type { ResolvedDpu } from '../config/resolve.ts';
import { type MidLevel, midConfigOf, midCountOf } from '../format/levels.ts';
import type { WeightBlock } from '../format/pack.ts';
import { formatOf } from '../format/registry.ts';
import type { BoundFormat, FormatConfig, MetaScope } from '../format/spec.ts';
import { type StructureConfig, structureOf, type WeightSelection } from '../format/structure.ts';
import { type BlockKeep, quantizeLowbit } from './lowbit.ts';
import { magnitudeKernel } from './magnitude-kernel.ts';
import {
  type ChannelPlan,
  channelPlanProblem,
  type MidPlan,
  permuteColumns,
  planChannels,
  runScoped,
  spreadOnHighLanes,
} from './scope.ts';

/** The parts of a config the quantizer reads (a resolved config is one); pe.maskScope absent = 'pe'. */
export type FormatParams = FormatConfig &
  StructureConfig & {
    readonly pe: {
      readonly maskScope?: MaskScope;
      readonly mid?: MidLevel;
    };
  };

export const SELECT_POLICIES = ['magnitude', 'error'] as const;
/** magnitude: the L smallest |q| go low (the paper); error: the L cheapest moves go low. */
export type SelectPolicy = (typeof SELECT_POLICIES)[number];

export interface QuantizeOptions {
  readonly select?: SelectPolicy;
  /** Formats with per-layer metadata (DLIQ per layer): force this metadata candidate (index into metaValues) instead of searching. */
  readonly metaIndex?: number;
  /** Use the general loop even where a specialised kernel exists (tests compare the two). */
  readonly general?: boolean;
  /** Input channels I of the reduction (K = kernel positions x I, layerMatrix's order); default K. */
  readonly channels?: number;
  /**
   * Per input channel (length I): the mean square calibration activation. Scales each
   * channel's cost when masks are shared (scope 'group') or channels chosen (scope 'layer').
   */
  readonly sensitivity?: ArrayLike<number>;
  /**
   * Scope 'layer': use this plan instead of choosing one (a layer that shares its input
   * channels with another layer follows that layer's permutation and levels).
   */
  readonly channelPlan?: ChannelPlan;
}

/** Compact result of quantizing one [N, K] matrix; rows are padded to Kp (multiple of B). */
export interface QuantizedMatrix {
  readonly N: number;
  /** Real reduction length. */
  readonly K: number;
  /** Padded reduction length: ceil(K / B) * B; positions K..Kp-1 of a row are zero weights. */
  readonly Kp: number;
  readonly B: number;
  /** Per output channel: s_c = max|w_c| / (2^(weightBits-1) - 1); the weight is about value * s_c. */
  readonly scales: Float64Array;
  /** [N * Kp]: a high weight's signed integer, or a low weight's unsigned code (pack.ts WeightBlock.codes). */
  readonly codes: Int16Array;
  /** [N * Kp]: 1 where the position is low precision. */
  readonly low: Uint8Array;
  /** [N * Kp]: the decoded integer value of every position (formats.ts meaning). */
  readonly values: Int16Array;
  /** The format's metadata candidates (format.metaCandidates): the values an index below stands for. */
  readonly metaValues: readonly (readonly number[])[];
  /** Where the metadata lives: per block, per layer, or null (the format has none). */
  readonly metaScope: MetaScope | null;
  /** [N * Kp / B]: each block's metadata candidate (the layer's when per layer; 0 without metadata). */
  readonly metaIndex: Uint8Array;
  /** The layer's metadata candidate (per-layer formats; 0 otherwise). */
  readonly layerMetaIndex: number;
  /** Sum over rows of s_c^2 * squared error in the integer domain (the search objective). */
  readonly weightedError: number;
  /**
   * Scope 'layer': each input channel's precision and the permutation. codes, low and values
   * are then in the permuted (array) order: column p * I + c holds original channel perm[c].
   * null for the other scopes (the layer's own column order).
   */
  readonly channelPlan: ChannelPlan | null;
  /** 1-3-bit formats (quant/lowbit.ts): the blocks each column group keeps; absent: every block is kept. */
  readonly blockKeep?: BlockKeep;
}

const ROUND_MAGIC = 1.5 * 2 ** 52;

/**
 * Round half to even (the base INT8 rounding), exact for |x| < 2^51: adding 1.5 * 2^52
 * leaves no fraction bits, so IEEE round-to-nearest-even does the rounding. About 8x
 * faster than Math.round in V8, and ties go to even as documented.
 */
export function roundHalfEven(x: number): number {
  return x + ROUND_MAGIC - ROUND_MAGIC;
}

/** Padded reduction length for block size B. */
export const paddedLength = (K: number, B: number) => Math.ceil(K / B) * B;

/**
 * Nearest low value for any real x in [-R, R], as a table over idx = ceil(2x) (x >= 0) or
 * floor(2x) (x < 0). Low values are integers, so every midpoint between two of them is a
 * multiple of 0.5 and the nearest value is constant on each table interval; a tie goes
 * toward zero.
 */
export interface NearestTable {
  readonly offset: number;
  readonly value: Int32Array;
  readonly code: Int32Array;
}

export function nearestTable(values: readonly number[], codes: readonly number[], R: number): NearestTable {
  const offset = 2 * R;
  const value = new Int32Array(4 * R + 1);
  const code = new Int32Array(4 * R + 1);
  for (let idx = -offset; idx <= offset; idx++) {
    // A point inside the interval of idx (never a midpoint), or 0 itself.
    const x = idx > 0 ? (2 * idx - 1) / 4 : idx < 0 ? (2 * idx + 1) / 4 : 0;
    let best = -1;
    for (let v = 0; v < values.length; v++) {
      if (best < 0) {
        best = v;
        continue;
      }
      const d = Math.abs(x - values[v]!);
      const db = Math.abs(x - values[best]!);
      const mag = Math.abs(values[v]!);
      const magb = Math.abs(values[best]!);
      if (d < db || (d === db && (mag < magb || (mag === magb && values[v]! > values[best]!)))) best = v;
    }
    value[idx + offset] = values[best]!;
    code[idx + offset] = codes[best]!;
  }
  return { offset, value, code };
}

const tableCache = new Map<string, NearestTable[]>();

/**
 * One table per metadata candidate of the format (DLIQ: t = 0..shiftMax; formats without
 * metadata: one). Cached by everything a table is made of: the codes, their values and R.
 */
export function lowTables(p: FormatParams): NearestTable[] {
  const fmt = formatOf(p);
  const R = 2 ** (p.weightBits - 1);
  const values = fmt.metaCandidates.map((m) => fmt.codes.map((c) => fmt.decode(c, m)));
  const key = JSON.stringify([R, fmt.codes, values]);
  const hit = tableCache.get(key);
  if (hit) return hit;
  const tables = values.map((v) => nearestTable(v, fmt.codes, R));
  tableCache.set(key, tables);
  return tables;
}

/** The scope of the format's metadata (all its fields share one), or null without metadata. */
export function metaScopeOf(fmt: BoundFormat): MetaScope | null {
  return fmt.meta[0]?.scope ?? null;
}

function checkShape(W: ArrayLike<number>, N: number, K: number): void {
  if (!Number.isInteger(N) || N < 1 || !Number.isInteger(K) || K < 1) {
    throw new RangeError(`matrix shape [${N}, ${K}] must be positive integers`);
  }
  if (W.length !== N * K) throw new RangeError(`matrix has ${W.length} values, [${N}, ${K}] needs ${N * K}`);
}

/** max |w| of row n; throws RangeError naming the first non-finite weight. */
function rowMaxAbs(W: ArrayLike<number>, n: number, K: number): number {
  let m = 0;
  const base = n * K;
  // Math.max propagates NaN and Infinity, so one check per row finds a non-finite weight.
  for (let k = 0; k < K; k++) m = Math.max(m, Math.abs(W[base + k]!));
  if (m < Infinity) return m;
  for (let k = 0; k < K; k++) {
    if (!(Math.abs(W[base + k]!) < Infinity))
      throw new RangeError(`weight [${n}, ${k}] is ${W[base + k]} (not finite)`);
  }
  return m;
}

/**
 * Quantize a row-major [N, K] matrix for the format in `p` (pe.block/high/low, weightBits,
 * lowBits, mip2q.maxExponent, dliq.shiftMax/granularity). Throws RangeError on NaN/Inf.
 */
export function quantizeMatrix(
  p: FormatParams,
  W: ArrayLike<number>,
  N: number,
  K: number,
  opts: QuantizeOptions = {},
): QuantizedMatrix {
  checkShape(W, N, K);
  const lowbit = formatOf(p);
  if (lowbit.lowbit) return quantizeLowbit(p, lowbit, W, N, K);
  const B = p.pe.block;
  const H = p.pe.high;
  const L = B - H;
  const Kp = paddedLength(K, B);
  const scope = maskScopeOf(p);
  const nb = Kp / B;
  const qmax = 2 ** (p.weightBits - 1) - 1;
  const scales = new Float64Array(N);
  // x = w * (qmax / max|w_c|) puts row c on the integer grid (0 for an all-zero row).
  const invScales = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    const m = rowMaxAbs(W, n, K);
    scales[n] = m / qmax;
    invScales[n] = m > 0 ? qmax / m : 0;
  }
  const out = {
    codes: new Int16Array(N * Kp),
    low: new Uint8Array(N * Kp),
    values: new Int16Array(N * Kp),
    metaIndex: new Uint8Array(N * nb),
  };
  const fmt = formatOf(p);
  const metaScope = metaScopeOf(fmt);
  const base0 = { N, K, Kp, B, scales, ...out, metaValues: fmt.metaCandidates, metaScope };
  if (!fmt.hasLow || L === 0) {
    let err = runPeScope(p, W, N, K, opts, scales, invScales, out, null, 0);
    // A PE structure that stores a selection of the INT8 weights (SDP on the weights) selects them.
    const selection = structureOf(p).weightSelection;
    if (selection) err = selectRows(selection, p.weightBits, W, N, K, Kp, scales, out);
    return { ...base0, layerMetaIndex: 0, weightedError: err, channelPlan: null };
  }
  const tables = lowTables(p);
  // Three levels (pe.mid, scope 'layer'): the middle format's nearest-value table.
  const midView = midConfigOf(p);
  const mid: MidPlan | undefined = midView ? { M: midCountOf(p), table: lowTables(midView)[0]! } : undefined;
  let channelPlan: ChannelPlan | null = null;
  let Wq = W;
  if (scope.kind === 'layer') {
    const I = opts.channels ?? K;
    if (opts.channelPlan && opts.channelPlan.channels !== I) {
      throw new RangeError(`channel plan for ${opts.channelPlan.channels} channels, the layer has ${I}`);
    }
    channelPlan =
      opts.channelPlan ??
      planChannels(
        W,
        N,
        K,
        I,
        B,
        H,
        qmax,
        scales,
        invScales,
        tables,
        opts.select ?? 'magnitude',
        opts.sensitivity,
        mid,
      );
    Wq = permuteColumns(Float32Array.from(W), N, K, channelPlan.perm);
  }
  const base = { ...base0, channelPlan };
  const sens =
    opts.sensitivity && scope.kind === 'group'
      ? { channels: opts.channels ?? K, weights: opts.sensitivity }
      : undefined;
  // One pass at a metadata candidate (fixedT >= 0) or searching per block (-1).
  const run = (fixedT: number) =>
    scope.kind === 'pe'
      ? runPeScope(p, Wq, N, K, opts, scales, invScales, out, tables, fixedT)
      : runScoped(
          B,
          H,
          qmax,
          Wq,
          N,
          K,
          opts.select ?? 'magnitude',
          scales,
          invScales,
          out,
          tables,
          fixedT,
          scope,
          sens,
          mid,
        );
  if (metaScope !== 'layer') {
    const err = run(-1);
    return { ...base, layerMetaIndex: 0, weightedError: err };
  }
  let best = opts.metaIndex ?? 0;
  if (opts.metaIndex === undefined) {
    // The layer's t minimises the total weight error (each row weighted by s_c^2).
    let bestErr = Infinity;
    for (let t = 0; t < tables.length; t++) {
      const e = run(t);
      if (e < bestErr) {
        bestErr = e;
        best = t;
      }
    }
  } else if (!Number.isInteger(best) || best < 0 || best >= tables.length) {
    throw new RangeError(`metaIndex ${best} outside 0..${tables.length - 1}`);
  }
  const err = run(best);
  return { ...base, layerMetaIndex: best, weightedError: err };
}

interface Out {
  codes: Int16Array;
  low: Uint8Array;
  values: Int16Array;
  metaIndex: Uint8Array;
}

/** Dispatch: the magnitude kernel when it applies, else the general loop. Both give identical results. */
function runPeScope(
  p: FormatParams,
  W: ArrayLike<number>,
  N: number,
  K: number,
  opts: QuantizeOptions,
  scales: Float64Array,
  invScales: Float64Array,
  out: Out,
  tables: NearestTable[] | null,
  fixedT: number,
): number {
  if (tables !== null && opts.select !== 'error' && !opts.general) {
    return runMagnitude(p, W, N, K, scales, invScales, out, tables, fixedT);
  }
  return runGeneral(p, W, N, K, opts, scales, invScales, out, tables, fixedT);
}

/**
 * The tables of lowTables(p) re-indexed for a branch-free lookup by f = floor(2x) and
 * g = ceil(2x): entry t * 2S + 2 * R2 + f + g, R2 = 2R, S = 4R + 1 (f + g = 2f when 2x is
 * an integer, else 2f + 1).
 * An exact 2x = f is the NearestTable entry f; an inner point of (f, f + 1) is entry f + 1
 * when f >= 0 (ceil) and f when f < 0 (floor), as nearestTable's index rule.
 */
interface FloorTables {
  readonly R2: number;
  readonly S: number;
  readonly value: Int32Array;
  readonly code: Int32Array;
}

const floorCache = new WeakMap<NearestTable[], FloorTables>();

function floorTables(tables: NearestTable[]): FloorTables {
  const hit = floorCache.get(tables);
  if (hit) return hit;
  const R2 = tables[0]!.offset;
  const S = 2 * R2 + 1;
  const value = new Int32Array(tables.length * 2 * S);
  const code = new Int32Array(tables.length * 2 * S);
  tables.forEach((tab, t) => {
    for (let f = -R2; f <= R2; f++) {
      const inner = f >= 0 ? Math.min(f + 1, R2) : f;
      for (const [slot, idx] of [
        [0, f],
        [1, inner],
      ] as const) {
        value[t * 2 * S + 2 * (f + R2) + slot] = tab.value[idx + R2]!;
        code[t * 2 * S + 2 * (f + R2) + slot] = tab.code[idx + R2]!;
      }
    }
  });
  const flat = { R2, S, value, code };
  floorCache.set(tables, flat);
  return flat;
}

/**
 * The magnitude policy (the paper's selection; MIP2Q, DLIQ, sparse) by a generated kernel
 * (magnitude-kernel.ts). Per block: one pass rounds to INT8 and histograms |q|; a second
 * picks the L smallest |q| branch-free (a random half of the positions go low, so branches
 * would mispredict on most weights) and looks up low values in a floor-indexed table. Same
 * arithmetic in the same order as runGeneral (adding 0 * cost leaves a sum unchanged).
 */
function runMagnitude(
  p: FormatParams,
  W: ArrayLike<number>,
  N: number,
  K: number,
  scales: Float64Array,
  invScales: Float64Array,
  out: Out,
  tables: NearestTable[],
  fixedT: number,
): number {
  const B = p.pe.block;
  const qmax = 2 ** (p.weightBits - 1) - 1;
  const { R2, S, value: tv, code: tc } = floorTables(tables);
  const tFirst = Math.max(fixedT, 0);
  const search = fixedT < 0 && tables.length > 1;
  const kernel = magnitudeKernel(B, B - p.pe.high, qmax, search);
  return kernel({
    W,
    N,
    K,
    Kp: paddedLength(K, B),
    scales,
    invScales,
    ...out,
    tv,
    tc,
    tb: tFirst * 2 * S + 2 * R2,
    S2: 2 * S,
    T: search ? tables.length : 1,
    index0: tFirst,
    magic: ROUND_MAGIC,
  });
}

/**
 * Quantize every row into `out`. tables null: all high. fixedT >= 0: that t for every block
 * (DLIQ per layer, or the single table); -1: search t per block. Returns sum_c s_c^2 * err_c
 * with err_c the squared error of row c in the integer domain.
 */
function runGeneral(
  p: FormatParams,
  W: ArrayLike<number>,
  N: number,
  K: number,
  opts: QuantizeOptions,
  scales: Float64Array,
  invScales: Float64Array,
  out: Out,
  tables: NearestTable[] | null,
  fixedT: number,
): number {
  const B = p.pe.block;
  const L = B - p.pe.high;
  const Kp = paddedLength(K, B);
  const nb = Kp / B;
  const qmax = 2 ** (p.weightBits - 1) - 1;
  const byError = opts.select === 'error';
  const { codes, values, low, metaIndex } = out;
  low.fill(0);
  // One block at a time: x = w * qmax / max|w_c| on the integer grid, q its INT8 code, be = (x - q)^2.
  const x = new Float64Array(B);
  const q = new Int32Array(B);
  const be = new Float64Array(B);
  const tFirst = Math.max(fixedT, 0);
  const T = tables === null ? 0 : fixedT >= 0 ? 1 : tables.length;
  // Per candidate t: each position's low value, code and extra cost, and the L chosen positions.
  const lv = new Int32Array(Math.max(T, 1) * B);
  const lc = new Int32Array(Math.max(T, 1) * B);
  const cost = new Float64Array(Math.max(T, 1) * B);
  const pick = new Int32Array(Math.max(T, 1) * Math.max(L, 1));
  const ks = new Float64Array(Math.max(L, 1));
  let total = 0;

  // The L positions of smallest cost[off..off+B) into pick[po..po+L), ties to the lower
  // position (bounded stable insertion: a later equal key never displaces an earlier one).
  const selectByCost = (off: number, po: number) => {
    let cnt = 0;
    for (let i = 0; i < B; i++) {
      const k = cost[off + i]!;
      if (cnt === L && k >= ks[L - 1]!) continue;
      let j = cnt < L ? cnt++ : L - 1;
      while (j > 0 && ks[j - 1]! > k) {
        ks[j] = ks[j - 1]!;
        pick[po + j] = pick[po + j - 1]!;
        j--;
      }
      ks[j] = k;
      pick[po + j] = i;
    }
  };
  // The L positions of smallest |q| in the block, ties to the lower position: a histogram
  // of |q| gives the threshold tau (|q| < tau all go low), then the first positions with
  // |q| = tau fill the rest. Branch-light, and ~30% faster than an insertion sort here.
  // Two levels (bins of 16 magnitudes, then single ones) keep the scan short for any spread.
  const hist = new Int32Array(qmax + 1);
  const coarse = new Int32Array((qmax >> 4) + 1);
  const selectByMagnitude = () => {
    for (let i = 0; i < B; i++) {
      const a = Math.abs(q[i]!);
      hist[a]!++;
      coarse[a >> 4]!++;
    }
    let below = 0;
    let c = 0;
    while (below + coarse[c]! < L) below += coarse[c++]!;
    let tau = c << 4;
    while (below + hist[tau]! < L) below += hist[tau++]!;
    let need = L - below;
    let r = 0;
    for (let i = 0; i < B; i++) {
      const a = Math.abs(q[i]!);
      if (a < tau || (a === tau && need-- > 0)) pick[r++] = i;
      hist[a] = 0;
      coarse[a >> 4] = 0;
    }
  };

  for (let n = 0; n < N; n++) {
    const s = scales[n]!;
    const inv = invScales[n]!;
    const rowBase = n * K;
    const rowOut = n * Kp;
    let rowErr = 0;
    for (let j = 0; j < nb; j++) {
      const k0 = j * B;
      const ob = rowOut + k0;
      for (let i = 0; i < B; i++) {
        const k = k0 + i;
        const xk = k < K ? W[rowBase + k]! * inv : 0;
        let qk = roundHalfEven(xk);
        // biome-ignore lint/complexity/useMathMinMax: the ternary clamp is faster in this hot loop
        qk = qk > qmax ? qmax : qk < -qmax ? -qmax : qk;
        const e = xk - qk;
        x[i] = xk;
        q[i] = qk;
        be[i] = e * e;
        rowErr += e * e;
        codes[ob + i] = qk;
        values[ob + i] = qk;
      }
      if (tables === null) continue;
      if (!byError) selectByMagnitude();
      if (!byError && T === 1) {
        // Fast path (MIP2Q, sparse, DLIQ per layer): one table, the L positions are known.
        const tab = tables[tFirst]!;
        for (let r = 0; r < L; r++) {
          const i = pick[r]!;
          const xi = x[i]!;
          const idx = (xi >= 0 ? Math.ceil(2 * xi) : Math.floor(2 * xi)) + tab.offset;
          const v = tab.value[idx]!;
          const d = xi - v;
          codes[ob + i] = tab.code[idx]!;
          values[ob + i] = v;
          low[ob + i] = 1;
          rowErr += d * d - be[i]!;
        }
        metaIndex[n * nb + j] = tFirst;
        continue;
      }
      let bestErr = Infinity;
      let best = 0;
      for (let ti = 0; ti < T; ti++) {
        const tab = tables[tFirst + ti]!;
        const tv = tab.value;
        const tc = tab.code;
        const off = tab.offset;
        const o = ti * B;
        // The magnitude policy needs the low values of its L positions only.
        const count = byError ? B : L;
        for (let r = 0; r < count; r++) {
          const i = byError ? r : pick[r]!;
          const xi = x[i]!;
          const idx = (xi >= 0 ? Math.ceil(2 * xi) : Math.floor(2 * xi)) + off;
          const v = tv[idx]!;
          const d = xi - v;
          lv[o + i] = v;
          lc[o + i] = tc[idx]!;
          cost[o + i] = d * d - be[i]!;
        }
        const po = byError ? ti * L : 0;
        if (byError) selectByCost(o, po);
        let e = 0;
        for (let r = 0; r < L; r++) e += cost[o + pick[po + r]!]!;
        if (e < bestErr) {
          bestErr = e;
          best = ti;
          // Costs are >= 0 (the INT8 code is the nearest integer), so 0 cannot be beaten
          // and a larger t could only tie: stop (most DLIQ blocks of real weights end here).
          if (e === 0) break;
        }
      }
      const o = best * B;
      const po = byError ? best * L : 0;
      for (let r = 0; r < L; r++) {
        const i = pick[po + r]!;
        codes[ob + i] = lc[o + i]!;
        values[ob + i] = lv[o + i]!;
        low[ob + i] = 1;
      }
      metaIndex[n * nb + j] = tFirst + best;
      rowErr += bestErr;
    }
    total += s * s * rowErr;
  }
  return total;
}

/**
 * A PE structure's weight selection (SDP on the weights: every group of G weights keeps the parts
 * of the exact least-error selection; src/format/structure.ts): codes = values = the kept
 * values, which the packer stores as part entries. The channel's scale is searched too: the INT8
 * grid of max|w| / qmax times each of the selection's scales, the one with the least error of the
 * kept values (a coarser grid can need fewer parts: small values have no high part). Returns the
 * weighted error of the kept values.
 */
function selectRows(
  selection: WeightSelection,
  bits: number,
  W: ArrayLike<number>,
  N: number,
  K: number,
  Kp: number,
  scales: Float64Array,
  out: Out,
): number {
  const qmax = 2 ** (bits - 1) - 1;
  const row = new Int16Array(Kp);
  const best = new Int16Array(Kp);
  let total = 0;
  for (let n = 0; n < N; n++) {
    const s0 = scales[n]!;
    if (s0 === 0) continue;
    let bestErr = Infinity;
    let bestScale = s0;
    for (const m of selection.scales) {
      const sc = s0 * m;
      const inv = 1 / sc;
      for (let k = 0; k < K; k++)
        row[k] = Math.min(qmax, Math.max(-qmax, roundHalfEven(W[n * K + k]! * inv)));
      selection.keep(row);
      let err = 0;
      for (let k = 0; k < K; k++) {
        const e = W[n * K + k]! - sc * row[k]!;
        err += e * e;
      }
      if (err < bestErr) {
        bestErr = err;
        bestScale = sc;
        best.set(row);
      }
    }
    scales[n] = bestScale;
    out.values.set(best, n * Kp);
    out.codes.set(best, n * Kp);
    total += bestErr;
  }
  return total;
}

/**
 * Uniform symmetric per-channel quantizer: s_c = max|w_c| / qmax with qmax = 2^(bits-1) - 1,
 * q = clip(roundHalfEven(w * qmax / max|w_c|), -qmax, qmax). The INT4 quality baseline;
 * with bits = 8 it is the base INT8 step of quantizeMatrix.
 */
export function quantizeUniform(
  W: ArrayLike<number>,
  N: number,
  K: number,
  bits: number,
): { scales: Float64Array; values: Int16Array } {
  checkShape(W, N, K);
  const qmax = 2 ** (bits - 1) - 1;
  const scales = new Float64Array(N);
  const values = new Int16Array(N * K);
  for (let n = 0; n < N; n++) {
    const m = rowMaxAbs(W, n, K);
    scales[n] = m / qmax;
    if (m === 0) continue;
    const inv = qmax / m;
    for (let k = 0; k < K; k++) {
      const qi = roundHalfEven(W[n * K + k]! * inv);
      values[n * K + k] = Math.min(qmax, Math.max(-qmax, qi));
    }
  }
  return { scales, values };
}

/** The WeightBlock (format/pack.ts) of row n, block j of a quantized matrix. */
export function weightBlockOf(qm: QuantizedMatrix, n: number, j: number): WeightBlock {
  const o = n * qm.Kp + j * qm.B;
  return {
    low: Array.from(qm.low.subarray(o, o + qm.B), (b) => b === 1),
    codes: Array.from(qm.codes.subarray(o, o + qm.B)),
    meta: qm.metaScope === 'block' ? qm.metaValues[qm.metaIndex[n * (qm.Kp / qm.B) + j]!]! : [],
  };
}

/** The layer-scope metadata values of a quantized matrix ([] unless the format's metadata is per layer). */
export const layerMetaOf = (qm: QuantizedMatrix): readonly number[] =>
  qm.metaScope === 'layer' ? qm.metaValues[qm.layerMetaIndex]! : [];

export interface ConfigQuantization {
  /** Padded reduction length (multiple of B). */
  readonly K: number;
  /** [output n][block j], each packable by packWeightBlock(cfg, ...). */
  readonly blocks: WeightBlock[][];
  /** The format's layer-scope metadata values (DLIQ per layer: [t]; [] otherwise). */
  readonly layerMeta: readonly number[];
  /** Per output channel. */
  readonly scales: Float64Array;
  /** Scope 'layer': the input channels' order in the blocks (QuantizedMatrix.channelPlan). */
  readonly channelPlan: ChannelPlan | null;
  /** Block sparsity (1-3-bit formats): the blocks each column group keeps; absent: all. */
  readonly blockKeep?: BlockKeep;
}

/**
 * Quantize `weights` ([N outputs, K reduction], row-major; see layerMatrix for conv order)
 * for a hardware config: the blocks the array consumes. Static blocks have exactly L low
 * weights; dynamic ones keep the config's H/L split too; low 'none' is all high.
 */
export function quantizeForConfig(
  cfg: ResolvedDpu,
  weights: Float32Array,
  N: number,
  K: number,
  opts: { select?: SelectPolicy; channels?: number } = {},
): ConfigQuantization {
  // Scope 'layer' and input channels that cannot be permuted: INT8 on the high lanes only.
  const spread =
    maskScopeOf(cfg).kind === 'layer' &&
    cfg.pe.high < cfg.pe.block &&
    channelPlanProblem(K, opts.channels ?? K, cfg.pe.block) !== null
      ? spreadOnHighLanes(weights, N, K, cfg.pe.block, cfg.pe.high)
      : null;
  const qm = spread
    ? quantizeMatrix(cfg, spread.W, N, spread.Kx, { channels: spread.Kx, channelPlan: spread.plan })
    : quantizeMatrix(cfg, weights, N, K, opts);
  const nb = qm.Kp / qm.B;
  const blocks = Array.from({ length: N }, (_, n) =>
    Array.from({ length: nb }, (_, j) => weightBlockOf(qm, n, j)),
  );
  return {
    K: qm.Kp,
    blocks,
    layerMeta: layerMetaOf(qm),
    scales: qm.scales,
    channelPlan: spread ? null : qm.channelPlan,
    ...(qm.blockKeep ? { blockKeep: qm.blockKeep } : {}),
  };
}
