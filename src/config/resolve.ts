// Turns a user description into the frozen resolved config every later stage reads:
// schema defaults, cross-field rules, derived values and a stable content hash.
import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { UserError } from './errors.ts';
import { bitsFor, type WeightBlockLayout, weightBlockLayout } from './layout.ts';
import { type DpuInput, type DpuParsed, dpuSchema } from './schema.ts';

/** Bumped when the meaning of a config changes, so old hashes never alias new hardware. */
export const CONFIG_FORMAT_VERSION = 1;

export interface ConfigIssue {
  /** Dotted path of the offending field ('' for the whole config). */
  readonly path: string;
  readonly message: string;
}

/** A config that breaks one or more rules; `issues` has one entry per problem. */
export class ConfigError extends UserError {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[], source?: string) {
    const lines = issues.map((i) => `${i.path || '(config)'}: ${i.message}`);
    super(source ? lines.map((l) => `${source}: ${l}`).join('\n') : lines.join('\n'), 2);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

export interface DerivedValues {
  /** L = B - H: low-precision weights per block. */
  readonly lowCount: number;
  /** Multiplier lanes that exist in the PE: high (full) lanes and low lanes. */
  readonly highLanes: number;
  readonly lowLanes: number;
  readonly lanes: number;
  /** Signed widths of one lane's product (a dynamic lane's covers its low mode too). */
  readonly highProductBits: number;
  readonly lowProductBits: number;
  /** Signed width of the exact block sum (before the accumulator). */
  readonly blockSumBits: number;
  /** Levels of the binary adder tree over the lanes. */
  readonly adderTreeDepth: number;
  /** Bits of the DLIQ shift t (0 when not DLIQ). */
  readonly shiftBits: number;
  /** Bits of the per-block shift field in the packed word (0 unless DLIQ per block). */
  readonly blockShiftBits: number;
  readonly weightLayout: WeightBlockLayout;
  /** Packed weight-block width (weightLayout.totalBits). */
  readonly weightBlockBits: number;
  /** Packed activation-block width: B * activation bits. */
  readonly activationBlockBits: number;
  /** Accumulator width needed for reductionLength without wrap. */
  readonly accumulatorBitsNeeded: number;
  /** Largest exponent / shift the low format can express, with its code range. */
  readonly lowValueMax: number;
  /** Cycles from an input block to its effect on the accumulator (pipeline registers). */
  readonly latency: number;
}

type Parsed = Omit<DpuParsed, 'pe'> & { pe: Omit<DpuParsed['pe'], 'high'> & { high: number } };

export type ResolvedDpu = Readonly<
  Parsed & {
    readonly derived: DerivedValues;
    /** sha256 (hex) of the canonical config; same config, same hash, anywhere. */
    readonly hash: string;
    /** First 12 hex digits of hash, for file and directory names. */
    readonly shortHash: string;
    /** Legal but questionable choices (e.g. an accumulator that may wrap). */
    readonly warnings: readonly string[];
  }
>;

/** Typed identity for config files: `export default defineDpu({...})`. */
export function defineDpu(config: DpuInput): DpuInput {
  return config;
}

function zodIssues(error: z.ZodError): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of error.issues) {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ path: path ? `${path}.${key}` : key, message: 'unknown key' });
    } else if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) {
      out.push({ path, message: 'is required' });
    } else {
      out.push({ path, message: issue.message });
    }
  }
  return out;
}

const isPow2 = (n: number) => n > 0 && (n & (n - 1)) === 0;

/** Signed bits to hold every integer in [lo, hi]. */
export function signedBitsFor(lo: number, hi: number): number {
  let bits = 1;
  while (-(2 ** (bits - 1)) > lo || 2 ** (bits - 1) - 1 < hi) bits++;
  return bits;
}

/** Canonical JSON: sorted keys, no whitespace; the hash input. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * Validate and resolve a description. Throws ConfigError listing every problem.
 * `source` names the file or preset in error messages.
 */
