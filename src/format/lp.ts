// Logarithmic posits (LP; Ramachandran et al., DAC 2024, arXiv 2403.05465) as strumgen defines
// them. Every choice the paper leaves open is decided here and documented in docs/FORMATS.md
// ("Logarithmic posits (LP)"); this file is the one source of truth for codes, values and the
// fixed-point value the PE datapath computes with.
//
// An n-bit code is sign-magnitude: bit n-1 is the sign s, the low n-1 bits are the body.
// Body: a regime run of m identical bits from its MSB (k = m-1 for ones, k = -m for zeros),
// m capped at rs (a capped run, or one that reaches the end of the body, has no terminating
// bit; otherwise one opposite bit ends it), then es exponent bits e (bits past the end of the
// body read as 0, as in posits), then F fraction bits f that are a base-2 log fraction:
//   value = (-1)^s * 2^(k*2^es + e + f/2^F - sf).
// Body 0 is zero (it would otherwise be the smallest magnitude), code 1<<(n-1) ("negative
// zero") is NaR. Bodies are ordered by magnitude, so encode is a search in one sorted table.

/** LP parameters: n word bits, es exponent bits, rs maximum regime run length, sf scale factor. */
export interface LpParams {
  readonly n: number;
  readonly es: number;
  readonly rs: number;
  /** Integer scale factor: every value is multiplied by 2^-sf (a move of the binary point). */
  readonly sf: number;
}

/** The fields of one code. */
export interface LpFields {
  readonly negative: boolean;
  readonly zero: boolean;
  readonly nar: boolean;
  /** Regime value. */
  readonly k: number;
  /** Exponent (the field's bits shifted up past any truncated low bits). */
  readonly e: number;
  /** Fraction bits present in this code. */
  readonly F: number;
  /** Fraction field (F bits). */
  readonly f: number;
}

export const LP_MAX_N = 16;

/** One line naming the bad field, or null when (n, es, rs, sf) is a legal LP format. */
export function lpParamsProblem(p: LpParams): string | null {
  const int = (x: number) => Number.isInteger(x);
  if (!int(p.n) || p.n < 3 || p.n > LP_MAX_N) return `lp.n: ${p.n} must be an integer in 3..${LP_MAX_N}`;
  if (!int(p.es) || p.es < 0 || p.es > p.n - 2) return `lp.es: ${p.es} must be an integer in 0..${p.n - 2}`;
  if (!int(p.rs) || p.rs < 1 || p.rs > p.n - 1) return `lp.rs: ${p.rs} must be an integer in 1..${p.n - 1}`;
  if (!int(p.sf) || Math.abs(p.sf) > 1024) return `lp.sf: ${p.sf} must be an integer in -1024..1024`;
  return null;
}

function check(p: LpParams): void {
  const problem = lpParamsProblem(p);
  if (problem) throw new RangeError(problem);
}

/** The NaR code: sign 1, body 0. */
export const lpNaR = (n: number) => 2 ** (n - 1);

/** Decode the fields of a code (sf plays no part). */
export function lpFields(p: Pick<LpParams, 'n' | 'es' | 'rs'>, code: number): LpFields {
  const nb = p.n - 1;
  const half = 2 ** nb;
  const negative = code >= half;
  const body = code % half;
  if (body === 0) return { negative, zero: !negative, nar: negative, k: 0, e: 0, F: 0, f: 0 };
  const bit = (i: number) => Math.floor(body / 2 ** i) % 2; // i counts from the LSB
  const first = bit(nb - 1);
  const cap = Math.min(p.rs, nb);
  let m = 1;
  while (m < cap && bit(nb - 1 - m) === first) m++;
  const regimeBits = m < cap ? m + 1 : m; // a run that stops early has a terminator
  const k = first ? m - 1 : -m;
  const rem = nb - regimeBits;
  const eb = Math.min(p.es, rem);
  const F = rem - eb;
  const low = body % 2 ** rem;
  const e = Math.floor(low / 2 ** F) * 2 ** (p.es - eb);
  const f = low % 2 ** F;
  return { negative, zero: false, nar: false, k, e, F, f };
}

