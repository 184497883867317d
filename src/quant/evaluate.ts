// Quantize layers under one scheme (a hardware format, or the INT4 quality baseline) and
// measure them: what `strumgen quantize` and the quality table print.
import { type MaskScope, maskScopeOf } from '../config/mask-scope.ts';
import type { ResolvedDpu } from '../config/resolve.ts';
import { resolveConfig } from '../config/resolve.ts';
import { compressLayer } from '../format/blocksparse.ts';
import { int8Format } from '../format/int8.ts';
import type { MidLevel } from '../format/levels.ts';
import { packWeightBlock, wordsFor } from '../format/pack.ts';
import { isBaselineFormat, lowFormatNames, lowFormatSpec } from '../format/registry.ts';
import { seedOf } from '../io/rng.ts';
import { type Layer, layerMatrix } from './load.ts';
import { type ErrorSums, outputErrorSums, sqnrDb, syntheticActivations, weightErrorSums } from './metrics.ts';
import {
  layerMetaOf,
  paddedLength,
  type QuantizedMatrix,
  quantizeMatrix,
  quantizeUniform,
  type SelectPolicy,
  weightBlockOf,
} from './quantize.ts';
import { channelPlanProblem, inLayerOrder, spreadOnHighLanes } from './scope.ts';

/** The quantize schemes: int8 (pe.low 'none'), the INT4 quality baseline, and every registered low format. */
export const QUANT_FORMATS: readonly string[] = [
  'int8',
  'int4',
  ...lowFormatNames().filter((n) => !isBaselineFormat(n)),
];
export type QuantFormat = string;

export interface SchemeOptions {
  readonly low: QuantFormat;
  /** B (default 16). */
  readonly block?: number;
  /** H (default B/2; int8 is all high). */
  readonly high?: number;
  readonly select?: SelectPolicy;
  /** DLIQ shift per block (default) or per layer. */
  readonly granularity?: 'block' | 'layer';
  /** pe.maskScope (default 'pe'); 'group' sets array.cols to a multiple of G. */
  readonly maskScope?: MaskScope;
  /** pe.mid: a middle level (three-level per-input-channel precision; scope layer). */
  readonly mid?: MidLevel;
  /** The format's own parameter group (e.g. LP's { es, rs }); merged under its config key. */
  readonly params?: Readonly<Record<string, unknown>>;
  /** weightBits and lowBits when not the defaults (8, 4). */
  readonly weightBits?: number;
  readonly lowBits?: number;
}

/** How to quantize: a hardware config (int8, mip2q, dliq, sparse) or the uniform INT4 baseline. */
export interface Scheme {
  readonly low: QuantFormat;
  readonly select: SelectPolicy;
  /** null for int4, which no PE of ours runs. */
  readonly cfg: ResolvedDpu | null;
  readonly block: number;
}

/** Build a scheme; bad B/H combinations are ConfigErrors (exit 2) from the config resolver. */
export function makeScheme(o: SchemeOptions): Scheme {
  const select = o.select ?? 'magnitude';
  const block = o.block ?? 16;
  if (o.low === 'int4') {
    return { low: 'int4', select, cfg: null, block };
  }
  const low = o.low === 'int8' ? int8Format.name : o.low;
  const cfg = resolveConfig(
    {
      name: 'quantize',
      pe: {
        block,
        low,
        high: o.low === 'int8' ? undefined : o.high,
        ...(o.maskScope && o.maskScope.kind !== 'pe' ? { maskScope: o.maskScope } : {}),
        ...(o.mid ? { mid: o.mid } : {}),
      },
      ...(o.maskScope?.kind === 'group'
        ? { array: { cols: o.maskScope.channels * Math.ceil(4 / o.maskScope.channels) } }
        : {}),
      // --granularity applies to formats with a granularity parameter (DLIQ's shift per block or layer).
      ...(hasParam(low, 'granularity') || o.params
        ? {
            [low]: {
              ...(hasParam(low, 'granularity') ? { granularity: o.granularity ?? 'block' } : {}),
              ...o.params,
            },
          }
        : {}),
      ...(o.weightBits !== undefined ? { weightBits: o.weightBits } : {}),
      ...(o.lowBits !== undefined ? { lowBits: o.lowBits } : {}),
    },
    'quantize options',
  );
  return { low: o.low, select, cfg, block };
}

function hasParam(low: string, key: string): boolean {
  const params = lowFormatSpec(low).params as { shape?: Record<string, unknown> } | undefined;
  return params?.shape !== undefined && key in params.shape;
}

export const schemeLabel = (s: Scheme) =>
  s.cfg && s.low !== 'int8'
    ? `${s.low} B=${s.cfg.pe.block} H=${s.cfg.pe.high} ${s.select}` +
      s.cfg.derived.meta.map((m) => ` ${m.symbol}/${m.scope}`).join('') +
      (s.cfg.pe.mid ? ` M=${s.cfg.pe.mid.lanes} ${s.cfg.pe.mid.format}${s.cfg.pe.mid.bits}` : '') +
      scopeLabel(maskScopeOf(s.cfg))
    : s.low;

