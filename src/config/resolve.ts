// Turns a user description into the frozen resolved config every later stage reads:
// schema defaults, cross-field rules, derived values and a stable content hash.
import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { bitsFor, productRange, type Range, signedBitsFor } from '../format/bits.ts';
import { type WeightBlockLayout, weightBlockLayout } from '../format/layout.ts';
import { midFormatOf } from '../format/levels.ts';
import { lowFormatSpec, parameterisedFormats } from '../format/registry.ts';
import type { MetaField } from '../format/spec.ts';
import { structureOf } from '../format/structure.ts';
import { activationRange, highProductRange } from '../format/values.ts';
import { UserError } from './errors.ts';
import { type ArrayInterface, arrayInterface, MAX_LAYER_META_BITS } from './interface.ts';
import { edgeStagesOf, maskScopeIssues } from './mask-scope.ts';
import { midLevelIssues } from './mid-level.ts';
import { type DpuInput, type DpuParsed, dpuSchema } from './schema.ts';
import { type SdpParams, sdpIssues } from './sdp.ts';

export { signedBitsFor };

/**
 * Bumped when the meaning of a config changes, so old hashes never alias new hardware.
 * 2: a format's parameter group enters the hash only when pe.low uses it.
 */
export const CONFIG_FORMAT_VERSION = 2;

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
  /** Lanes of the low format (with pe.mid: the L - M positions after the middle ones). */
  readonly lowLanes: number;
  /** pe.mid: M middle lanes (0 without pe.mid). */
  readonly midLanes: number;
  readonly lanes: number;
  /** Signed widths of one lane's product (a dynamic lane's covers its low mode too). */
  readonly highProductBits: number;
  readonly lowProductBits: number;
  /** Signed width of a * (low weight) whatever lane computes it (a dynamic lane's low mode); 0 without low weights. */
  readonly lowModeProductBits: number;
  /**
   * Range and signed width of a * (plain low code value): the product before the format's lane
   * shift (DLIQ: a * q, the PE shifts the low lanes' sum once); the low-mode product when the
   * format has no lane shift. [0, 0] and 0 without low weights.
   */
  readonly plainLowProductRange: Range;
  readonly plainLowProductBits: number;
  /** A middle lane's product width (0 without pe.mid). */
  readonly midProductBits: number;
  /** Signed width of the exact block sum (before the accumulator). */
  readonly blockSumBits: number;
  /** Levels of the binary adder tree over the lanes. */
  readonly adderTreeDepth: number;
  /** Bits of one stored low code (0 when low weights are not stored: none, sparse). */
  readonly codeBits: number;
  /** Range of a decoded low weight ([0, 0] without low weights). */
  readonly lowValueRange: Range;
  /** The format's metadata fields (per block: in the packed word; per layer: an array port). */
  readonly meta: readonly MetaField[];
  readonly weightLayout: WeightBlockLayout;
  /** Packed weight-block width (weightLayout.totalBits). */
  readonly weightBlockBits: number;
  /** Packed activation-block width: B * activation bits. */
  readonly activationBlockBits: number;
  /** Accumulator width needed for reductionLength without wrap. */
  readonly accumulatorBitsNeeded: number;
  /** Cycles from an input block to its effect on the accumulator (pipeline registers). */
  readonly latency: number;
  /** The array's port contract: every top-level port with its width and meaning. */
  readonly interface: ArrayInterface;
}