/** Everything derived from (n, es, rs): the magnitude table and the datapath's constants. */
export interface LpTable {
  readonly n: number;
  readonly es: number;
  readonly rs: number;
  /** Most fraction bits of any code: the log exponent's resolution is 2^-Fmax. */
  readonly Fmax: number;
  /**
   * logq[b] for body b in 1..2^(n-1)-1: the magnitude's log2 before sf, in units of 2^-Fmax:
   * (k*2^es + e)*2^Fmax + f*2^(Fmax-F). Strictly increasing in b. logq[0] is unused (zero).
   */
  readonly logq: Int32Array;
  /** Smallest and largest integer part k*2^es + e over nonzero codes. */
  readonly pMin: number;
  readonly pMax: number;
}

const tableCache = new Map<string, LpTable>();

/** The magnitude table of (n, es, rs) (cached). */
export function lpTable(p: Pick<LpParams, 'n' | 'es' | 'rs'>): LpTable {
  check({ ...p, sf: 0 });
  const key = `${p.n},${p.es},${p.rs}`;
  const hit = tableCache.get(key);
  if (hit) return hit;
  const size = 2 ** (p.n - 1);
  const fields: LpFields[] = [];
  let Fmax = 0;
  for (let b = 1; b < size; b++) {
    const fl = lpFields(p, b);
    fields[b] = fl;
    if (fl.F > Fmax) Fmax = fl.F;
  }
  const logq = new Int32Array(size);
  let pMin = Infinity;
  let pMax = -Infinity;
  for (let b = 1; b < size; b++) {
    const { k, e, F, f } = fields[b]!;
    const ip = k * 2 ** p.es + e;
    pMin = Math.min(pMin, ip);
    pMax = Math.max(pMax, ip);
    logq[b] = ip * 2 ** Fmax + f * 2 ** (Fmax - F);
  }
  const t: LpTable = { n: p.n, es: p.es, rs: p.rs, Fmax, logq, pMin, pMax };
  tableCache.set(key, t);
  return t;
}

/** Magnitudes of bodies 0..2^(n-1)-1 as floats (body 0 = 0), ascending. */
export function lpMagnitudes(p: LpParams): Float64Array {
  check(p);
  const t = lpTable(p);
  const mags = new Float64Array(t.logq.length);
  for (let b = 1; b < mags.length; b++) mags[b] = 2 ** (t.logq[b]! / 2 ** t.Fmax - p.sf);
  return mags;
}

/** Exact decode: the value is (negative ? -1 : 1) * 2^(log2num / log2den), or zero, or NaR. */
export interface LpExact {
  readonly zero: boolean;
  readonly nar: boolean;
  readonly negative: boolean;
  /** log2 |value| = log2num / log2den (log2den = 2^Fmax), sf included. */
  readonly log2num: number;
  readonly log2den: number;
}

export function lpDecodeExact(p: LpParams, code: number): LpExact {
  check(p);
  const t = lpTable(p);
  const half = 2 ** (p.n - 1);
  const negative = code >= half;
  const body = code % half;
  const den = 2 ** t.Fmax;
  if (body === 0) return { zero: !negative, nar: negative, negative, log2num: 0, log2den: den };
  return { zero: false, nar: false, negative, log2num: t.logq[body]! - p.sf * den, log2den: den };
}

/** The real value of a code as a double (NaR is NaN). */
export function lpDecode(p: LpParams, code: number): number {
  const x = lpDecodeExact(p, code);
  if (x.nar) return Number.NaN;
  if (x.zero) return 0;
  const mag = 2 ** (x.log2num / x.log2den);
  return x.negative ? -mag : mag;
}

/**
 * Index of the nearest entry of an ascending table to a >= 0 (linear distance); a tie goes
 * to the even index; beyond the last entry saturates to it.
 */