/** ' G=4' for shared masks, ' per input channel' for scope layer, '' for the default. */
export const scopeLabel = (m: MaskScope) =>
  m.kind === 'group' ? ` masks/${m.channels} channels` : m.kind === 'layer' ? ' per input channel' : '';

export interface LayerMetrics {
  readonly name: string;
  readonly op?: string;
  readonly shape: number[];
  /** Output channels and reduction length of the [N, K] matrix; Kp is K padded to a multiple of B. */
  readonly N: number;
  readonly K: number;
  readonly Kp: number;
  /** Real weights (N * K). */
  readonly weights: number;
  readonly sqnrDb: number;
  readonly mse: number;
  readonly maxAbsErr: number;
  /** Share of real weights stored in the low format. */
  readonly lowShare: number;
  /** Storage per weight slot, metadata (mask, shift) included, per-channel scale excluded. */
  readonly bitsPerWeight: number;
  /** Storage per real weight: also counts the zero padding of K to a multiple of B. */
  readonly storedBitsPerWeight: number;
  /** SQNR of the layer's dot products on the activations (see docs/QUANTIZATION.md). */
  readonly outputSqnrDb: number;
  /** The format's per-layer metadata values ([] unless per layer). */
  readonly layerMeta: readonly number[];
  /** Scope 'layer': the precision a layer got instead when its input channels cannot be permuted. */
  readonly precision?: string;
  /**
   * Scope 'layer': perm[c] = the original input channel the array sees as channel c (fold it
   * into the producer's output channels), and each original channel's level (1 = low).
   */
  readonly permutation?: readonly number[];
  readonly lowChannels?: readonly number[];
}

export interface LayerResult {
  readonly metrics: LayerMetrics;
  /** The quantized matrix (null for int4). */
  readonly qm: QuantizedMatrix | null;
  readonly sums: ErrorSums & { lows: number; storedBits: number; outSignal: number; outError: number };
}

export interface EvaluateOptions {
  /** Activations rows x K (the layer's K order); default: synthetic. */
  readonly acts?: { readonly data: ArrayLike<number>; readonly rows: number };
  /** Rows of synthetic activations (default 32). */
  readonly rows?: number;
  /** Per-layer metadata: force this candidate (quantize's metaIndex) instead of searching. */
  readonly metaIndex?: number;
}

export function evaluateLayer(layer: Layer, scheme: Scheme, opts: EvaluateOptions = {}): LayerResult {
  const { N, K, data, channels } = layerMatrix(layer);
  let qm: QuantizedMatrix | null = null;
  let values: Int16Array;
  let scales: Float64Array;
  let Kp = K;
  let lows = 0;
  let storedBits: number;
  let bitsPerWeight: number;
  let precision: string | undefined;
  const cfg = scheme.cfg;
  const B = cfg?.pe.block ?? 1;
  const unpermutable =
    cfg && maskScopeOf(cfg).kind === 'layer' && cfg.pe.high < B ? channelPlanProblem(K, channels, B) : null;
  if (cfg && unpermutable) {
    // Scope 'layer' with input channels that cannot be permuted: INT8 on the high lanes only.
    precision = `INT8 on the ${cfg.pe.high} high lanes of ${B} (${unpermutable})`;
    const spread = spreadOnHighLanes(data, N, K, B, cfg.pe.high);
    qm = quantizeMatrix(cfg, spread.W, N, spread.Kx, { channels: spread.Kx, channelPlan: spread.plan });
    scales = qm.scales;
    Kp = paddedLength(K, B);
    values = new Int16Array(N * Kp);
    for (let n = 0; n < N; n++)
      for (let k = 0; k < K; k++) values[n * Kp + k] = qm.values[n * qm.Kp + spread.pos[k]!]!;
    storedBits = (N * qm.Kp * cfg.derived.weightBlockBits) / B + cfg.derived.interface.layerMetaBits;
    bitsPerWeight = storedBits / (N * qm.Kp);
  } else if (cfg) {
    qm = quantizeMatrix(cfg, data, N, K, {
      select: scheme.select,
      channels,
      ...(opts.metaIndex !== undefined ? { metaIndex: opts.metaIndex } : {}),
    });
    ({ scales, Kp } = qm);
    // Scope 'layer' quantizes in the permuted order; the error is measured in the layer's own.
    values = inLayerOrder(qm.values, qm);
    const low = inLayerOrder(qm.low, qm);
    for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) lows += low[n * Kp + k]!;
    // Per-layer metadata (e.g. a DLIQ shift per layer) is stored once per layer.
    const layerBits = cfg.derived.interface.layerMetaBits;
    storedBits = (N * Kp * cfg.derived.weightBlockBits) / cfg.pe.block + layerBits;
    if (qm.blockKeep) {
      // Block-sparse 1-3-bit formats: the compressed storage (kept codes, index, scales).
      const blocks = Array.from({ length: N }, (_, n) =>
        Array.from({ length: Kp / B }, (_, j) => weightBlockOf(qm!, n, j)),
      );
      storedBits = compressLayer(blocks, qm.blockKeep, B, cfg.derived.codeBits).bits.total;
    }
    bitsPerWeight = storedBits / (N * Kp);
  } else {
    ({ values, scales } = quantizeUniform(data, N, K, 4));
    storedBits = N * K * 4;
    bitsPerWeight = 4;
  }
  const sums = weightErrorSums(data, N, K, values, Kp, scales);
  const acts = opts.acts ?? {
    rows: opts.rows ?? 32,
    data: syntheticActivations(opts.rows ?? 32, K, seedOf(layer.name)),
  };
  if (acts.data.length !== acts.rows * K) {
    throw new RangeError(`activations: ${acts.data.length} values, ${acts.rows} x ${K} needed`);
  }
  const out = outputErrorSums(data, N, K, values, Kp, scales, acts.data, acts.rows);
  const metrics: LayerMetrics = {
    name: layer.name,
    ...(layer.op ? { op: layer.op } : {}),
    shape: layer.shape,
    N,
    K,
    Kp,
    weights: sums.count,
    sqnrDb: sqnrDb(sums.signal, sums.error),
    mse: sums.error / sums.count,
    maxAbsErr: sums.maxAbs,
    lowShare: lows / sums.count,
    bitsPerWeight,
    storedBitsPerWeight: storedBits / sums.count,
    outputSqnrDb: sqnrDb(out.signal, out.error),
    layerMeta: qm ? layerMetaOf(qm) : [],
    ...(precision ? { precision } : {}),
    ...(qm?.channelPlan && !precision
      ? { permutation: Array.from(qm.channelPlan.perm), lowChannels: Array.from(qm.channelPlan.low) }
      : {}),
  };
  return { metrics, qm, sums: { ...sums, lows, storedBits, outSignal: out.signal, outError: out.error } };
}

