// The one seeded random generator of strumgen, used by every stage, bench, script and test:
// co-simulation and power stimulus, the OCR lines, bootstrap intervals, synthetic activations,
// LPQ's genetic search and the sweep's random axes. It lives in src/io (shared utilities that
// import nothing from the stages), so any stage can use it and data still flows one way.
//
// sfc32 (Doty-Humphrey's small fast chaotic generator) seeded through splitmix32. Its sequence
// decides every co-simulation vector and every power figure in the docs: change it and those
// must be regenerated (test/rng.test.ts pins the first outputs of seeds 0 and 1).

/** Small fast seeded generator (sfc32, seeded through splitmix32). State in an Int32Array: V8 keeps it unboxed. */
export class Rng {
  private readonly s = new Int32Array(4);
  constructor(seed: number) {
    let x = seed >>> 0;
    const mix = () => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return z ^ (z >>> 16);
    };
    for (let i = 0; i < 4; i++) this.s[i] = mix();
    for (let i = 0; i < 12; i++) this.u32();
  }
  /** Uniform integer in 0..2^32-1. */
  u32(): number {
    const s = this.s;
    const a = s[0]!;
    const b = s[1]!;
    const c = s[2]!;
    const d = s[3]!;
    const t = (((a + b) | 0) + d) | 0;
    s[3] = (d + 1) | 0;
    s[0] = b ^ (b >>> 9);
    s[1] = (c + (c << 3)) | 0;
    s[2] = (((c << 21) | (c >>> 11)) + t) | 0;
    return t >>> 0;
  }
  /** Uniform in [0, 1), a multiple of 2^-32. */
  float(): number {
    return this.u32() / 4294967296;
  }
  /** Uniform integer in 0..n-1 (n <= 2^32). */
  below(n: number): number {
    return Math.floor((this.u32() / 4294967296) * n);
  }
  /** Uniform integer in lo..hi. */
  int(lo: number, hi: number): number {
    return lo + this.below(hi - lo + 1);
  }
  /** True with probability p. */
  chance(p: number): boolean {
    return this.u32() < p * 4294967296;
  }
  /** A uniformly chosen element of a non-empty list. */
  pick<T>(xs: readonly T[]): T {
    return xs[this.below(xs.length)]!;
  }
  /** Standard normal N(0, 1) by Box-Muller (two draws; u in (0, 1] so the log is finite). */
  normal(): number {
    const u = (this.u32() + 1) / 4294967297;
    const v = this.u32() / 4294967296;
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}

/** FNV-1a hash of a string: a seed derived from a name (e.g. a layer's, so every scheme sees the same activations). */
export function seedOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}