export function resolveConfig(input: unknown, source?: string): ResolvedDpu {
  const parsed = dpuSchema.safeParse(input);
  if (!parsed.success) throw new ConfigError(zodIssues(parsed.error), source);
  const c = parsed.data;
  const issues: ConfigIssue[] = [];
  const warnings: string[] = [];
  const B = c.pe.block;
  const isBaseline = c.pe.low === 'none';

  if (!isPow2(B)) {
    issues.push({
      path: 'pe.block',
      message: `${B} is not a power of two (the block addressing and balanced adder tree need 1, 2, 4, ..., 64)`,
    });
  }
  const high = c.pe.high ?? (isBaseline ? B : Math.floor(B / 2));
  if (high > B) issues.push({ path: 'pe.high', message: `${high} exceeds pe.block (${B})` });
  if (isBaseline && high !== B) {
    issues.push({ path: 'pe.high', message: `must equal pe.block (${B}) when pe.low is 'none'` });
  }
  if (isBaseline && c.pe.mode === 'dynamic') {
    issues.push({ path: 'pe.mode', message: "'dynamic' needs a low format (pe.low is 'none')" });
  }
  if (c.pe.routeDecode === 'column' && (isBaseline || c.pe.mode === 'dynamic')) {
    issues.push({
      path: 'pe.routeDecode',
      message: `'column' needs a static StruM PE (pe.mode 'static' with a low format); this PE has no router`,
    });
  }
  if (c.lowBits > c.weightBits) {
    issues.push({ path: 'lowBits', message: `${c.lowBits} exceeds weightBits (${c.weightBits})` });
  }
  if (c.pe.low === 'mip2q') {
    const codeMax = 2 ** (c.lowBits - 1) - 2;
    if (c.mip2q.maxExponent > codeMax) {
      issues.push({
        path: 'mip2q.maxExponent',
        message: `${c.mip2q.maxExponent} does not fit a ${c.lowBits}-bit code (sign + exponent code, max ${codeMax})`,
      });
    }
    if (c.mip2q.maxExponent > c.weightBits - 2) {
      issues.push({
        path: 'mip2q.maxExponent',
        message: `2^${c.mip2q.maxExponent} is outside the ${c.weightBits}-bit weight grid (max ${c.weightBits - 2})`,
      });
    }
  }
  if (issues.length) throw new ConfigError(issues, source);

  const L = B - high;
  const aBits = c.activation.bits;
  const aMin = c.activation.signed ? -(2 ** (aBits - 1)) : 0;
  const aMax = c.activation.signed ? 2 ** (aBits - 1) - 1 : 2 ** aBits - 1;
  const wMin = -(2 ** (c.weightBits - 1));
  const wMax = 2 ** (c.weightBits - 1) - 1;
  const productRange = (lo: number, hi: number): [number, number] => {
    const p = [aMin * lo, aMin * hi, aMax * lo, aMax * hi];
    return [Math.min(...p), Math.max(...p)];
  };
  const highRange = productRange(wMin, wMax);
  let lowRange: [number, number] = [0, 0];
  let lowValueMax = 0;
  const shiftBits = c.pe.low === 'dliq' ? bitsFor(c.dliq.shiftMax) : 0;
  if (c.pe.low === 'mip2q') {
    lowValueMax = 2 ** c.mip2q.maxExponent;
    lowRange = productRange(-lowValueMax, lowValueMax);
  } else if (c.pe.low === 'dliq') {
    const s = 2 ** c.dliq.shiftMax;
    lowValueMax = (2 ** (c.lowBits - 1) - 1) * s;
    lowRange = productRange(-(2 ** (c.lowBits - 1)) * s, lowValueMax);
  }
  const dynamic = c.pe.mode === 'dynamic';
  const highLanes = isBaseline || dynamic ? B : high;
  const lowLanes = isBaseline || dynamic || c.pe.low === 'sparse' ? 0 : L;
  const lanes = highLanes + lowLanes;
  // A dynamic lane computes both kinds of product, so its range covers both.
  const fullRange: [number, number] = dynamic
    ? [Math.min(highRange[0], lowRange[0]), Math.max(highRange[1], lowRange[1])]
    : highRange;
  const highProductBits = signedBitsFor(...fullRange);
  const lowProductBits = lowLanes > 0 ? signedBitsFor(...lowRange) : 0;
  // Worst case block sum: every position at its widest product (a dynamic lane is a high lane).
  const laneRange = (n: number, r: [number, number]) => [n * r[0], n * r[1]] as const;
  const hi = laneRange(highLanes, fullRange);
  const lo = laneRange(lowLanes, lowRange);
  const blockSumBits = signedBitsFor(hi[0] + lo[0], hi[1] + lo[1]);
  const blocks = Math.ceil(c.accumulator.reductionLength / B);
  const accumulatorBitsNeeded = signedBitsFor(blocks * (hi[0] + lo[0]), blocks * (hi[1] + lo[1]));
  if (accumulatorBitsNeeded > c.accumulator.bits) {
    warnings.push(
      `accumulator.bits: ${c.accumulator.bits} bits can wrap on a reduction of ${c.accumulator.reductionLength} ` +
        `(worst case needs ${accumulatorBitsNeeded}); results then wrap modulo 2^${c.accumulator.bits}`,
    );
  }
  if (c.pe.routeDecode === 'column' && !isBaseline && (high === 0 || high === B)) {
    warnings.push(
      `pe.routeDecode: 'column' changes nothing here: with pe.high = ${high} of ${B} the PE needs no router`,
    );
  }
  const blockShiftBits = c.pe.low === 'dliq' && c.dliq.granularity === 'block' ? shiftBits : 0;
  const weightLayout = weightBlockLayout({
    block: B,
    high,
    low: c.pe.low,
    mode: c.pe.mode,
    weightBits: c.weightBits,
    lowBits: c.lowBits,
    blockShiftBits,
  });
  const derived: DerivedValues = {
    lowCount: L,
    highLanes,
    lowLanes,
    lanes,
    highProductBits,
    lowProductBits,
    blockSumBits,
    adderTreeDepth: bitsFor(lanes - 1),
    shiftBits,
    blockShiftBits,
    weightLayout,
    weightBlockBits: weightLayout.totalBits,
    activationBlockBits: B * aBits,
    accumulatorBitsNeeded,
    lowValueMax,
    latency: 1 + Number(c.pipeline.operands) + Number(c.pipeline.multiply) + Number(c.pipeline.adderTree),
  };
  const normalized = { ...c, pe: { ...c.pe, high } };
  const hash = createHash('sha256')
    .update(canonicalJson({ strumgenConfig: CONFIG_FORMAT_VERSION, ...normalized }))
    .digest('hex');
  return deepFreeze({ ...normalized, derived, hash, shortHash: hash.slice(0, 12), warnings });
}

/** The normalized description (no derived values): what the hash covers, and what `config --json` echoes. */
export function configOf(resolved: ResolvedDpu): Parsed {
  const { derived: _d, hash: _h, shortHash: _s, warnings: _w, ...rest } = resolved;
  return rest as Parsed;
}
