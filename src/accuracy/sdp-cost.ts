// What structured dynamic precision's dropped parts cost (src/format/sdp.ts), layer by layer
// on a real network with real activations: the integer path's int8 network (integer.ts) runs
// on calibration images; at every conv/FC layer the exact int8 x int8 accumulators are
// compared with (a) SDP on the activations (the dynamic rule, what an SDP PE computes) and
// (b) SDP on the weights (static, exact least-error selection, and the importance rule for
// reference). Each layer sees the exact int8 activations of the layer before, so a layer's
// SQNR is its own error, not accumulated.
import type { ResolvedDpu } from '../config/resolve.ts';
import { sdpApplyFast, sdpSelectWeights } from '../format/sdp.ts';
import type { QuantizedMatrix } from '../quant/quantize.ts';
import { goldenMatmul, type IntegerNet, type IntWeights, runInteger } from './integer.ts';

export interface SdpLayerCost {
  readonly layer: string;
  /** Output SQNR in dB: 10 log10(Σ exact² / Σ (exact - sdp)²) over the layer's accumulators. */
  readonly activationsDb: number;
  readonly weightsErrorDb: number;
  readonly weightsImportanceDb: number;
  /** Share of activation groups that drop a nonzero part. */
  readonly groupsClipped: number;
}

export interface SdpCost {
  readonly G: number;
  readonly K: number;
  readonly layers: readonly SdpLayerCost[];
  /** The same SQNRs pooled over every layer's accumulators (each layer's sums normalised by its signal). */
  readonly pooled: {
    readonly activationsDb: number;
    readonly weightsErrorDb: number;
    readonly weightsImportanceDb: number;
  };
}

const db = (signal: number, noise: number) => (noise === 0 ? Infinity : 10 * Math.log10(signal / noise));

/**
 * SDP cost of groups of G with K kept parts on `images` int8 inputs of `net` (INT8 weights `w`,
 * a config with pe.low 'none': the accumulators are exact int8 x int8 sums).
 */
export async function sdpCost(
  net: IntegerNet,
  w: IntWeights,
  input: Int8Array,
  images: number,
  G: number,
  K: number,
): Promise<SdpCost> {
  const cfg: ResolvedDpu = w.cfg;
  const bits = cfg.activation.bits;
  const accBits = cfg.accumulator.bits;
  const layers: SdpLayerCost[] = [];
  let counted = 0;
  const noise = { a: 0, we: 0, wi: 0 };
  const sdpW = w.q.map((q) => {
    const W = cfg.weightBits;
    const rows = (rule: 'error' | 'importance') => {
      const v = new Int16Array(q.values.length);
      for (let n = 0; n < q.N; n++) {
        const row = sdpSelectWeights(q.values.subarray(n * q.Kp, (n + 1) * q.Kp), G, K, W, rule);
        v.set(row, n * q.Kp);
      }
      return { ...q, values: v } as QuantizedMatrix;
    };
    return { error: rows('error'), importance: rows('importance') };
  });
  await runInteger(net, w, input, images, (i, A, rows) => {
    const q = w.q[i]!;
    const exact = goldenMatmul(A, rows, q, accBits);
    const As = sdpApplyFast(A, G, K, bits, new Int8Array(A.length));
    let clipped = 0;
    for (let g = 0; g < A.length; g += G) {
      for (let j = 0; j < G; j++) {
        if (As[g + j] !== A[g + j]) {
          clipped++;
          break;
        }
      }
    }
    const fromActs = goldenMatmul(As, rows, q, accBits);
    const fromWe = goldenMatmul(A, rows, sdpW[i]!.error, accBits);
    const fromWi = goldenMatmul(A, rows, sdpW[i]!.importance, accBits);
    let s = 0;
    const e = { a: 0, we: 0, wi: 0 };
    for (let k = 0; k < exact.length; k++) {
      const x = exact[k]!;
      s += x * x;
      e.a += (x - fromActs[k]!) ** 2;
      e.we += (x - fromWe[k]!) ** 2;
      e.wi += (x - fromWi[k]!) ** 2;
    }
    layers.push({
      layer: net.layers[i]!.name,
      activationsDb: db(s, e.a),
      weightsErrorDb: db(s, e.we),
      weightsImportanceDb: db(s, e.wi),
      groupsClipped: clipped / (A.length / G),
    });
    // Pooled: each layer's noise relative to its own signal, averaged in the linear domain.
    counted++;
    noise.a += e.a / s;
    noise.we += e.we / s;
    noise.wi += e.wi / s;
    return exact;
  });
  return {
    G,
    K,
    layers,
    pooled: {
      activationsDb: db(counted, noise.a),
      weightsErrorDb: db(counted, noise.we),
      weightsImportanceDb: db(counted, noise.wi),
    },
  };
}
