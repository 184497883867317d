// Statistics of an accuracy measurement (docs/ACCURACY.md, "Statistics"):
// - a proportion (top-1, exact lines) with its 95% Wilson score interval;
// - the paired change between two schemes on the same samples, with the Agresti-Min
//   interval (Wald on the discordant pairs after adding 1/2 to each of the four cells);
// - a ratio of sums (character error rate) and the paired change of two, with a seeded
//   percentile bootstrap over samples (the same resampled samples for both schemes).
import { Rng } from '../io/rng.ts';

export const Z95 = 1.959963984540054;

export interface Interval {
  readonly value: number;
  readonly lo: number;
  readonly hi: number;
}

/** k successes of n: the share and its 95% Wilson interval. */
export function wilson(k: number, n: number): Interval {
  if (n === 0) return { value: Number.NaN, lo: Number.NaN, hi: Number.NaN };
  const p = k / n;
  const z2 = Z95 * Z95;
  const den = 1 + z2 / n;
  const mid = (p + z2 / (2 * n)) / den;
  const half = (Z95 * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / den;
  return { value: p, lo: Math.max(0, mid - half), hi: Math.min(1, mid + half) };
}

export interface PairedChange extends Interval {
  /** Samples right under the scheme only / the reference only. */
  readonly gained: number;
  readonly lost: number;
  readonly n: number;
}

/** Change of accuracy (scheme - reference) over the same samples, 95% Agresti-Min interval. */
export function pairedChange(scheme: Uint8Array, reference: Uint8Array): PairedChange {
  const n = scheme.length;
  let gained = 0;
  let lost = 0;
  for (let i = 0; i < n; i++) {
    if (scheme[i] && !reference[i]) gained++;
    else if (!scheme[i] && reference[i]) lost++;
  }
  const value = n ? (gained - lost) / n : Number.NaN;
  // Agresti & Min (2005): add 1/2 to each cell, then the Wald interval of p12 - p21.
  const m = n + 2;
  const b = (gained + 0.5) / m;
  const c = (lost + 0.5) / m;
  const d = b - c;
  const se = Math.sqrt((b + c - d * d) / m);
  return { value, lo: Math.max(-1, d - Z95 * se), hi: Math.min(1, d + Z95 * se), gained, lost, n };
}

export const BOOTSTRAP_RESAMPLES = 1000;

/** sum(num) / sum(den) with a 95% percentile bootstrap interval (seeded). */
export function ratioInterval(num: ArrayLike<number>, den: ArrayLike<number>, seed = 1): Interval {
  const n = num.length;
  const sum = (a: ArrayLike<number>) => {
    let s = 0;
    for (let i = 0; i < a.length; i++) s += a[i]!;
    return s;
  };
  const value = sum(num) / sum(den);
  const rng = new Rng(seed);
  const stats = new Float64Array(BOOTSTRAP_RESAMPLES);
  for (let r = 0; r < BOOTSTRAP_RESAMPLES; r++) {
    let a = 0;
    let b = 0;
    for (let i = 0; i < n; i++) {
      const j = rng.below(n);
      a += num[j]!;
      b += den[j]!;
    }
    stats[r] = b ? a / b : 0;
  }
  stats.sort();
  return { value, ...percentiles(stats) };
}

/** Change of a ratio of sums (scheme - reference) over the same samples, paired bootstrap. */
export function pairedRatioChange(
  num: ArrayLike<number>,
  refNum: ArrayLike<number>,
  den: ArrayLike<number>,
  seed = 1,
): Interval {
  const n = num.length;
  let a = 0;
  let r = 0;
  let d = 0;
  for (let i = 0; i < n; i++) {
    a += num[i]!;
    r += refNum[i]!;
    d += den[i]!;
  }
  const rng = new Rng(seed);
  const stats = new Float64Array(BOOTSTRAP_RESAMPLES);
  for (let k = 0; k < BOOTSTRAP_RESAMPLES; k++) {
    let x = 0;
    let y = 0;
    let z = 0;
    for (let i = 0; i < n; i++) {
      const j = rng.below(n);
      x += num[j]!;
      y += refNum[j]!;
      z += den[j]!;
    }
    stats[k] = z ? (x - y) / z : 0;
  }
  stats.sort();
  return { value: (a - r) / d, ...percentiles(stats) };
}

function percentiles(sorted: Float64Array): { lo: number; hi: number } {
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))]!;
  return { lo: at(0.025), hi: at(0.975) };
}
