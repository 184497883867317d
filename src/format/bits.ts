// Integer helpers every stage shares: two's complement wrap, bit counts and product ranges.
// Defined once here (the formats, the golden model, the RTL planners and the checker use them).

/** Two's complement value of the low `bits` bits of `raw` (|raw| < 2^53). */
export function toSigned(raw: number, bits: number): number {
  const m = 2 ** bits;
  const v = ((raw % m) + m) % m;
  return v >= m / 2 ? v - m : v;
}

/** Low `bits` bits of a (possibly negative) integer, as an unsigned number. */
export function toUnsigned(value: number, bits: number): number {
  const m = 2 ** bits;
  return ((value % m) + m) % m;
}

/** Two's complement wrap of an exact integer to `bits` (bits <= 48, |x| < 2^53); fast when x fits. */
export function wrapSigned(x: number, bits: number): number {
  const half = 2 ** (bits - 1);
  if (x >= -half && x < half) return x;
  return toSigned(x, bits);
}

/** Bits needed to store the unsigned values 0..max. */
export function bitsFor(max: number): number {
  let bits = 0;
  while (2 ** bits <= max) bits++;
  return bits;
}

/** Signed bits to hold every integer in [lo, hi]. */
export function signedBitsFor(lo: number, hi: number): number {
  let bits = 1;
  while (-(2 ** (bits - 1)) > lo || 2 ** (bits - 1) - 1 < hi) bits++;
  return bits;
}

export type Range = readonly [number, number];

/** Range of x * y for x in `a` and y in `b`. */
export function productRange(a: Range, b: Range): [number, number] {
  const p = [a[0] * b[0], a[0] * b[1], a[1] * b[0], a[1] * b[1]];
  return [Math.min(...p), Math.max(...p)];
}

/** Range of a two's complement integer of `bits` bits. */
export const signedRange = (bits: number): [number, number] => [-(2 ** (bits - 1)), 2 ** (bits - 1) - 1];
