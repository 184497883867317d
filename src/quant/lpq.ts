// LPQ: per-layer choice of the logarithmic-posit parameters (es, rs, sf) for a fixed word
// length n (src/format/lp.ts). Objective: the weight error Σ(w - LP(w))² of the layer (LP(w) the
// nearest code, as lpEncode). Two searches over the same domain D: exhaustive over (es, rs)
// with a full one-dimensional scan of sf over a window, and a seeded genetic search.
// Both are deterministic. See docs/FORMATS.md ("LPQ").
import { type LpParams, lpMagnitudes, lpTable } from '../format/lp.ts';
import { Rng } from '../io/rng.ts';

/** |w| of a layer sorted ascending: computed once, shared by every candidate. */
export function sortedMagnitudes(W: ArrayLike<number>): Float64Array {
  const a = new Float64Array(W.length);
  for (let i = 0; i < W.length; i++) a[i] = Math.abs(W[i]!);
  return a.sort();
}

/**
 * Σ(|w| - nearest magnitude)² over sorted |w| (a merge, O(N + 2^n)); equals the error of
 * lpEncode on every weight (same nearest rule, ties to the even body, saturation).
 */
export function lpWeightError(sorted: Float64Array, mags: Float64Array): number {
  let err = 0;
  let lo = 0;
  const last = mags.length - 1;
  for (let i = 0; i < sorted.length; i++) {
    const a = sorted[i]!;
    while (lo < last && mags[lo + 1]! <= a) lo++;
    let m: number;
    if (lo === last) m = mags[last]!;
    else {
      const dl = a - mags[lo]!;
      const dh = mags[lo + 1]! - a;
      m = dl < dh || (dl === dh && lo % 2 === 0) ? mags[lo]! : mags[lo + 1]!;
    }
    err += (a - m) * (a - m);
  }
  return err;
}

export interface LpqOptions {
  /** Largest es tried (default min(3, n-2)). */
  readonly esMax?: number;
}

export interface LpqResult {
  readonly params: LpParams;
  /** Σ(w - LP(w))² at params. */
  readonly error: number;
  /** Objective evaluations made (distinct candidates). */
  readonly evaluations: number;
}

/** The search domain: es in 0..esMax, rs in 1..n-1, sf in sfRange(es, rs). */
export function lpqDomain(n: number, opts: LpqOptions = {}): { es: number[]; rs: number[] } {
  const esMax = Math.min(opts.esMax ?? 3, n - 2);
  return {
    es: Array.from({ length: esMax + 1 }, (_, i) => i),
    rs: Array.from({ length: n - 1 }, (_, i) => i + 1),
  };
}

/**
 * sf window for (n, es, rs) on a layer whose largest |w| is maxAbs: sf0 puts the largest LP
 * magnitude at or just above maxAbs; the window is sf0 ± (pMax - pMin + 2). Below sf0 nothing
 * saturates and the weights move into the finer (shorter-regime) codes; above it the largest
 * weights clip; past either end the whole layer sits in the coarsest regimes or saturates.
 */
export function sfRange(p: Pick<LpParams, 'n' | 'es' | 'rs'>, maxAbs: number): [number, number] {
  const t = lpTable(p);
  const top = t.logq[t.logq.length - 1]! / 2 ** t.Fmax;
  const sf0 = maxAbs > 0 ? Math.floor(top - Math.log2(maxAbs)) : 0;
  const span = t.pMax - t.pMin + 2;
  return [sf0 - span, sf0 + span];
}

/** The weight-error LPQ problem of one layer: Σ(w - LP(w))² over (es, rs, sf). */
function weightErrorProblem(W: ArrayLike<number>, n: number, opts: LpqOptions): LpqProblem {
  const sorted = sortedMagnitudes(W);
  const maxAbs = sorted.length ? sorted[sorted.length - 1]! : 0;
  return {
    n,
    domain: lpqDomain(n, opts),
    sfWindow: (es, rs) => sfRange({ n, es, rs }, maxAbs),
    evaluate: (es, rs, sf) => lpWeightError(sorted, lpMagnitudes({ n, es, rs, sf })),
  };
}

/** Better = smaller error; ties to the smaller (es, rs, sf) so the result is unique. */
const better = (a: LpqResult['params'], ea: number, b: LpqResult['params'] | null, eb: number) =>
  b === null || ea < eb || (ea === eb && (a.es - b.es || a.rs - b.rs || a.sf - b.sf) < 0);

/** Exhaustive LPQ: every (es, rs) of the domain, every sf of its window. */
export function lpqExhaustive(W: ArrayLike<number>, n: number, opts: LpqOptions = {}): LpqResult {
  return lpqExhaustiveOver(weightErrorProblem(W, n, opts));
}

export interface LpqGeneticOptions extends LpqOptions {
  readonly seed?: number;
  readonly population?: number;
  readonly generations?: number;
}

