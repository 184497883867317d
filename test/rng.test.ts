// The one seeded generator (src/io/rng.ts). Its sequence decides every co-simulation vector
// and power figure in the docs, so the first outputs of seeds 0 and 1 are pinned: a change here
// means regenerating those docs (co-simulation, power, accuracy's OCR lines, quantizer tables).
import { describe, expect, it } from 'vitest';
import { Rng, seedOf } from '../src/io/rng.ts';

const draw = (seed: number, n: number) => {
  const r = new Rng(seed);
  return Array.from({ length: n }, () => r.u32());
};

describe('Rng (sfc32 seeded through splitmix32)', () => {
  it('gives the documented first outputs (also those of a C sfc32 + splitmix32 reference)', () => {
    expect(draw(1, 6)).toEqual([1828152527, 3394835397, 2967886022, 2251045104, 4148684523, 4055680838]);
    expect(draw(0, 3)).toEqual([4205396811, 3543653536, 1222415357]);
  });

  it('is reproducible per seed, and different seeds give different streams', () => {
    expect(draw(12345, 1000)).toEqual(draw(12345, 1000));
    const firsts = new Set<string>();
    for (let seed = 0; seed < 200; seed++) firsts.add(draw(seed, 2).join(','));
    expect(firsts.size).toBe(200);
    // Seeds are taken modulo 2^32, as the --seed options document.
    expect(draw(2 ** 32 + 7, 4)).toEqual(draw(7, 4));
  });

  it('keeps every helper in its range, and each reaches both ends', () => {
    const r = new Rng(3);
    const hits = new Array<number>(10).fill(0);
    let fMin = 1;
    let fMax = 0;
    let outside = 0;
    for (let i = 0; i < 100_000; i++) {
      const f = r.float();
      if (!(f >= 0 && f < 1)) outside++;
      fMin = Math.min(fMin, f);
      fMax = Math.max(fMax, f);
      const b = r.below(10);
      if (Number.isInteger(b) && b >= 0 && b < 10) hits[b]!++;
      else outside++;
    }
    expect(outside).toBe(0);
    expect(fMin).toBeLessThan(1e-3);
    expect(fMax).toBeGreaterThan(1 - 1e-3);
    // Uniform within 4% per bucket (about 12 sigma of a fair die: a biased mapping fails).
    for (const h of hits) expect(Math.abs(h - 10_000)).toBeLessThan(400);
    const ints = new Set<number>();
    for (let i = 0; i < 2000; i++) ints.add(r.int(-3, 4));
    expect([...ints].sort((a, b) => a - b)).toEqual([-3, -2, -1, 0, 1, 2, 3, 4]);
    const xs = ['a', 'b', 'c'] as const;
    const picked = new Set<string>();
    for (let i = 0; i < 100; i++) picked.add(r.pick(xs));
    expect(picked.size).toBe(3);
    let yes = 0;
    let wrong = 0;
    for (let i = 0; i < 10_000; i++) {
      if (r.chance(0) || !r.chance(1)) wrong++;
      if (r.chance(0.3)) yes++;
    }
    expect(wrong).toBe(0);
    expect(Math.abs(yes - 3000)).toBeLessThan(200);
  });

  it('draws normal values with mean 0 and variance 1, always finite', () => {
    const r = new Rng(5);
    let s = 0;
    let s2 = 0;
    const n = 50_000;
    for (let i = 0; i < n; i++) {
      const g = r.normal();
      s += g;
      s2 += g * g;
    }
    expect(Number.isFinite(s2)).toBe(true);
    expect(Math.abs(s / n)).toBeLessThan(0.02);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.03);
  });

  it('seedOf is FNV-1a of the text', () => {
    expect(seedOf('')).toBe(0x811c9dc5);
    expect(seedOf('a')).toBe(0xe40c292c);
    expect(seedOf('conv2d_417.w_0')).not.toBe(seedOf('conv2d_418.w_0'));
  });
});