// pe.sdp.operand is left out of the resolved config when it is the default ('activations').
type Parsed = Omit<DpuParsed, 'pe'> & {
  pe: Omit<DpuParsed['pe'], 'high' | 'sdp'> & { high: number; sdp?: SdpParams | undefined };
};

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
  const parsed = dpuSchema().safeParse(input);
  if (!parsed.success) throw new ConfigError(zodIssues(parsed.error), source);
  const c = parsed.data as DpuParsed;
  const issues: ConfigIssue[] = [];
  const warnings: string[] = [];
  const B = c.pe.block;
  const spec = lowFormatSpec(c.pe.low);
  const isBaseline = !spec.hasLow;
  // Only the used format's parameters exist (and enter the hash); another format's group is
  // checked by the schema, then dropped with a warning.
  const groups = c as unknown as Record<string, unknown>;
  for (const f of parameterisedFormats()) {
    if (f.name !== spec.name && groups[f.name] !== undefined) {
      warnings.push(`${f.name}: ignored (pe.low is '${c.pe.low}')`);
    }
  }
  const params = spec.params ? spec.params.parse(groups[spec.name] ?? {}) : undefined;

  if (!isPow2(B)) {
    issues.push({
      path: 'pe.block',
      message: `${B} is not a power of two (the block addressing and balanced adder tree need 1, 2, 4, ..., 64)`,
    });
  }
  const high = c.pe.high ?? (isBaseline ? B : spec.allLow ? 0 : Math.floor(B / 2));
  if (high > B) issues.push({ path: 'pe.high', message: `${high} exceeds pe.block (${B})` });
  if (isBaseline && high !== B) {
    issues.push({ path: 'pe.high', message: `must equal pe.block (${B}) when pe.low is '${c.pe.low}'` });
  }
  if (isBaseline && c.pe.mode === 'dynamic') {
    issues.push({ path: 'pe.mode', message: `'dynamic' needs a low format (pe.low is '${c.pe.low}')` });
  }
  if (c.pe.routeDecode === 'column' && (isBaseline || c.pe.mode === 'dynamic')) {
    issues.push({
      path: 'pe.routeDecode',
      message: `'column' needs a static StruM PE (pe.mode 'static' with a low format); this PE has no router`,
    });
  }
  issues.push(...maskScopeIssues({ ...c, pe: { ...c.pe, high } }, !isBaseline));
  if (c.lowBits > c.weightBits) {
    issues.push({ path: 'lowBits', message: `${c.lowBits} exceeds weightBits (${c.weightBits})` });
  }
  const formatConfig = { ...c, pe: { ...c.pe, high } };
  if (spec.check) issues.push(...spec.check(formatConfig, params));
  issues.push(
    ...midLevelIssues({ ...c, pe: { ...c.pe, high } }, !isBaseline, () => midFormatOf(formatConfig)),
  );
  issues.push(...sdpIssues(c, isBaseline));
  if (issues.length) throw new ConfigError(issues, source);
  const fmt = spec.bind(formatConfig, params);
  if (c.pe.mode === 'dynamic' && fmt.codeBits > c.weightBits) {
    // A dynamic lane's low code sits in the LSBs of its weight slot.
    throw new ConfigError(
      [
        {
          path: 'pe.mode',
          message: `'dynamic' needs ${fmt.codeBits}-bit low codes to fit weightBits (${c.weightBits})`,
        },
      ],
      source,
    );
  }
  const layerMetaBits = fmt.meta.filter((m) => m.scope === 'layer').reduce((s, m) => s + m.bits, 0);
  if (layerMetaBits > MAX_LAYER_META_BITS) {
    throw new ConfigError(
      [{ path: 'pe.low', message: `layer metadata of ${layerMetaBits} bits exceeds ${MAX_LAYER_META_BITS}` }],
      source,
    );
  }

  const L = B - high;
  const act = activationRange(c);
  const highProducts = highProductRange(c);
  const lowRange = productRange(act, fmt.valueRange);
  const dynamic = c.pe.mode === 'dynamic';
  const highLanes = isBaseline || dynamic ? B : high;
  // pe.mid: M of the L low positions are middle lanes (static, scope 'layer').
  const mid = midFormatOf(formatConfig);
  const midLanes = mid ? c.pe.mid!.lanes : 0;
  const midRange = mid ? productRange(act, mid.valueRange) : ([0, 0] as [number, number]);
  // Formats whose low weights need no multiply (sparse: all zero) have no low lanes.
  const lowLanes = isBaseline || dynamic || fmt.lane === null ? 0 : L - midLanes;
  // A PE structure (pe.sdp) may replace the lanes (SDP: K part-lanes per group of G).
  const structure = structureOf(c);
  const lanes = structure.lanes ?? highLanes + midLanes + lowLanes;
  // A dynamic lane computes both kinds of product, so its range covers both.
  const fullRange: [number, number] = dynamic
    ? [Math.min(highProducts[0], lowRange[0]), Math.max(highProducts[1], lowRange[1])]
    : highProducts;
  const highProductBits = signedBitsFor(...fullRange);
  const lowProductBits = lowLanes > 0 ? signedBitsFor(...lowRange) : 0;
  const lowModeProductBits = fmt.hasLow ? signedBitsFor(...lowRange) : 0;
  const laneShift = fmt.lane?.shift ?? null;
  const plainLowProductRange: Range = !fmt.hasLow
    ? [0, 0]
    : laneShift
      ? productRange(act, laneShift.plainRange)
      : lowRange;
  const plainLowProductBits = fmt.hasLow ? signedBitsFor(...plainLowProductRange) : 0;
  const midProductBits = midLanes > 0 ? signedBitsFor(...midRange) : 0;
  // Worst case block sum: every position at its widest product (a dynamic lane is a high lane).
  const laneRange = (n: number, r: [number, number]) => [n * r[0], n * r[1]] as const;
  const hi = laneRange(highLanes, fullRange);
  const lo0 = laneRange(lowLanes, lowRange);
  const mi = laneRange(midLanes, midRange);
  const lo = [lo0[0] + mi[0], lo0[1] + mi[1]] as const;
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
  const weightLayout = weightBlockLayout({
    block: B,
    high,
    mode: c.pe.mode,
    weightBits: c.weightBits,
    hasLow: fmt.hasLow,
    codeBits: fmt.codeBits,
    meta: fmt.meta,
    mid: mid ? { count: midLanes, bits: c.pe.mid!.bits } : null,
    parts: structure.weightParts,
  });
  const latency =
    1 +
    edgeStagesOf(c) +
    Number(c.pipeline.operands) +
    Number(c.pipeline.multiply) +
    Number(c.pipeline.adderTree);
  const derived: DerivedValues = {
    lowCount: L,
    highLanes,
    lowLanes,
    lanes,
    highProductBits,
    lowProductBits,
    lowModeProductBits,
    plainLowProductRange,
    plainLowProductBits,
    midLanes,
    midProductBits,
    blockSumBits,
    adderTreeDepth: bitsFor(lanes - 1),
    codeBits: fmt.codeBits,
    lowValueRange: fmt.valueRange,
    meta: fmt.meta,
    weightLayout,
    weightBlockBits: weightLayout.totalBits,
    activationBlockBits: B * c.activation.bits,
    accumulatorBitsNeeded,
    latency,
    interface: arrayInterface({
      rows: c.array.rows,
      cols: c.array.cols,
      activationBits: c.activation.bits,
      activationBlockBits: B * c.activation.bits,
      weightBlockBits: weightLayout.totalBits,
      accumulatorBits: c.accumulator.bits,
      latency,
      meta: fmt.meta,
    }),
  };
  const pe: Record<string, unknown> = { ...c.pe, high };
  // The default scope ('pe') is left out, so configs without the field keep their hashes.
  if (c.pe.maskScope?.kind === 'pe') delete pe.maskScope;
  // So is pe.sdp.operand 'activations' (the sdp preset keeps its hash).
  if (c.pe.sdp?.operand === 'activations') pe.sdp = { group: c.pe.sdp.group, keep: c.pe.sdp.keep };
  const normalized: Record<string, unknown> = { ...c, pe };
  for (const f of parameterisedFormats()) delete normalized[f.name];
  if (spec.params) normalized[spec.name] = params;
  const hash = createHash('sha256')
    .update(canonicalJson({ strumgenConfig: CONFIG_FORMAT_VERSION, ...normalized }))
    .digest('hex');
  return deepFreeze({ ...(normalized as Parsed), derived, hash, shortHash: hash.slice(0, 12), warnings });
}

/** The normalized description (no derived values): what the hash covers, and what `config --json` echoes. */
export function configOf(resolved: ResolvedDpu): Parsed {
  const { derived: _d, hash: _h, shortHash: _s, warnings: _w, ...rest } = resolved;
  return rest as Parsed;
}
