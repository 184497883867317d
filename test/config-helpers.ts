// Helpers shared by the config and co-design tests.
import { ConfigError, resolveConfig } from '../src/config/resolve.ts';
import { Rng } from '../src/io/rng.ts';

/** The issues a config raises, as 'path: message' lines ([] when it is legal). */
export function configProblems(input: unknown): string[] {
  try {
    resolveConfig(input);
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.issues.map((i) => `${i.path}: ${i.message}`);
  }
}

/** n Laplace-like weights (scale 0.1), seeded. */
export function laplaceWeights(n: number, seed: number): Float32Array {
  const r = new Rng(seed);
  return Float32Array.from({ length: n }, () => {
    const u = r.float() - 0.5;
    return Math.sign(u) * Math.log(1 - 2 * Math.abs(u) + 1e-9) * -0.1;
  });
}
