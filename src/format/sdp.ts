// Structured Dynamic Precision (SDP; Huang et al., ACM TODAES 28(1) 2023): the one definition
// of how a value splits into a high and a low part and which parts of a group are kept. The
// golden model, the quantizer (static weight selection), the co-simulation stimulus and checker
// and the RTL selector (templates/lib/strum_sdp_select.v) all follow this file; docs/FORMATS.md
// ("Structured dynamic precision") is its prose.
//
// An n-bit value v splits into lo = the low floor(n/2) bits (unsigned) and hi = the rest
// (two's complement when v is signed), v = hi * 2^lb + lo. A group of G values has 2G parts,
// numbered hi parts first (part i = hi of value i, part G + i = lo of value i). A part's
// importance (key) is the magnitude of its contribution: |hi| * 2^lb for a high part, lo for a
// low part. The K kept parts are the K largest keys; ties go to the lower part number (so a
// high part before a low part, and value i before value i + 1). Part p is kept iff fewer than
// K parts beat it, where q beats p when key[q] > key[p], or key[q] = key[p] and q < p: a rank
// rule the hardware evaluates with one comparator per pair of parts.

export type SdpOperand = 'activations' | 'weights';

/** pe.sdp as the resolved config holds it (operand absent = 'activations', so older hashes hold). */
export interface SdpParams {
  readonly group: number;
  readonly keep: number;
  readonly operand?: SdpOperand | undefined;
}

/** What pe.sdp splits, or null without pe.sdp. */
export const sdpOperandOf = (c: {
  readonly pe: { readonly sdp?: SdpParams | undefined };
}): SdpOperand | null => (c.pe.sdp ? (c.pe.sdp.operand ?? 'activations') : null);

/** Bits of the low part of an n-bit value. */
export const sdpLowBits = (bits: number): number => Math.floor(bits / 2);

/** hi and lo of an n-bit value: v = hi * 2^lb + lo, 0 <= lo < 2^lb. */
export function sdpSplit(v: number, bits: number): { hi: number; lo: number } {
  const s = 2 ** sdpLowBits(bits);
  const lo = ((v % s) + s) % s;
  return { hi: (v - lo) / s, lo };
}

/** The keys of a group's 2G parts (hi parts first). */
export function sdpKeys(values: ArrayLike<number>, off: number, G: number, bits: number): number[] {
  const s = 2 ** sdpLowBits(bits);
  const keys = new Array<number>(2 * G);
  for (let i = 0; i < G; i++) {
    const { hi, lo } = sdpSplit(values[off + i]!, bits);
    keys[i] = Math.abs(hi) * s;
    keys[G + i] = lo;
  }
  return keys;
}

/** The kept parts of one group: kept[p] for p in 0..2G-1 (exactly min(K, 2G) true), by the rank rule. */
export function sdpSelect(keys: readonly number[], K: number): boolean[] {
  const n = keys.length;
  const kept = new Array<boolean>(n);
  for (let p = 0; p < n; p++) {
    let beaten = 0;
    for (let q = 0; q < n; q++) {
      if (keys[q]! > keys[p]! || (keys[q] === keys[p] && q < p)) beaten++;
    }
    kept[p] = beaten < K;
  }
  return kept;
}

/** The value a group member keeps: hi * 2^lb if its high part is kept, plus lo if its low part is. */
export function sdpKeptValue(v: number, bits: number, hiKept: boolean, loKept: boolean): number {
  const { hi, lo } = sdpSplit(v, bits);
  return (hiKept ? hi * 2 ** sdpLowBits(bits) : 0) + (loKept ? lo : 0);
}

/**
 * The block as an SDP PE sees it: every group of G values keeps its K most important parts
 * (the dynamic rule). `out` may be `values` itself. values.length must be a multiple of G.
 */
export function sdpApply(
  values: ArrayLike<number>,
  G: number,
  K: number,
  bits: number,
  out: { length: number; [i: number]: number } = new Array<number>(values.length),
): typeof out {
  for (let g = 0; g + G <= values.length; g += G) {
    const kept = sdpSelect(sdpKeys(values, g, G, bits), K);
    for (let i = 0; i < G; i++) out[g + i] = sdpKeptValue(values[g + i]!, bits, kept[i]!, kept[G + i]!);
  }
  return out;
}

/**
 * sdpApply for whole activation matrices (the integer accuracy path, the co-simulation's
 * pools): the same rule, without allocations, and a group whose nonzero parts number at most
 * K (most groups after a ReLU) is left as it is. test/sdp.test.ts checks it against sdpApply.
 */
