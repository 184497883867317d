// Structured dynamic precision as a PE structure (structure.ts): what an SDP PE tells the
// stages, bound to one config's pe.sdp. The arithmetic is sdp.ts's; this file says what the PE
// is made of (B/G group modules of K part-lanes), what it multiplies, what it stores, and what
// the co-simulation and the quantizer do for it. docs/FORMATS.md ("Structured dynamic
// precision") is its prose.
import type { Rng } from '../io/rng.ts';
import type { WeightBlock } from './pack.ts';
import {
  SDP_SCALES,
  type SdpParams,
  sdpActivations,
  sdpDecodeEntry,
  sdpEncodeEntry,
  sdpEntries,
  sdpEntryBits,
  sdpEntryValues,
  sdpIndexBits,
  sdpKeptValue,
  sdpLowBits,
  sdpNonzeroParts,
  sdpSplit,
  sdpStaticSelect,
} from './sdp.ts';
import type {
  BoundStructure,
  DatapathModule,
  GroupDatapath,
  StructureConfig,
  StructureSpec,
  StructureWeightBlocks,
  WeightParts,
} from './structure.ts';

export const SDP_FAULT_KINDS = ['sdp-tie-order', 'sdp-part-flag'] as const;

const lib = (module: string, role: DatapathModule['role'], uses: DatapathModule[] = []): DatapathModule => ({
  module,
  role,
  uses,
});
// The gather (stable compaction) is the routers' too; a part-lane is a multiply and a shift.
const gather = lib('strum_gather', 'route');
const topk = lib('strum_sdp_topk', 'route');
const lanePart = lib('strum_lane_part', 'lane');
/** Activations: the top-K part selector and the part-lanes, reading the group's INT8 weight slots. */
const dynamicGroup = lib('strum_sdp_group', 'route', [topk, lanePart, gather]);
/** Weights: part-lanes reading the stored part entries and the activation each names; no selector. */
const staticGroup = lib('strum_sdp_static_group', 'route', [lanePart]);

/** Test-only faults: the selector's tie rule reversed (ties to the higher part: the original on the parts in reverse order). */
const tieOrder = {
  kind: 'sdp-tie-order',
  module: topk.module,
  why: 'ties go to the higher part',
  lines: [
    '  wire [N*KEY_BITS-1:0] key_r;',
    '  wire [N-1:0] sel_r;',
    '  genvar f;',
    '  generate',
    '    for (f = 0; f < N; f = f + 1) begin : g_rev',
    '      assign key_r[f*KEY_BITS +: KEY_BITS] = key[(N-1-f)*KEY_BITS +: KEY_BITS];',
    '      assign sel[f] = sel_r[N-1-f];',
    '    end',
    '  endgenerate',
  ],
  conns: { key: 'key_r', sel: 'sel_r' },
} as const;
/** The first stored part's high/low flag inverted: part-lane 0 shifts (and sign-extends) a low part as a high one and back. */
const partFlag = {
  kind: 'sdp-part-flag',
  module: staticGroup.module,
  why: "part 0's high/low flag inverted",
  lines: [
    '  localparam HB = W_BITS - W_BITS / 2;',
    '  localparam PB = K * (HB + 1 + I_BITS);',
    "  wire [PB-1:0] parts_bad = parts ^ ({{(PB-1){1'b0}}, 1'b1} << HB);",
  ],
  conns: { parts: 'parts_bad' },
} as const;

/**
 * Activation edge blocks for the top-K selector: ties in importance (equal values, equal high or
 * low parts), every part equal, all-zero groups beside full ones, the largest values, and blocks
 * drawn from a few tie-prone values (the selection's tie rule decides every one of them).
 */
function activationEdges(B: number, G: number, bits: number, rng: Rng, lo: number, hi: number) {
  const s = 2 ** sdpLowBits(bits);
  const clamp = (v: number) => Math.max(lo, Math.min(hi, v));
  const fill = (f: (i: number) => number) => Array.from({ length: B }, (_, i) => clamp(f(i)));
  const tieProne = [lo, hi, 0, 1, s - 1, s, s + 1, -1, -s, 2 * s - 1, lo + s - 1].map(clamp);
  const out: [string, number[]][] = [
    ['sdp-equal', fill(() => s + 1)],
    ['sdp-low-only', fill((i) => i % s)],
    ['sdp-high-only', fill((i) => (i % 2 ? -s : s))],
    ['sdp-minus-one', fill(() => -1)],
    ['sdp-zero-groups', fill((i) => (Math.floor(i / G) % 2 ? hi : 0))],
    ['sdp-max-min', fill((i) => (Math.floor(i / G) % 2 ? lo : hi))],
    ['sdp-hi-equals-lo', fill((i) => (i % 2 ? s : s - 1))],
  ];
  for (let k = 0; k < 8; k++) out.push([`sdp-ties-${k}`, fill(() => tieProne[rng.below(tieProne.length)]!)]);
  return out;
}

