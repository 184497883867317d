// The magnitude policy's hot loop, generated per (B, L, qmax, DLIQ search) with the block
// unrolled: each position's x, q and |q| live in locals instead of scratch arrays, which
// V8 runs about 1.5x faster than the loop form. quantize.ts owns the arithmetic (runGeneral
// is the readable reference); this source mirrors it operation for operation so results are
// bit-identical, and test/quant-fast.test.ts compares the two on random formats.

/** Arguments of a generated kernel; returns sum_c s_c^2 * err_c as runGeneral does. */
export interface MagnitudeKernelArgs {
  readonly W: ArrayLike<number>;
  readonly N: number;
  readonly K: number;
  readonly Kp: number;
  readonly scales: Float64Array;
  readonly invScales: Float64Array;
  readonly codes: Int16Array;
  readonly values: Int16Array;
  readonly low: Uint8Array;
  /** Per block: the chosen metadata candidate (index into the tables). */
  readonly metaIndex: Uint8Array;
  /** Flattened nearest-value tables, indexed tb + t * S2 + floor(2x) + ceil(2x). */
  readonly tv: Int32Array;
  readonly tc: Int32Array;
  readonly tb: number;
  readonly S2: number;
  /** Metadata candidates in the search kernel (1 otherwise). */
  readonly T: number;
  /** Candidate index of table 0 (a forced per-layer candidate; 0 otherwise). */
  readonly index0: number;
  /** The rounding constant of roundHalfEven. */
  readonly magic: number;
}

export type MagnitudeKernel = (a: MagnitudeKernelArgs) => number;

const cache = new Map<string, MagnitudeKernel>();

/**
 * The kernel for blocks of B with L low, INT8 range ±qmax. search: per-block metadata (try each
 * candidate, keep the first of least added error, stop at zero); otherwise one table.
 */
export function magnitudeKernel(B: number, L: number, qmax: number, search: boolean): MagnitudeKernel {
  for (const [name, v] of [
    ['B', B],
    ['L', L],
    ['qmax', qmax],
  ] as const) {
    // Only integers reach the generated source.
    if (!Number.isSafeInteger(v) || v < 0)
      throw new RangeError(`kernel ${name} ${v} is not a non-negative integer`);
  }
  const key = `${B},${L},${qmax},${search}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const kernel = new Function('a', kernelSource(B, L, qmax, search)) as MagnitudeKernel;
  cache.set(key, kernel);
  return kernel;
}

/** The generated source (exported for reading while debugging). */
export function kernelSource(B: number, L: number, qmax: number, search: boolean): string {
  const positions = Array.from({ length: B }, (_, i) => i);
  // INT8 step and |q| histogram (runGeneral's first loop).
  const int8 = positions.map(
    (i) => `
      const x${i} = k0 + ${i} < K ? W[wb + ${i}] * inv : 0;
      let r${i} = x${i} + M - M;
      r${i} = r${i} > ${qmax} ? ${qmax} : r${i} < ${-qmax} ? ${-qmax} : r${i};
      const e${i} = x${i} - r${i};
      rowErr += e${i} * e${i};
      const q${i} = r${i} | 0;
      const a${i} = (q${i} ^ (q${i} >> 31)) - (q${i} >> 31);
      hist[a${i}]++;`,
  );
  // Pick: l = a < tau || (a === tau && need-- > 0), branch-free (a random half of the
  // positions go low: branches would mispredict); the table index is the same for every t.
  const pick = positions.map(
    (i) => `
      hist[a${i}] = 0;
      const t${i} = (1 ^ (((a${i} - tau) | (tau - a${i})) >>> 31)) & (-need >>> 31);
      need -= t${i};
      const l${i} = ((a${i} - tau) >>> 31) | t${i};
      low[ob + ${i}] = l${i};
      const y${i} = 2 * x${i};
      const i${i} = tb + Math.floor(y${i}) + Math.ceil(y${i});`,
  );
  // One table: the added error of each low position goes into rowErr in position order.
  const single = positions.map(
    (i) => `
      d = x${i} - tv[i${i}];
      rowErr += l${i} * (d * d - e${i} * e${i});`,
  );
  // Added errors are >= 0, so once the partial sum reaches bestErr this t cannot win.
  const addedError = positions.map(
    (i) => `
        d = x${i} - tv[tt + i${i}];
        e += l${i} * (d * d - e${i} * e${i});${i % 4 === 3 && i < B - 1 ? '\n        if (e >= bestErr) continue;' : ''}`,
  );
  const write = positions.map(
    (i) => `
      codes[ob + ${i}] = q${i} + l${i} * (tc[tt + i${i}] - q${i});
      values[ob + ${i}] = q${i} + l${i} * (tv[tt + i${i}] - q${i});`,
  );
  const body = search
    ? `
      // Try t = 0, 1, ...: keep the first of least added error, stop at zero (as runGeneral).
      let bestErr = Infinity;
      let best = 0;
      for (let t = 0; t < T; t++) {
        const tt = t * S2;
        let e = 0;
        ${addedError.join('')}
        if (e < bestErr) {
          bestErr = e;
          best = t;
          if (e === 0) break;
        }
      }
      const tt = best * S2;
      ${write.join('')}
      metaIndex[n * nb + j] = index0 + best;
      rowErr += bestErr;`
    : `${single.join('')}
      const tt = 0;
      ${write.join('')}
      metaIndex[n * nb + j] = index0;`;
  return `'use strict';
  const { W, N, K, Kp, scales, invScales, codes, values, low, metaIndex, tv, tc, tb, S2, T, index0, magic: M } = a;
  const nb = Kp / ${B};
  const hist = new Int32Array(${qmax + 1});
  let total = 0;
  for (let n = 0; n < N; n++) {
    const s = scales[n];
    const inv = invScales[n];
    let rowErr = 0;
    for (let j = 0; j < nb; j++) {
      const k0 = j * ${B};
      const wb = n * K + k0;
      const ob = n * Kp + k0;
      ${int8.join('')}
      let below = 0;
      let tau = 0;
      while (below + hist[tau] < ${L}) below += hist[tau++];
      let need = ${L} - below;
      let d = 0;
      ${pick.join('')}
      ${body}
    }
    total += s * s * rowErr;
  }
  return total;`;
}