export function sdpApplyFast<T extends { length: number; [i: number]: number }>(
  values: ArrayLike<number>,
  G: number,
  K: number,
  bits: number,
  out: T,
): T {
  const lb = sdpLowBits(bits);
  const s = 2 ** lb;
  const n = 2 * G;
  const key = new Int32Array(n);
  const part = new Int32Array(n);
  for (let g = 0; g + G <= values.length; g += G) {
    let nonzero = 0;
    for (let i = 0; i < G; i++) {
      const v = values[g + i]!;
      const lo = ((v % s) + s) % s;
      const hi = (v - lo) / s;
      part[i] = hi * s;
      part[G + i] = lo;
      key[i] = Math.abs(hi) * s;
      key[G + i] = lo;
      if (hi !== 0) nonzero++;
      if (lo !== 0) nonzero++;
    }
    if (nonzero <= K) {
      for (let i = 0; i < G; i++) out[g + i] = values[g + i]!;
      continue;
    }
    for (let i = 0; i < G; i++) out[g + i] = 0;
    for (let p = 0; p < n; p++) {
      const kp = key[p]!;
      let beaten = 0;
      for (let q = 0; q < n && beaten < K; q++) if (key[q]! > kp || (key[q] === kp && q < p)) beaten++;
      if (beaten < K) out[g + (p < G ? p : p - G)] += part[p]!;
    }
  }
  return out;
}

/** The config fields SDP reads. */
export interface SdpConfig {
  readonly pe: { readonly sdp?: SdpParams | undefined };
  readonly activation: { readonly bits: number };
}

/**
 * The activation transform of an SDP PE (identity without pe.sdp, and with operand 'weights',
 * whose activations are multiplied whole): what the PE multiplies.
 */
export function sdpActivations<T extends { length: number; [i: number]: number }>(
  cfg: SdpConfig,
  values: T,
): T {
  const sdp = cfg.pe.sdp;
  if (!sdp || sdpOperandOf(cfg) !== 'activations') return values;
  const out = (values instanceof Float64Array
    ? new Float64Array(values.length)
    : values instanceof Int32Array
      ? new Int32Array(values.length)
      : values instanceof Int8Array
        ? new Int8Array(values.length)
        : new Array<number>(values.length)) as unknown as T;
  return sdpApplyFast(values, sdp.group, sdp.keep, cfg.activation.bits, out);
}

// ---- static selection (weights: chosen offline, stored as metadata) ------------------------

/**
 * The static selection of one weight group: the kept parts (at most K of the 2G) that minimise
 * the group's squared error Σ (w_i - kept_i)^2, exact (a knapsack over the G values with a
 * budget of K parts: each value keeps none, hi, lo or both). The importance rule above is not
 * optimal for weights (w = -1 is hi = -1, lo = 15: keeping only lo gives 15, only hi gives
 * -16, neither gives the nearest, 0), and offline the exact optimum costs nothing. Ties:
 * fewer parts, then the earlier option per value in the order none, hi, lo, both.
 */