/**
 * Weight blocks whose groups keep at most K parts (what the packer stores). Edge blocks: zero;
 * every entry used by the extreme parts (hi = -2^(hb-1) or 2^(hb-1) - 1, lo = 2^lb - 1: the
 * widest codes); both parts of the first values (repeated indices); only the last value of each
 * group (the largest index); zero groups beside full ones; low parts only; high parts only.
 * Random blocks: random weights, each group keeping a random subset of 0..K of its nonzero parts
 * (any selection, not only the quantizer's: the PE reads whatever is stored).
 */
function weightBlocks(
  B: number,
  G: number,
  K: number,
  W: number,
  rng: Rng,
  random: number,
  [wlo, whi]: readonly [number, number],
): StructureWeightBlocks {
  const s = 2 ** sdpLowBits(W);
  // Keep, per group, the parts `order` lists first (part p: high of value p, or low of value p - G), K at most.
  const keepParts = (raw: number[], order: () => number[]) => {
    const out = new Array<number>(B).fill(0);
    for (let g = 0; g < B; g += G) {
      const kept = new Array<boolean>(2 * G).fill(false);
      let n = 0;
      for (const p of order()) {
        const { hi, lo } = sdpSplit(raw[g + (p % G)]!, W);
        if (n < K && (p < G ? hi : lo) !== 0 && !kept[p]) {
          kept[p] = true;
          n++;
        }
      }
      for (let i = 0; i < G; i++) out[g + i] = sdpKeptValue(raw[g + i]!, W, kept[i]!, kept[G + i]!);
    }
    return out;
  };
  const parts = () => Array.from({ length: 2 * G }, (_, p) => p);
  const byValue = () => Array.from({ length: 2 * G }, (_, k) => (k % 2 ? G : 0) + (k >> 1));
  const block = (codes: number[]): WeightBlock => ({ low: new Array(B).fill(false), codes, meta: [] });
  const fill = (f: (i: number) => number) =>
    Array.from({ length: B }, (_, i) => Math.max(wlo, Math.min(whi, f(i))));
  const minBoth = wlo + s - 1; // hi = the most negative, lo = 2^lb - 1
  const maxBoth = whi; // hi = the largest, lo = 2^lb - 1
  const edges: [string, number[], () => number[]][] = [
    ['sdp-w-negative', fill(() => minBoth), byValue],
    ['sdp-w-positive', fill(() => maxBoth), byValue],
    ['sdp-w-min-high', fill(() => wlo), parts],
    ['sdp-w-last-value', fill((i) => (i % G === G - 1 ? minBoth : 0)), byValue],
    ['sdp-w-zero-groups', fill((i) => (Math.floor(i / G) % 2 ? maxBoth : 0)), byValue],
    ['sdp-w-low-only', fill(() => s - 1), parts],
    ['sdp-w-minus-one', fill(() => -1), byValue],
    ['sdp-w-alternating', fill((i) => (i % 2 ? maxBoth : minBoth)), () => parts().reverse()],
  ];
  const randomBlocks: WeightBlock[] = [];
  for (let k = 0; k < random; k++) {
    const raw = Array.from({ length: B }, () => rng.int(wlo, whi));
    randomBlocks.push(
      block(
        keepParts(raw, () => {
          // A random order of the parts, cut at a random length (then at most K nonzero ones kept).
          const order = parts();
          for (let i = order.length - 1; i > 0; i--) {
            const j = rng.below(i + 1);
            [order[i], order[j]] = [order[j]!, order[i]!];
          }
          return order.slice(0, rng.int(0, 2 * G));
        }),
      ),
    );
  }
  return {
    edges: [
      ['zero', block(new Array(B).fill(0))],
      ...edges.map(([name, raw, order]) => [name, block(keepParts(raw, order))] as const),
    ],
    random: randomBlocks,
  };
}