export function nearestIndex(mags: ArrayLike<number>, a: number): number {
  let lo = 0;
  let hi = mags.length - 1;
  if (a >= mags[hi]!) return hi;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (mags[mid]! <= a) lo = mid;
    else hi = mid;
  }
  const dl = a - mags[lo]!;
  const dh = mags[hi]! - a;
  if (dl < dh) return lo;
  if (dh < dl) return hi;
  return lo % 2 === 0 ? lo : hi;
}

/**
 * Nearest LP code to x in the linear domain (least |x - value|), ties to the even body;
 * |x| above the largest magnitude saturates to it (never NaR); NaN encodes as NaR; no code
 * is negative zero. Pass `mags` (lpMagnitudes(p)) when encoding many values.
 */
export function lpEncode(p: LpParams, x: number, mags: Float64Array = lpMagnitudes(p)): number {
  if (Number.isNaN(x)) return lpNaR(p.n);
  const body = nearestIndex(mags, Math.abs(x));
  return body !== 0 && x < 0 ? body + lpNaR(p.n) : body;
}

/** All 2^n codes, NaR included. */
export const lpCodes = (n: number): number[] => Array.from({ length: 2 ** n }, (_, c) => c);

/** Smallest and largest nonzero magnitudes. */
export function lpRange(p: LpParams): { minPos: number; maxPos: number } {
  const mags = lpMagnitudes(p);
  return { minPos: mags[1]!, maxPos: mags[mags.length - 1]! };
}

// ---- the integer datapath ----------------------------------------------------------------

/**
 * Constants of the PE's LP datapath for (n, es, rs); sf only moves the binary point.
 * A nonzero code with log2 magnitude p + j/2^Fmax (p = k*2^es + e integer, j the fraction
 * left-aligned to Fmax bits) becomes the integer magnitude mant[j] << (p - pMin), where
 * mant[j] = round(2^M * 2^(j/2^Fmax)) (M = Fmax + 3 fractional bits; round half up) is a
 * 2^Fmax-entry table; the real value is that integer times 2^(pMin - sf - M).
 */
export interface LpDatapath {
  /** Fraction bits of the mantissa table: Fmax + 3 (relative table error <= 2^-(Fmax+4), about a tenth of the log grid's step ln2/2^Fmax). */
  readonly M: number;
  /** mant[j] in [2^M, 2^(M+1)). */
  readonly mant: readonly number[];
  /** Bits of the unsigned integer magnitude: M + 1 + pMax - pMin. */
  readonly magBits: number;
  /** Shift of the largest code (pMax - pMin). */
  readonly maxShift: number;
}

/** M = Fmax + 3: see LpDatapath. */
export const lpMantissaBits = (Fmax: number) => Fmax + 3;

export function lpDatapath(p: Pick<LpParams, 'n' | 'es' | 'rs'>): LpDatapath {
  const t = lpTable(p);
  const M = lpMantissaBits(t.Fmax);
  const mant = Array.from({ length: 2 ** t.Fmax }, (_, j) =>
    Math.floor(2 ** M * 2 ** (j / 2 ** t.Fmax) + 0.5),
  );
  return { M, mant, magBits: M + 1 + t.pMax - t.pMin, maxShift: t.pMax - t.pMin };
}

/**
 * The signed integer the PE multiplies by an activation for this code (BigInt: up to
 * magBits + 1 bits). Its real value is lpHardwareValue(...) * 2^lpHardwareScaleExp(p). Zero and
 * NaR are 0 (weights never hold NaR; the lane treats it as zero).
 */
export function lpHardwareValue(p: LpParams, code: number): bigint {
  const t = lpTable(p);
  const half = 2 ** (p.n - 1);
  const body = code % half;
  if (body === 0) return 0n;
  const dp = lpDatapath(p);
  const den = 2 ** t.Fmax;
  const lq = t.logq[body]!;
  const ip = Math.floor(lq / den);
  const j = lq - ip * den;
  const mag = BigInt(dp.mant[j]!) << BigInt(ip - t.pMin);
  return code >= half ? -mag : mag;
}

/** Binary point of the hardware value: value = hv * 2^(pMin - sf - M). */
export function lpHardwareScaleExp(p: LpParams): number {
  const t = lpTable(p);
  return t.pMin - p.sf - lpMantissaBits(t.Fmax);
}

