// Quality metrics of a quantized layer: weight error (SQNR, MSE, max error) and the error of
// the layer's integer dot products on given or synthetic activations. Definitions are in
// docs/QUANTIZATION.md.
import { Rng } from '../io/rng.ts';

/** Sums from which every weight metric follows; add them to pool layers. */
export interface ErrorSums {
  /** Number of real (unpadded) weights. */
  count: number;
  /** Σ w². */
  signal: number;
  /** Σ (w - ŵ)², ŵ = value * s_c. */
  error: number;
  /** max |w - ŵ|. */
  maxAbs: number;
}

/**
 * Weight error of a quantized [N, K] matrix whose integer values sit in rows of stride Kp
 * (Kp >= K; the padding is ignored) with one scale per row.
 */
export function weightErrorSums(
  W: ArrayLike<number>,
  N: number,
  K: number,
  values: ArrayLike<number>,
  Kp: number,
  scales: ArrayLike<number>,
): ErrorSums {
  let signal = 0;
  let error = 0;
  let maxAbs = 0;
  for (let n = 0; n < N; n++) {
    const s = scales[n]!;
    for (let k = 0; k < K; k++) {
      const w = W[n * K + k]!;
      const e = w - values[n * Kp + k]! * s;
      signal += w * w;
      error += e * e;
      const a = Math.abs(e);
      if (a > maxAbs) maxAbs = a;
    }
  }
  return { count: N * K, signal, error, maxAbs };
}

/** Signal-to-quantization-noise ratio in dB; Infinity when the error is zero, NaN (undefined) when the signal is. */
export function sqnrDb(signal: number, error: number): number {
  if (signal === 0) return Number.NaN;
  if (error === 0) return Infinity;
  return 10 * Math.log10(signal / error);
}

/**
 * rows x K synthetic integer activations: round(N(0, sigma²)) clipped to [lo, hi]
 * (Rng's normal). Defaults: signed 8-bit, sigma 32; seed: e.g. seedOf(layer name).
 */
export function syntheticActivations(
  rows: number,
  K: number,
  seed: number,
  lo = -128,
  hi = 127,
  sigma = 32,
): Int32Array {
  const rng = new Rng(seed);
  const out = new Int32Array(rows * K);
  for (let i = 0; i < out.length; i++) out[i] = Math.min(hi, Math.max(lo, Math.round(rng.normal() * sigma)));
  return out;
}

/**
 * Output error of the layer's dot products on activations A (rows x K, row-major, in the
 * layer's K order): reference y = A·Wᵀ with float weights against s_c · (A·Vᵀ) with the
 * integer weight values V (exact integer sums). Returns Σ y² and Σ (y - ŷ)².
 */
export function outputErrorSums(
  W: ArrayLike<number>,
  N: number,
  K: number,
  values: ArrayLike<number>,
  Kp: number,
  scales: ArrayLike<number>,
  A: ArrayLike<number>,
  rows: number,
): { signal: number; error: number } {
  let signal = 0;
  let error = 0;
  for (let n = 0; n < N; n++) {
    const s = scales[n]!;
    const wb = n * K;
    const vb = n * Kp;
    for (let r = 0; r < rows; r++) {
      const ab = r * K;
      let y = 0;
      let yi = 0;
      for (let k = 0; k < K; k++) {
        const a = A[ab + k]!;
        y += a * W[wb + k]!;
        yi += a * values[vb + k]!;
      }
      const e = y - yi * s;
      signal += y * y;
      error += e * e;
    }
  }
  return { signal, error };
}