export const sdpStructure: StructureSpec<SdpParams> = {
  name: 'sdp',
  bind(c: StructureConfig, p: SdpParams): BoundStructure {
    const { group: G, keep: K } = p;
    const weights = (p.operand ?? 'activations') === 'weights';
    const B = c.pe.block;
    const W = c.weightBits;
    const n = B / G;
    const lanes = n * K;
    const weightParts: WeightParts | null = weights
      ? {
          count: lanes,
          bits: sdpEntryBits(G, W),
          // The kept values, at most K nonzero parts per group; each group's K entries (sdp.ts).
          problem(codes) {
            for (let g = 0; g < B; g += G) {
              const parts = sdpNonzeroParts(codes, g, G, W);
              if (parts > K)
                return `weights ${g}..${g + G - 1}: ${parts} nonzero parts, at most pe.sdp.keep = ${K} are stored`;
            }
            return null;
          },
          encode: (codes) =>
            Array.from({ length: n }, (_, g) => sdpEntries(codes, g * G, G, K, W)).flatMap((es) =>
              es.map((e) => sdpEncodeEntry(e, W)),
            ),
          // Each weight is the sum of its group's entries for it (as in the PE).
          decode: (raw) =>
            Array.from({ length: n }, (_, g) =>
              sdpEntryValues(
                raw.slice(g * K, (g + 1) * K).map((r) => sdpDecodeEntry(r, W)),
                G,
                W,
              ),
            ).flat(),
        }
      : null;
    const common = { G, K, A_BITS: c.activation.bits, A_SIGNED: c.activation.signed ? 1 : 0, W_BITS: W };
    const datapath: GroupDatapath = weights
      ? {
          name: 'sdp',
          module: staticGroup,
          what: `${n} static SDP groups of ${G} weights: ${K} stored parts and part-lanes each`,
          count: n,
          activations: G,
          weights: { port: 'parts', field: 'part', fields: K },
          products: K,
          params: { ...common, I_BITS: sdpIndexBits(G) },
          faults: [partFlag],
        }
      : {
          name: 'sdp',
          module: dynamicGroup,
          what: `${n} SDP groups of ${G} activations: a top-${K} part selector and ${K} part-lanes each`,
          count: n,
          activations: G,
          weights: { port: 'w', field: 'slot', fields: G },
          products: K,
          params: common,
          faults: [tieOrder],
        };
    return {
      name: 'sdp',
      lanes,
      weightParts,
      activationSelection: weights ? null : { group: G, keep: K },
      // sdpActivations is the identity for operand 'weights' (whole activations).
      peActivations: (values) => sdpActivations(c, values),
      activationEdges: (rng, lo, hi) =>
        weights ? [] : activationEdges(B, G, c.activation.bits, rng, lo, hi),
      weightBlocks: (rng, random, range) => (weights ? weightBlocks(B, G, K, W, rng, random, range) : null),
      weightSelection: weights
        ? {
            scales: SDP_SCALES,
            keep(row) {
              // The exact least-error selection per group (a group never straddles a block: G divides B).
              for (let g = 0; g < row.length; g += G) {
                const kept = sdpStaticSelect(row, g, G, K, W);
                for (let i = 0; i < G; i++) row[g + i] = sdpKeptValue(row[g + i]!, W, kept[i]!, kept[G + i]!);
              }
            },
          }
        : null,
      datapath,
      summary: weights
        ? `static structured precision (SDP weights), ${n} groups of ${G} weights, ${K} stored parts and part-lanes each`
        : `structured dynamic precision, ${n} groups of ${G} activations, ${K} part-lanes each`,
      describe: weightParts
        ? `SDP weights (static): G=${G} K=${K} (${lanes} part-lanes, ${+((weightParts.count * weightParts.bits) / B).toFixed(3)} bits per weight), full activations`
        : `SDP activations: G=${G} K=${K} (${lanes} part-lanes), INT8 weights`,
      label: `G=${G} K=${K}`,
      // INT8 weights (or parts of them): compared with the INT8 PE, and measured on the
      // integer path (only int8 activations see dropped activation parts; static SDP runs the
      // same path so that every SDP design is measured the same way).
      comparesWithInt8: true,
      integerAccuracy: true,
    };
  },
};