/**
 * Bits of a signed accumulator that sums K products of LP hardware values by signed actBits
 * activations without overflow: (magBits + 1) + actBits + ceil(log2 K) - 1 + 1; its fraction
 * bits are M + sf - pMin (the weight's; integer activations add none).
 */
export function lpAccumulator(
  p: LpParams,
  K: number,
  actBits: number,
): { bits: number; fractionBits: number } {
  const dp = lpDatapath(p);
  const productBits = dp.magBits + 1 + actBits - 1; // |hv| < 2^magBits, |a| <= 2^(actBits-1)
  return {
    bits: productBits + Math.ceil(Math.log2(Math.max(1, K))) + 1,
    fractionBits: -lpHardwareScaleExp(p),
  };
}

// ---- LP on the PE's integer weight grid (pe.low = 'lp') -----------------------------------

/**
 * The constants of an LP lane on a `gridBits`-bit integer weight grid (the INT8 grid of a
 * StruM PE's high lanes, or weightBits of an all-LP PE) with a per-layer scale t in
 * 0..shiftMax: the lane's weight is min(round(|hv| * 2^(t - R)), 2^(gridBits-1) - 1) with the
 * sign of the code (hv = lpHardwareValue at sf = 0; rounding half up), so the code's real
 * value in grid units is about its LP value at sf = R + pMin - M - t, saturated at the grid's
 * largest integer. R places LP's 1.0 (p = 0, j = 0) at 2^(gridBits-2) when t = shiftMax (and
 * at 2^(gridBits-2-shiftMax) when t = 0): R = M - pMin + shiftMax - (gridBits - 2). Codes
 * above the grid saturate (the price of putting LP's finest codes where the weights are).
 */
export interface LpGrid {
  /** Right shift (with rounding) after the scale: >= 1 for a legal grid. */
  readonly R: number;
  /** Bits of the magnitude after the shift by t, before rounding: magBits + shiftMax. */
  readonly wideBits: number;
  readonly shiftMax: number;
  /** Largest weight magnitude: 2^(gridBits-1) - 1 (larger ones saturate to it). */
  readonly qmax: number;
}

export function lpGrid(p: Pick<LpParams, 'n' | 'es' | 'rs'>, gridBits: number, shiftMax: number): LpGrid {
  const t = lpTable(p);
  const dp = lpDatapath(p);
  return {
    R: dp.M - t.pMin + shiftMax - (gridBits - 2),
    wideBits: dp.magBits + shiftMax,
    shiftMax,
    qmax: 2 ** (gridBits - 1) - 1,
  };
}

/**
 * The integer weight an LP lane computes for `code` at scale t: sign(code) * min(floor((|hv| *
 * 2^t + 2^(R-1)) / 2^R), qmax) (magnitude rounded half up and saturated, then the sign). Zero
 * and NaR give 0. templates/lib/strum_lane_lp.v computes exactly this.
 */
export function lpGridValue(
  p: Pick<LpParams, 'n' | 'es' | 'rs'>,
  code: number,
  t: number,
  grid: Pick<LpGrid, 'R' | 'qmax'>,
): number {
  const { R } = grid;
  if (R < 1) throw new RangeError(`LP grid shift R = ${R} must be at least 1`);
  const hv = lpHardwareValue({ ...p, sf: 0 }, code);
  const mag = hv < 0n ? -hv : hv;
  const rounded = ((mag << BigInt(t)) + (1n << BigInt(R - 1))) >> BigInt(R);
  const v = Number(rounded > BigInt(grid.qmax) ? BigInt(grid.qmax) : rounded);
  return hv < 0n ? -v : v;
}

/** sf of the LP value a grid code stands for at scale t (value in grid units = LP value at sf). */
export function lpGridSf(p: Pick<LpParams, 'n' | 'es' | 'rs'>, grid: LpGrid, t: number): number {
  const tb = lpTable(p);
  return grid.R + tb.pMin - lpMantissaBits(tb.Fmax) - t;
}
