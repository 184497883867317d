// Logarithmic posits (src/format/lp.ts) and the LPQ parameter search (src/quant/lpq.ts).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type LpParams,
  lpCodes,
  lpDatapath,
  lpDecode,
  lpDecodeExact,
  lpEncode,
  lpFields,
  lpHardwareScaleExp,
  lpHardwareValue,
  lpMagnitudes,
  lpNaR,
  lpRange,
  lpTable,
} from '../src/format/lp.ts';
import { Rng } from '../src/io/rng.ts';
import { lpqDomain, lpqExhaustive, lpqGenetic, lpWeightError, sortedMagnitudes } from '../src/quant/lpq.ts';

const paramsArb = (nMax: number) =>
  fc.integer({ min: 3, max: nMax }).chain((n) =>
    fc.record({
      n: fc.constant(n),
      es: fc.integer({ min: 0, max: Math.min(3, n - 2) }),
      rs: fc.integer({ min: 1, max: n - 1 }),
      sf: fc.integer({ min: -8, max: 8 }),
    }),
  );

describe('LP codes', () => {
  it('documented fields: n=8 es=1 rs=7', () => {
    const p = { n: 8, es: 1, rs: 7 };
    // 0 1 0 1 1 0 1 0: s=0, regime 10 (k=0), e=1, fraction 1010 (F=4)
    expect(lpFields(p, 0b01011010)).toMatchObject({ k: 0, e: 1, F: 4, f: 0b1010 });
    // regime 0001 -> k=-3, e=1, F=2
    expect(lpFields(p, 0b00001110)).toMatchObject({ k: -3, e: 1, F: 2, f: 0b10 });
    expect(lpDecode({ ...p, sf: 0 }, 0b01011010)).toBeCloseTo(2 ** (1 + 10 / 16), 12);
    expect(lpDecode({ ...p, sf: 0 }, 0)).toBe(0);
    expect(lpDecode({ ...p, sf: 0 }, lpNaR(8))).toBeNaN();
  });
  it('a capped regime run has no terminator: n=6 rs=2 es=0', () => {
    // body 11 101: run of ones capped at 2 -> k=1, then 3 fraction bits 101
    expect(lpFields({ n: 6, es: 0, rs: 2 }, 0b11101)).toMatchObject({ k: 1, e: 0, F: 3, f: 0b101 });
    expect(lpFields({ n: 6, es: 0, rs: 2 }, 0b00101)).toMatchObject({ k: -2, e: 0, F: 3, f: 0b101 });
  });
  it('magnitudes strictly increase with the body', () => {
    fc.assert(
      fc.property(paramsArb(10), (p) => {
        const { logq } = lpTable(p);
        for (let b = 2; b < logq.length; b++) if (logq[b]! <= logq[b - 1]!) return false;
        return true;
      }),
    );
  });
  it('every code round-trips encode(decode(c)) == c (NaR included)', () => {
    fc.assert(
      fc.property(paramsArb(10), (p) => {
        const mags = lpMagnitudes(p);
        for (const c of lpCodes(p.n)) {
          if (lpEncode(p, lpDecode(p, c), mags) !== c) return false;
        }
        return true;
      }),
    );
  });
  it('encode is nearest: no code is closer to a random real', () => {
    fc.assert(
      fc.property(paramsArb(8), fc.integer({ min: 0, max: 1_000_000 }), fc.boolean(), (p, i, neg) => {
        // log-uniform magnitudes over the format's range and one binade beyond each end
        const { minPos, maxPos } = lpRange(p);
        const lo = Math.log2(minPos) - 1;
        const x = (neg ? -1 : 1) * 2 ** (lo + (i / 1e6) * (Math.log2(maxPos) + 1 - lo));
        const got = Math.abs(x - lpDecode(p, lpEncode(p, x)));
        for (const c of lpCodes(p.n)) {
          if (c === lpNaR(p.n)) continue;
          if (Math.abs(x - lpDecode(p, c)) < got) return false;
        }
        return true;
      }),
      { numRuns: 500 },
    );
  });
  it('exact decode agrees with the float decode', () => {
    const p = { n: 7, es: 2, rs: 4, sf: 3 };
    for (const c of lpCodes(7)) {
      const x = lpDecodeExact(p, c);
      if (x.zero || x.nar) continue;
      const v = (x.negative ? -1 : 1) * 2 ** (x.log2num / x.log2den);
      expect(lpDecode(p, c)).toBe(v);
    }
  });
});