/** Any LPQ objective over (es, rs, sf) and its sf window per (es, rs) (the generic searches below). */
export interface LpqProblem {
  readonly n: number;
  readonly domain: { readonly es: readonly number[]; readonly rs: readonly number[] };
  sfWindow(es: number, rs: number): readonly [number, number];
  /** The objective (smaller is better); called once per distinct point. */
  evaluate(es: number, rs: number, sf: number): number;
}

/** A memoised problem: evaluations counts distinct points. */
function memoised(problem: LpqProblem) {
  const memo = new Map<string, number>();
  return {
    memo,
    eval(es: number, rs: number, sf: number): number {
      const key = `${es},${rs},${sf}`;
      let v = memo.get(key);
      if (v === undefined) {
        v = problem.evaluate(es, rs, sf);
        memo.set(key, v);
      }
      return v;
    },
  };
}

/** Exhaustive search of any LPQ problem: every (es, rs), every sf of its window. */
export function lpqExhaustiveOver(problem: LpqProblem): LpqResult {
  const obj = memoised(problem);
  const n = problem.n;
  let best: LpParams | null = null;
  let bestErr = Infinity;
  for (const es of problem.domain.es) {
    for (const rs of problem.domain.rs) {
      const [lo, hi] = problem.sfWindow(es, rs);
      for (let sf = lo; sf <= hi; sf++) {
        const e = obj.eval(es, rs, sf);
        const p = { n, es, rs, sf };
        if (better(p, e, best, bestErr)) {
          best = p;
          bestErr = e;
        }
      }
    }
  }
  return { params: best!, error: bestErr, evaluations: obj.memo.size };
}

/**
 * Genetic LPQ over the same domain: genome (es, rs, sf), population 16 (default), binary
 * tournament selection, uniform crossover, mutation of each gene with probability 0.3 by ±1
 * (sf by ±1 or ±2), one elite, 12 generations (default); sf kept inside its window.
 * Deterministic given the seed.
 */
export function lpqGenetic(W: ArrayLike<number>, n: number, opts: LpqGeneticOptions = {}): LpqResult {
  return lpqGeneticOver(weightErrorProblem(W, n, opts), opts);
}

/** The genetic search (lpqGenetic) of any LPQ problem. */
export function lpqGeneticOver(problem: LpqProblem, opts: LpqGeneticOptions = {}): LpqResult {
  const obj = memoised(problem);
  const n = problem.n;
  const d = problem.domain;
  const rng = new Rng(opts.seed ?? 1);
  const coin = () => rng.chance(0.5);
  const P = opts.population ?? 16;
  const G = opts.generations ?? 12;
  type Genome = { es: number; rs: number; sf: number };
  const clampSf = (g: Genome): Genome => {
    const [lo, hi] = problem.sfWindow(g.es, g.rs);
    return { ...g, sf: Math.min(hi, Math.max(lo, g.sf)) };
  };
  const clampTo = (xs: readonly number[], x: number) => Math.min(xs[xs.length - 1]!, Math.max(xs[0]!, x));
  const errorOf = (g: Genome) => obj.eval(g.es, g.rs, g.sf);
  let pop: Genome[] = Array.from({ length: P }, () => {
    const es = rng.pick(d.es);
    const rs = rng.pick(d.rs);
    const [lo, hi] = problem.sfWindow(es, rs);
    return { es, rs, sf: rng.int(lo, hi) };
  });
  let best: LpParams | null = null;
  let bestErr = Infinity;
  const note = (g: Genome) => {
    const e = errorOf(g);
    if (better({ n, ...g }, e, best, bestErr)) {
      best = { n, ...g };
      bestErr = e;
    }
  };
  pop.forEach(note);
  for (let gen = 0; gen < G; gen++) {
    const tournament = () => {
      const a = rng.pick(pop);
      const b = rng.pick(pop);
      return errorOf(a) <= errorOf(b) ? a : b;
    };
    const next: Genome[] = [{ es: best!.es, rs: best!.rs, sf: best!.sf }];
    while (next.length < P) {
      const a = tournament();
      const b = tournament();
      let c: Genome = {
        es: coin() ? a.es : b.es,
        rs: coin() ? a.rs : b.rs,
        sf: coin() ? a.sf : b.sf,
      };
      if (rng.chance(0.3)) c = { ...c, es: clampTo(d.es, c.es + (coin() ? -1 : 1)) };
      if (rng.chance(0.3)) c = { ...c, rs: clampTo(d.rs, c.rs + (coin() ? -1 : 1)) };
      if (rng.chance(0.3)) c = { ...c, sf: c.sf + (coin() ? -1 : 1) * (coin() ? 1 : 2) };
      c = clampSf(c);
      note(c);
      next.push(c);
    }
    pop = next;
  }
  return { params: best!, error: bestErr, evaluations: obj.memo.size };
}
