// The PE structure: how a PE is organised around its weight format. A plain PE has one lane per
// weight position (the format's lanes, spec.ts); a PE-level operand scheme (structured dynamic
// precision, pe.sdp: sdp-structure.ts) replaces the lanes by its own datapath and may transform
// the activations the dot product sees, store its weights as parts, draw its own co-simulation
// edge cases and select the weights the quantizer keeps. Later stages call structureOf(cfg) and
// ask; none of them cases on a scheme. docs/FORMATS.md ("How to add a format", "PE structures")
// is the prose of this file.
import type { Rng } from '../io/rng.ts';
import type { WeightBlock } from './pack.ts';
import type { SdpParams } from './sdp.ts';
import { SDP_FAULT_KINDS, sdpStructure } from './sdp-structure.ts';

/** The parts of a config a PE structure depends on (a resolved config is one). */
export interface StructureConfig {
  readonly pe: { readonly block: number; readonly sdp?: SdpParams | undefined };
  readonly weightBits: number;
  readonly activation: { readonly bits: number; readonly signed: boolean };
}

/** A library module of a structure's datapath (templates/lib/<module>.v) and the library modules it instantiates. */
export interface DatapathModule {
  readonly module: string;
  /** Its role in synthesis's area breakdown. */
  readonly role: 'lane' | 'route';
  readonly uses: readonly DatapathModule[];
}

/**
 * A test-only fault of a structure's datapath, for the RTL stage's fault overlay
 * (src/rtl/faults.ts): a wrapper `<module>_fault` with the module's parameters and ports
 * declares `lines` and instantiates the module with the port connections `conns` changed.
 */
export interface StructureFault {
  readonly kind: StructureFaultKind;
  /** The library module wrapped (one of the datapath's modules). */
  readonly module: string;
  /** The overlay comment: what is broken. */
  readonly why: string;
  readonly lines: readonly string[];
  readonly conns: Readonly<Record<string, string>>;
}

/**
 * The PE datapath of a structure, as the RTL stage instantiates it (as LaneSpec says which lane
 * module to use): `count` instances of `module` in a generate loop, instance i reading
 * `activations` consecutive activations of the block (port `a`) and `fields` consecutive fields
 * of the weight layout's `field` list (`'slot'`: layout.slots, `'part'`: layout.parts) from
 * field i * fields on (port `weights.port`); it returns `products` full-lane-wide products (port
 * `p`, P_BITS each), leaves of the adder tree. Parameters: `params`, then P_BITS (bound by the
 * RTL planner from derived.highProductBits).
 */
export interface GroupDatapath {
  /** Names the PE's generate block (`g_<name>`) and the instances (`u_<name>`). */
  readonly name: string;
  readonly module: DatapathModule;
  /** One line for the PE's comments: what the instances are. */
  readonly what: string;
  readonly count: number;
  readonly activations: number;
  readonly weights: { readonly port: string; readonly field: 'slot' | 'part'; readonly fields: number };
  readonly products: number;
  readonly params: Readonly<Record<string, number>>;
  readonly faults: readonly StructureFault[];
}

/**
 * A structure's own weight storage: `count` part entries of `bits` each (layout.parts, in
 * order) instead of slots, and how the packer (pack.ts) maps a block's values to them. A
 * block's codes are the values the PE multiplies.
 */
export interface WeightParts {
  readonly count: number;
  readonly bits: number;
  /** Why the block's values cannot be stored (the packer refuses it), or null. */
  problem(codes: readonly number[]): string | null;
  /** The `count` raw entries of a storable block. */
  encode(codes: readonly number[]): number[];
  /** The values `count` raw entries stand for (what the PE multiplies). */
  decode(raw: readonly number[]): number[];
}

/** What the quantizer does for a structure that stores a selection of INT8 weights (SDP on the weights). */
export interface WeightSelection {
  /** Scale multipliers tried per output channel (1: the INT8 grid; above 1: a coarser grid). */
  readonly scales: readonly number[];
  /** Replace a row of INT8 values (padded to a multiple of pe.block) by the values the PE keeps, in place. */
  keep(row: Int16Array): void;
}