/** The mantissa table entry by BigInt only: the T with (2T-1)^D <= 2^((M+1)D + j) < (2T+1)^D. */
function refMant(M: number, Fmax: number, j: number): bigint {
  const D = 2n ** BigInt(Fmax);
  const rhs = 2n ** ((BigInt(M) + 1n) * D + BigInt(j));
  let lo = 2n ** BigInt(M);
  let hi = 2n ** BigInt(M + 1);
  // smallest T with (2T+1)^D > rhs
  while (lo < hi) {
    const mid = (lo + hi) / 2n;
    if ((2n * mid + 1n) ** D > rhs) hi = mid;
    else lo = mid + 1n;
  }
  return lo;
}

describe('LP hardware value', () => {
  it('equals a BigInt reference on all codes for small n', () => {
    const rnd = new Rng(5);
    for (let n = 3; n <= 8; n++) {
      for (let es = 0; es <= Math.min(3, n - 2); es++) {
        for (let rs = 1; rs <= n - 1; rs++) {
          const p: LpParams = { n, es, rs, sf: Math.floor(rnd.float() * 9) - 4 };
          const dp = lpDatapath(p);
          for (const c of lpCodes(n)) {
            const ex = lpDecodeExact(p, c);
            let ref = 0n;
            if (!ex.zero && !ex.nar) {
              // log2 |v| + sf = (ip*D + j)/D; reference: refMant(j) << (ip - pMin)
              const D = ex.log2den;
              const lq = ex.log2num + p.sf * D;
              const ip = Math.floor(lq / D);
              const j = lq - ip * D;
              const t = lpTable(p);
              ref = refMant(dp.M, t.Fmax, j) << BigInt(ip - t.pMin);
              if (ex.negative) ref = -ref;
              // and its real value lies within the table's rounding of the true value
              const v = Number(ref) * 2 ** lpHardwareScaleExp(p);
              expect(Math.abs(v - lpDecode(p, c))).toBeLessThanOrEqual(
                Math.abs(lpDecode(p, c)) * 2 ** -dp.M + 1e-300,
              );
            }
            expect(lpHardwareValue(p, c)).toBe(ref);
          }
        }
      }
    }
  });
});

describe('LPQ search', () => {
  const layer = (seed: number, count: number) => {
    const rnd = new Rng(seed);
    return Float32Array.from(
      { length: count },
      () => Math.log(rnd.float() + 1e-9) * (rnd.float() < 0.5 ? -0.02 : 0.02),
    );
  };
  it('the merged weight error equals encoding every weight', () => {
    const W = layer(3, 500);
    const p = { n: 6, es: 1, rs: 3, sf: 7 };
    const mags = lpMagnitudes(p);
    let ref = 0;
    for (const w of W) ref += (w - lpDecode(p, lpEncode(p, w, mags))) ** 2;
    expect(lpWeightError(sortedMagnitudes(W), mags)).toBeCloseTo(ref, 12);
  });
  it('exhaustive = brute force over es, rs and a wide sf range on small cases', () => {
    for (const [seed, n, scale] of [
      [1, 4, 1],
      [2, 5, 0.01],
      [3, 6, 1e-4],
      [4, 7, 30],
    ] as const) {
      const W = layer(seed, 300).map((w) => w * scale);
      const sorted = sortedMagnitudes(W);
      let bestErr = Infinity;
      const d = lpqDomain(n);
      for (const es of d.es)
        for (const rs of d.rs)
          for (let sf = -40; sf <= 60; sf++) {
            bestErr = Math.min(bestErr, lpWeightError(sorted, lpMagnitudes({ n, es, rs, sf })));
          }
      const r = lpqExhaustive(W, n);
      expect(r.error).toBe(bestErr);
      expect(lpWeightError(sorted, lpMagnitudes(r.params))).toBe(r.error);
    }
  });
  it('genetic search is deterministic given its seed and never beats the exhaustive optimum', () => {
    const W = layer(9, 400);
    const a = lpqGenetic(W, 6, { seed: 7 });
    expect(lpqGenetic(W, 6, { seed: 7 })).toEqual(a);
    expect(a.error).toBeGreaterThanOrEqual(lpqExhaustive(W, 6).error);
  });
});
