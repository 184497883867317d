// LPQ for the LP lane format (pe.low 'lp'): per layer, choose (es, rs) and the layer's scale t
// (sf) by searching the hardware quantizer itself, so the chosen parameters are exactly what a
// PE with that (es, rs) runs. Objective: the layer's output error on calibration activations
// (default: the same synthetic activations `quantize` measures output SQNR on, or --acts), or
// its weight error. The searches are lpq.ts's exhaustive and genetic ones over (es, rs, t).
// The generated PE fixes (es, rs) in its decoder (lp.es, lp.rs); t is run-time layer metadata.

import { ConfigError } from '../config/resolve.ts';
import { lpGrid, lpGridSf } from '../format/lp.ts';
import { type LpFormatParams, lpFormat } from '../format/lp-format.ts';
import { formatParams } from '../format/registry.ts';
import { seedOf } from '../io/rng.ts';
import { makeScheme, type Scheme, type SchemeOptions } from './evaluate.ts';
import type { Layer } from './load.ts';
import { layerMatrix } from './load.ts';
import { type LpqProblem, type LpqResult, lpqDomain, lpqExhaustiveOver, lpqGeneticOver } from './lpq.ts';
import { outputErrorSums, syntheticActivations } from './metrics.ts';
import { quantizeMatrix } from './quantize.ts';
import { inLayerOrder } from './scope.ts';

export const LPQ_METHODS = ['exhaustive', 'genetic'] as const;
export type LpqMethod = (typeof LPQ_METHODS)[number];
export const LPQ_OBJECTIVES = ['output', 'weight'] as const;
export type LpqObjective = (typeof LPQ_OBJECTIVES)[number];

/** Whether LPQ searches the parameters of the quantize scheme `low` (the LP format's). */
export const lpqSearches = (low: string): boolean => low === lpFormat.name;

export interface LpqLayerOptions {
  readonly method?: LpqMethod;
  readonly objective?: LpqObjective;
  readonly seed?: number;
  /** Calibration activations rows x K (default: synthetic, as evaluateLayer). */
  readonly acts?: { readonly data: ArrayLike<number>; readonly rows: number };
  readonly rows?: number;
}

export interface LpqLayerChoice {
  readonly scheme: Scheme;
  readonly es: number;
  readonly rs: number;
  /** The layer's scale metadata t (metaIndex) and the sf it stands for. */
  readonly t: number;
  readonly sf: number;
  readonly objective: number;
  readonly evaluations: number;
  readonly seconds: number;
}

/** One scheme per (es, rs) of a base scheme (null when the config refuses that pair). */
function schemeFor(
  base: SchemeOptions,
  cache: Map<string, Scheme | null>,
  es: number,
  rs: number,
): Scheme | null {
  const key = `${es},${rs}`;
  if (!cache.has(key)) {
    try {
      cache.set(key, makeScheme({ ...base, params: { ...base.params, es, rs } }));
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      cache.set(key, null);
    }
  }
  return cache.get(key)!;
}

/** LPQ on one layer for the LP scheme `base` (its low must be 'lp'). */
export function lpqLayer(layer: Layer, base: SchemeOptions, opts: LpqLayerOptions = {}): LpqLayerChoice {
  const started = performance.now();
  const { N, K, data, channels } = layerMatrix(layer);
  const cache = new Map<string, Scheme | null>();
  const probe = makeScheme(base).cfg!;
  const n = probe.lowBits;
  const { shiftMax } = formatParams(probe) as LpFormatParams;
  const objective = opts.objective ?? 'output';
  const rows = opts.acts?.rows ?? opts.rows ?? 32;
  const acts =
    objective === 'output' ? (opts.acts?.data ?? syntheticActivations(rows, K, seedOf(layer.name))) : null;
  const problem: LpqProblem = {
    n,
    domain: lpqDomain(n),
    sfWindow: () => [0, shiftMax],
    evaluate(es, rs, t) {
      const scheme = schemeFor(base, cache, es, rs);
      if (!scheme) return Infinity;
      const qm = quantizeMatrix(scheme.cfg!, data, N, K, { select: scheme.select, channels, metaIndex: t });
      if (!acts) return qm.weightedError;
      return outputErrorSums(data, N, K, inLayerOrder(qm.values, qm), qm.Kp, qm.scales, acts, rows).error;
    },
  };
  const r: LpqResult =
    (opts.method ?? 'exhaustive') === 'genetic'
      ? lpqGeneticOver(problem, { seed: opts.seed ?? 1 })
      : lpqExhaustiveOver(problem);
  const { es, rs, sf: t } = r.params;
  const scheme = schemeFor(base, cache, es, rs)!;
  const lp = { n, es, rs };
  return {
    scheme,
    es,
    rs,
    t,
    sf: lpGridSf(lp, lpGrid(lp, scheme.cfg!.weightBits, shiftMax), t),
    objective: r.error,
    evaluations: r.evaluations,
    seconds: (performance.now() - started) / 1000,
  };
}