/** The co-simulation's weight blocks of a structure with its own weight storage: named edge blocks, then random ones. */
export interface StructureWeightBlocks {
  readonly edges: readonly (readonly [string, WeightBlock])[];
  readonly random: readonly WeightBlock[];
}

/** A PE structure bound to one config (structureOf): everything later stages ask. */
export interface BoundStructure {
  /** The config key under pe (e.g. 'sdp'); null for a plain PE. */
  readonly name: string | null;
  /** Multipliers of the PE when the structure replaces the format's lanes; null: the format's lanes. */
  readonly lanes: number | null;
  /** Stored part entries that replace the weight block's slots; null: none. */
  readonly weightParts: WeightParts | null;
  /**
   * The PE keeps `keep` of the 2 x `group` parts of every group of `group` activations, chosen at
   * run time (SDP on the activations; the accuracy stage emulates the rule in the graph); null:
   * the PE multiplies whole activations.
   */
  readonly activationSelection: { readonly group: number; readonly keep: number } | null;
  /** The activations the dot product multiplies, from the ones on the ports (golden, power, accuracy); the same array when unchanged. */
  peActivations<T extends { length: number; [i: number]: number }>(values: T): T;
  /** Further activation edge blocks of the co-simulation, within [lo, hi] (may draw from rng). */
  activationEdges(rng: Rng, lo: number, hi: number): [string, number[]][];
  /** The co-simulation's weight blocks, when the structure stores its own weights; null: the format's. */
  weightBlocks(rng: Rng, random: number, range: readonly [number, number]): StructureWeightBlocks | null;
  /** The quantizer's selection of stored weights; null: the format's quantizer alone. */
  readonly weightSelection: WeightSelection | null;
  /** The PE datapath that replaces the lanes; null: the format's lanes. */
  readonly datapath: GroupDatapath | null;
  /** The PE module's summary (after 'PE: '); null: the format's. */
  readonly summary: string | null;
  /** The design after 'B=<block>, ' (report, `strumgen config`); null: the format's. */
  readonly describe: string | null;
  /** The parameters for an accuracy scheme label (e.g. 'G=4 K=4'); null: the format's. */
  readonly label: string | null;
  /** The flow compares the design with the INT8 PE of the same block (as it does for a format with low weights). */
  readonly comparesWithInt8: boolean;
  /** The flow measures accuracy on the integer path (int8 activations, golden model) rather than fake quantization. */
  readonly integerAccuracy: boolean;
}

/** A plain PE: the format's lanes, nothing transformed, nothing added. */
export const PLAIN_STRUCTURE: BoundStructure = {
  name: null,
  lanes: null,
  weightParts: null,
  activationSelection: null,
  peActivations: (values) => values,
  activationEdges: () => [],
  weightBlocks: () => null,
  weightSelection: null,
  datapath: null,
  summary: null,
  describe: null,
  label: null,
  comparesWithInt8: false,
  integerAccuracy: false,
};

/** A PE-level scheme: its config key under pe and how to bind it (after the config checks). */
export interface StructureSpec<P> {
  readonly name: string;
  bind(c: StructureConfig, params: P): BoundStructure;
}

/**
 * The schemes, by their config key under pe (the only list; a config has at most one). The
 * config schema holds each one's parameters (src/config: sdp.ts), and the tests' fault kinds
 * come from STRUCTURE_FAULT_KINDS.
 */
const SCHEMES = { sdp: sdpStructure } as const;

/** The config keys under pe that choose a PE structure (a description without them is a plain PE). */
export const STRUCTURE_KEYS: readonly string[] = Object.keys(SCHEMES);

/** Every structure's test-only fault kinds (src/rtl/types.ts FAULT_KINDS lists them after the lanes'). */
export const STRUCTURE_FAULT_KINDS = [...SDP_FAULT_KINDS] as const;
export type StructureFaultKind = (typeof STRUCTURE_FAULT_KINDS)[number];

const bound = new WeakMap<object, BoundStructure>();

/** The config's PE structure (memoised per config object). */
export function structureOf(cfg: StructureConfig): BoundStructure {
  const hit = bound.get(cfg);
  if (hit) return hit;
  const s = cfg.pe.sdp ? SCHEMES.sdp.bind(cfg, cfg.pe.sdp) : PLAIN_STRUCTURE;
  bound.set(cfg, s);
  return s;
}
