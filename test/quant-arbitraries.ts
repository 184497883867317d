// fast-check generators shared by the format, packer, golden and quantizer property tests:
// random legal configs (all presets, static/dynamic, DLIQ per block/layer, odd widths,
// unsigned activations) and random legal weight blocks for them.
import fc from 'fast-check';
import { PRESETS } from '../src/config/presets.ts';
import { type ResolvedDpu, resolveConfig } from '../src/config/resolve.ts';
import { activationRange, formatOf, highRange, legalLowCodes, type MetaScope } from '../src/format/index.ts';
import type { WeightBlock } from '../src/format/pack.ts';
import { sdpOperandOf, sdpSelectWeights } from '../src/format/sdp.ts';
// The toy format of the tests (registers pe.low 'ternary'): every property below covers it too.
import './fixtures/formats/ternary.ts';

export const presetConfigs = Object.entries(PRESETS).map(
  ([k, p]) => [k, resolveConfig(p.config, k)] as const,
);

/** Any legal config, with small arrays; low widths, weight widths and activation kinds vary. */
export const configArb: fc.Arbitrary<ResolvedDpu> = fc
  .record({
    logB: fc.integer({ min: 0, max: 5 }),
    highFrac: fc.double({ min: 0, max: 1, noNaN: true }),
    low: fc.constantFrom('none', 'mip2q', 'dliq', 'sparse', 'ternary'),
    dynamic: fc.boolean(),
    weightBits: fc.integer({ min: 2, max: 12 }),
    lowBits: fc.integer({ min: 2, max: 8 }),
    shiftMax: fc.integer({ min: 0, max: 7 }),
    perLayer: fc.boolean(),
    expFrac: fc.double({ min: 0, max: 1, noNaN: true }),
    aBits: fc.integer({ min: 2, max: 12 }),
    aSigned: fc.boolean(),
    accBits: fc.integer({ min: 8, max: 48 }),
    rows: fc.integer({ min: 1, max: 3 }),
    cols: fc.integer({ min: 1, max: 3 }),
  })
  .map((r) => {
    const B = 2 ** r.logB;
    const none = r.low === 'none';
    const lowBits = Math.min(r.lowBits, r.weightBits);
    const expMax = Math.min(2 ** (lowBits - 1) - 2, r.weightBits - 2);
    return resolveConfig({
      name: 'prop',
      array: { rows: r.rows, cols: r.cols },
      pe: {
        block: B,
        high: none ? B : Math.round(r.highFrac * B),
        low: r.low,
        mode: !none && r.dynamic ? 'dynamic' : 'static',
      },
      weightBits: r.weightBits,
      lowBits,
      activation: { bits: r.aBits, signed: r.aSigned },
      accumulator: { bits: r.accBits },
      dliq: { shiftMax: r.shiftMax, granularity: r.perLayer ? 'layer' : 'block' },
      mip2q: { maxExponent: Math.floor(r.expFrac * expMax) },
    });
  });

/** Integers in [lo, hi], with the two limits drawn often. */
export const edgyInt = (lo: number, hi: number) =>
  fc.oneof(
    { weight: 1, arbitrary: fc.constantFrom(lo, hi) },
    { weight: 3, arbitrary: fc.integer({ min: lo, max: hi }) },
  );

/** A legal weight block for cfg (static: exactly L low; dynamic: any; INT8: none). */
export function blockArb(cfg: ResolvedDpu): fc.Arbitrary<WeightBlock> {
  const B = cfg.pe.block;
  const L = cfg.derived.lowCount;
  const [hlo, hhi] = highRange(cfg);
  const codes = legalLowCodes(cfg);
  const lowMask: fc.Arbitrary<boolean[]> =
    cfg.pe.low === 'none'
      ? fc.constant(new Array(B).fill(false))
      : cfg.pe.mode === 'dynamic'
        ? fc.array(fc.boolean(), { minLength: B, maxLength: B })
        : fc
            .shuffledSubarray(
              Array.from({ length: B }, (_, i) => i),
              { minLength: L, maxLength: L },
            )
            .map((lows) => Array.from({ length: B }, (_, i) => lows.includes(i)));
  const meta = fc.constantFrom(...metaCandidates(cfg, 'block'));
  return fc
    .record({
      low: lowMask,
      high: fc.array(edgyInt(hlo, hhi), { minLength: B, maxLength: B }),
      lowCode: fc.array(fc.constantFrom(...(codes.length ? codes : [0])), { minLength: B, maxLength: B }),
      meta,
    })
    .map(({ low, high, lowCode, meta }) => ({
      low,
      codes: sdpLegal(
        cfg,
        low.map((l, i) => (l ? lowCode[i]! : high[i]!)),
      ),
      meta,
    }));
}

/** pe.sdp on the weights: each group keeps the K parts the importance rule picks (else the codes as they are). */
export const sdpLegal = (cfg: ResolvedDpu, codes: number[]): number[] =>
  cfg.pe.sdp && sdpOperandOf(cfg) === 'weights'
    ? sdpSelectWeights(codes, cfg.pe.sdp.group, cfg.pe.sdp.keep, cfg.weightBits, 'importance')
    : codes;

/** The format's metadata candidates of one scope ([[]] when it has none there). */
export function metaCandidates(cfg: ResolvedDpu, scope: MetaScope): readonly (readonly number[])[] {
  const fmt = formatOf(cfg);
  return fmt.meta.some((m) => m.scope === scope) ? fmt.metaCandidates : [[]];
}

/** Candidate i of the layer metadata (clamped to the last one). */
export const layerMetaAt = (cfg: ResolvedDpu, i: number): readonly number[] => {
  const c = metaCandidates(cfg, 'layer');
  return c[Math.min(i, c.length - 1)]!;
};

export const activationArb = (cfg: ResolvedDpu, length: number) => {
  const [lo, hi] = activationRange(cfg);
  return fc.array(edgyInt(lo, hi), { minLength: length, maxLength: length });
};