export interface OverallMetrics {
  readonly scheme: string;
  readonly layers: number;
  readonly weights: number;
  /** Pooled over all weights: 10 log10(Σ w² / Σ e²). */
  readonly sqnrDb: number;
  /** Mean of the per-layer weight SQNRs (dB). */
  readonly meanLayerSqnrDb: number;
  readonly mse: number;
  readonly maxAbsErr: number;
  readonly lowShare: number;
  /** Weighted by real weights. */
  readonly bitsPerWeight: number;
  readonly storedBitsPerWeight: number;
  /** Mean of the per-layer output SQNRs (dB). */
  readonly outputSqnrDb: number;
}

export function summarize(scheme: Scheme, results: readonly LayerResult[]): OverallMetrics {
  let count = 0;
  let signal = 0;
  let error = 0;
  let maxAbs = 0;
  let lows = 0;
  let stored = 0;
  let bitsW = 0;
  let sq = 0;
  let outSq = 0;
  let sqN = 0;
  let outN = 0;
  for (const r of results) {
    count += r.sums.count;
    signal += r.sums.signal;
    error += r.sums.error;
    maxAbs = Math.max(maxAbs, r.sums.maxAbs);
    lows += r.sums.lows;
    stored += r.sums.storedBits;
    bitsW += r.metrics.bitsPerWeight * r.sums.count;
    // Layers without signal (all-zero weights) have no SQNR: the means skip them.
    if (!Number.isNaN(r.metrics.sqnrDb)) {
      sq += r.metrics.sqnrDb;
      sqN++;
    }
    if (!Number.isNaN(r.metrics.outputSqnrDb)) {
      outSq += r.metrics.outputSqnrDb;
      outN++;
    }
  }
  return {
    scheme: schemeLabel(scheme),
    layers: results.length,
    weights: count,
    sqnrDb: sqnrDb(signal, error),
    meanLayerSqnrDb: sqN ? sq / sqN : Number.NaN,
    mse: error / (count || 1),
    maxAbsErr: maxAbs,
    lowShare: lows / (count || 1),
    bitsPerWeight: bitsW / (count || 1),
    storedBitsPerWeight: stored / (count || 1),
    outputSqnrDb: outN ? outSq / outN : Number.NaN,
  };
}

/**
 * All blocks of a quantized matrix packed for cfg: row n, block j at word
 * (n * Kp / B + j) * wordsFor(weightBlockBits), each block LSB-first (docs/FORMATS.md).
 */
export function packMatrix(cfg: ResolvedDpu, qm: QuantizedMatrix): Uint32Array {
  const nb = qm.Kp / qm.B;
  const wpb = wordsFor(cfg.derived.weightBlockBits);
  const out = new Uint32Array(qm.N * nb * wpb);
  for (let n = 0; n < qm.N; n++) {
    for (let j = 0; j < nb; j++) {
      packWeightBlock(cfg, weightBlockOf(qm, n, j), out.subarray((n * nb + j) * wpb, (n * nb + j + 1) * wpb));
    }
  }
  return out;
}