export function sdpStaticSelect(
  values: ArrayLike<number>,
  off: number,
  G: number,
  K: number,
  bits: number,
): boolean[] {
  const options = [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const;
  const cost = (i: number, o: number) => {
    const v = values[off + i]!;
    const e = v - sdpKeptValue(v, bits, options[o]![0], options[o]![1]);
    return e * e;
  };
  const parts = (o: number) => (o === 0 ? 0 : o === 3 ? 2 : 1);
  // best[i][k]: least error of values i..G-1 with at most k parts, and the option taken at i.
  const best: number[][] = Array.from({ length: G + 1 }, () => new Array<number>(K + 1).fill(0));
  const pick: number[][] = Array.from({ length: G }, () => new Array<number>(K + 1).fill(0));
  for (let i = G - 1; i >= 0; i--) {
    for (let k = 0; k <= K; k++) {
      let bestCost = Infinity;
      for (let o = 0; o < 4; o++) {
        if (parts(o) > k) continue;
        const c = cost(i, o) + best[i + 1]![k - parts(o)]!;
        if (c < bestCost) {
          bestCost = c;
          pick[i]![k] = o;
        }
      }
      best[i]![k] = bestCost;
    }
  }
  const kept = new Array<boolean>(2 * G).fill(false);
  let k = K;
  for (let i = 0; i < G; i++) {
    const o = pick[i]![k]!;
    kept[i] = options[o]![0];
    kept[G + i] = options[o]![1];
    k -= parts(o);
  }
  return kept;
}

/** Squared error of a group under a selection (the static selection's objective). */
export function sdpGroupError(
  values: ArrayLike<number>,
  off: number,
  G: number,
  bits: number,
  kept: readonly boolean[],
): number {
  let e = 0;
  for (let i = 0; i < G; i++) {
    const v = values[off + i]!;
    const d = v - sdpKeptValue(v, bits, kept[i]!, kept[G + i]!);
    e += d * d;
  }
  return e;
}

/** A weight vector after SDP selection per group of G: 'error' (static, exact) or 'importance' (the dynamic rule). */
export function sdpSelectWeights(
  values: ArrayLike<number>,
  G: number,
  K: number,
  bits: number,
  rule: 'error' | 'importance',
): number[] {
  const out = new Array<number>(values.length);
  for (let g = 0; g < values.length; g += G) {
    const n = Math.min(G, values.length - g);
    const kept =
      rule === 'error' ? sdpStaticSelect(values, g, n, K, bits) : sdpSelect(sdpKeys(values, g, n, bits), K);
    for (let i = 0; i < n; i++) out[g + i] = sdpKeptValue(values[g + i]!, bits, kept[i]!, kept[n + i]!);
  }
  return out;
}

/** Scale multipliers static SDP's quantizer tries per channel (1: the INT8 grid; above 1: a coarser grid). */
export const SDP_SCALES = [1, 1.125, 1.25, 1.5, 1.75, 2, 2.5, 3, 4] as const;

// ---- static SDP on the weights: the stored parts (pe.sdp.operand 'weights') ---------------
//
// A weight group of G values keeps at most K parts (the quantizer's least-error selection
// above). The weight block stores, per group, K part entries; entry j = {index, low, code}
// (LSB first: code in the low hb bits, then the low flag, then the index):
//   code  hb = W - floor(W/2) bits: a high part's hi (two's complement), a low part's lo
//         (unsigned, zero-extended);
//   low   1 bit: 1 = a low part (its product is not shifted), 0 = a high part (shifted by lb);
//   index ceil(log2 G) bits: the value of the group the part belongs to.
// The kept value of weight i is the sum of its entries' parts (hi * 2^lb or lo). The packer
// writes the canonical form: the nonzero parts of the kept values in part order (every high
// part, value 0 first, then every low part), then all-zero entries (index 0, high part, code
// 0: they add 0). A kept part is always nonzero (a zero part adds nothing), so the kept values
// alone say what is stored: the selection is not a second piece of state that could disagree.
// The PE's part-lane j multiplies entry j's part by activation `index` (a G:1 mux, no selector).

/** Bits of a part code: the high part's width (the wider of the two). */
export const sdpCodeBits = (bits: number): number => bits - sdpLowBits(bits);

/** Bits of a group's value index (0 when G = 1). */
export const sdpIndexBits = (G: number): number => (G > 1 ? Math.ceil(Math.log2(G)) : 0);

/** Bits of one stored part entry: code + low flag + index. */
export const sdpEntryBits = (G: number, bits: number): number => sdpCodeBits(bits) + 1 + sdpIndexBits(G);

/** One stored part: which value of the group, high or low, and its code (hi two's complement, or lo). */
export interface SdpEntry {
  readonly index: number;
  readonly low: boolean;
  /** The part itself: hi (signed) for a high part, lo (0 .. 2^lb - 1) for a low part. */
  readonly part: number;
}

/** Nonzero parts of a group of kept values (what it costs in entries). */
export function sdpNonzeroParts(values: ArrayLike<number>, off: number, G: number, bits: number): number {
  let n = 0;
  for (let i = 0; i < G; i++) {
    const { hi, lo } = sdpSplit(values[off + i]!, bits);
    if (hi !== 0) n++;
    if (lo !== 0) n++;
  }
  return n;
}

/**
 * The canonical K entries of a group of kept values: their nonzero parts in part order, then
 * zero entries. Throws RangeError when the group has more than K nonzero parts.
 */
export function sdpEntries(
  values: ArrayLike<number>,
  off: number,
  G: number,
  K: number,
  bits: number,
): SdpEntry[] {
  const his: SdpEntry[] = [];
  const los: SdpEntry[] = [];
  for (let i = 0; i < G; i++) {
    const { hi, lo } = sdpSplit(values[off + i]!, bits);
    if (hi !== 0) his.push({ index: i, low: false, part: hi });
    if (lo !== 0) los.push({ index: i, low: true, part: lo });
  }
  const out = [...his, ...los];
  if (out.length > K) throw new RangeError(`${out.length} nonzero parts, at most ${K} are stored`);
  while (out.length < K) out.push({ index: 0, low: false, part: 0 });
  return out;
}

/** The kept values a group's entries stand for (what the PE multiplies): the sum of each value's parts. */
export function sdpEntryValues(entries: readonly SdpEntry[], G: number, bits: number): number[] {
  const s = 2 ** sdpLowBits(bits);
  const out = new Array<number>(G).fill(0);
  for (const e of entries) out[e.index] = out[e.index]! + (e.low ? e.part : e.part * s);
  return out;
}

/** An entry as its stored bits (LSB first: code, low flag, index). */
export function sdpEncodeEntry(e: SdpEntry, bits: number): number {
  const hb = sdpCodeBits(bits);
  const code = e.part < 0 ? e.part + 2 ** hb : e.part;
  return code + (e.low ? 2 ** hb : 0) + e.index * 2 ** (hb + 1);
}

/** The entry of stored bits (an index beyond the group reads as it is: the caller checks). */
export function sdpDecodeEntry(raw: number, bits: number): SdpEntry {
  const hb = sdpCodeBits(bits);
  const code = raw % 2 ** hb;
  const low = Math.floor(raw / 2 ** hb) % 2 === 1;
  const index = Math.floor(raw / 2 ** (hb + 1));
  // A low part's code is lo (its top bit 0 when hb > lb); a high part's is hi in two's complement.
  const part = low ? code : code >= 2 ** (hb - 1) ? code - 2 ** hb : code;
  return { index, low, part };
}
