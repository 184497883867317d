// Static structured dynamic precision (pe.sdp.operand 'weights'; src/format/sdp.ts): the
// stored part entries (layout, canonical packing, round trip, refusals, a flipped index bit
// seen), the quantizer's blocks (least-error selection, packable), config errors, corner
// configs under Icarus, and the PE in Verilator co-simulation (the stimulus' static-SDP edge
// blocks) with a swapped high/low flag caught, and the Fashion-MNIST CNN on the same array
// (describeSdpCosim, test/sdp-helpers.ts: the same block as test/sdp.test.ts's).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config/resolve.ts';
import {
  decodeWeightBlock,
  packWeightBlock,
  unpackWeightBlock,
  weightBlockProblem,
} from '../src/format/pack.ts';
import {
  sdpDecodeEntry,
  sdpEncodeEntry,
  sdpEntries,
  sdpEntryValues,
  sdpKeptValue,
  sdpSelectWeights,
} from '../src/format/sdp.ts';
import { Rng } from '../src/io/rng.ts';
import { quantizeForConfig, quantizeMatrix, roundHalfEven } from '../src/quant/quantize.ts';
import { renderRtl } from '../src/rtl/index.ts';
import { weightPool } from '../src/sim/stimulus.ts';
import { configProblems } from './config-helpers.ts';
import { randomStimulus, simulateAgainstGolden } from './rtl-helpers.ts';
import { cornerFailures, describeSdpCosim } from './sdp-helpers.ts';

const base = { name: 'x', pe: { block: 16, low: 'none', sdp: { group: 4, keep: 4, operand: 'weights' } } };

/** A group of G kept values: random weights, a random subset of at most K of their parts kept. */
const keptGroup = (G: number, K: number, bits: number) =>
  fc
    .tuple(
      fc.array(fc.integer({ min: -(2 ** (bits - 1)), max: 2 ** (bits - 1) - 1 }), {
        minLength: G,
        maxLength: G,
      }),
      fc.shuffledSubarray(
        Array.from({ length: 2 * G }, (_, p) => p),
        { minLength: 0, maxLength: K },
      ),
    )
    .map(([v, parts]) => v.map((x, i) => sdpKeptValue(x, bits, parts.includes(i), parts.includes(G + i))));

describe('static SDP config', () => {
  it('resolves operand weights (112-bit word at G = 4, K = 4); the default operand leaves the hash alone', () => {
    const ok = resolveConfig(base);
    expect(ok.derived.weightBlockBits).toBe(16 * 7);
    expect(ok.derived.weightLayout.parts.map((f) => [f.name, f.offset, f.bits]).slice(0, 2)).toEqual([
      ['part0', 0, 7],
      ['part1', 7, 7],
    ]);
    expect(ok.derived.weightLayout.slots).toEqual([]);
    expect(ok.derived.lanes).toBe(16);
    const act = { ...base, pe: { ...base.pe, sdp: { group: 4, keep: 4 } } };
    const actExplicit = { ...base, pe: { ...base.pe, sdp: { group: 4, keep: 4, operand: 'activations' } } };
    expect(resolveConfig(actExplicit).hash).toBe(resolveConfig(act).hash);
    expect(resolveConfig(act).hash).not.toBe(ok.hash);
    // Bits per weight K * (hb + 1 + log2 G) / G: G = 2, K = 3 -> 3 * 6 / 2 = 9; G = 1 -> 5.
    expect(
      resolveConfig({ ...base, pe: { ...base.pe, sdp: { group: 2, keep: 3, operand: 'weights' } } }).derived
        .weightBlockBits,
    ).toBe(16 * 9);
    expect(
      resolveConfig({ ...base, pe: { ...base.pe, sdp: { group: 1, keep: 1, operand: 'weights' } } }).derived
        .weightBlockBits,
    ).toBe(16 * 5);
  });

  it('refuses a low format, a bad operand, K >= 2G (one line naming the field)', () => {
    expect(configProblems({ ...base, pe: { ...base.pe, low: 'mip2q' } })).toEqual([
      "pe.sdp: needs pe.low 'none' (got 'mip2q'): with operand 'weights' the kept parts are the weight format",
    ]);
    expect(
      configProblems({ ...base, pe: { ...base.pe, sdp: { group: 4, keep: 8, operand: 'weights' } } }),
    ).toEqual(['pe.sdp.keep: 8 must be less than 2 x pe.sdp.group (8 parts): else nothing is dropped']);
    const bad = configProblems({ ...base, pe: { ...base.pe, sdp: { group: 4, keep: 4, operand: 'both' } } });
    expect(bad).toHaveLength(1);
    expect(bad[0]).toMatch(/^pe\.sdp\.operand: /);
  });
});

describe('the stored part entries', () => {
  const cfg = resolveConfig(base);

  it('documented example: [-1, 0, 17, -128] with K = 5 stores hi -1, hi 1, hi -8, lo 15, lo 1 (part order)', () => {
    const e = sdpEntries([-1, 0, 17, -128], 0, 4, 5, 8);
    expect(e.map((x) => `${x.low ? 'lo' : 'hi'}${x.index}=${x.part}`)).toEqual([
      'hi0=-1',
      'hi2=1',
      'hi3=-8',
      'lo0=15',
      'lo2=1',
    ]);
    // Entry bits LSB first: code, low flag, index: hi3 = -8 -> 1000, 0, 11 -> 0b11_0_1000.
    expect(sdpEncodeEntry(e[2]!, 8)).toBe(0b1101000);
    expect(() => sdpEntries([-1, 0, 17, -128], 0, 4, 4, 8)).toThrow(/5 nonzero parts, at most 4/);
    // Fewer parts than K: all-zero entries after them.
    expect(sdpEntries([16, 0, 0, 0], 0, 4, 3, 8).map((x) => sdpEncodeEntry(x, 8))).toEqual([1, 0, 0]);
  });

  it('round trip: pack then unpack gives the kept values back, for any kept groups (G 1..8, K, 2..9 bits)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(1, 2, 4, 8),
        fc.nat(),
        fc.integer({ min: 2, max: 9 }),
        fc.nat(),
        (G, kSeed, bits, seed) => {
          const K = 1 + (kSeed % (2 * G - 1));
          const B = Math.max(G, 8);
          const c = resolveConfig({
            name: 'x',
            weightBits: bits,
            lowBits: 2,
            pe: { block: B, low: 'none', sdp: { group: G, keep: K, operand: 'weights' } },
          });
          const groups = fc.sample(keptGroup(G, K, bits), { numRuns: B / G, seed });
          const codes = groups.flat();
          const block = { low: new Array(B).fill(false), codes, meta: [] };
          expect(weightBlockProblem(c, block)).toBeNull();
          const back = unpackWeightBlock(c, packWeightBlock(c, block));
          expect(back.codes).toEqual(codes);
          expect(decodeWeightBlock(c, back)).toEqual(codes);
          // Entries decode to the values they were made from.
          for (let g = 0; g < B; g += G) {
            const e = sdpEntries(codes, g, G, K, bits);
            expect(e.map((x) => sdpDecodeEntry(sdpEncodeEntry(x, bits), bits))).toEqual(e);
            expect(sdpEntryValues(e, G, bits)).toEqual(codes.slice(g, g + G));
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuses a group with more than K nonzero parts; a flipped index bit changes the decoded weights', () => {
    const block = {
      low: new Array(16).fill(false),
      codes: [-1, 0, 17, -128, ...new Array(12).fill(0)],
      meta: [],
    };
    expect(weightBlockProblem(cfg, block)).toBe(
      'weights 0..3: 5 nonzero parts, at most pe.sdp.keep = 4 are stored',
    );
    const ok = { ...block, codes: [-16, 0, 17, -128, ...new Array(11).fill(0), 5] };
    const w = packWeightBlock(cfg, ok);
    // part0 = hi of value 0; its index is bits [6:5]: flip bit 5 -> value 1.
    w[0] = w[0]! ^ (1 << 5);
    expect(unpackWeightBlock(cfg, w).codes.slice(0, 4)).toEqual([0, -16, 17, -128]);
  });
});

describe('the static SDP quantizer', () => {
  it('every group is the least-error selection of its INT8 values at the channel scale chosen; blocks pack', () => {
    const cfg = resolveConfig(base);
    const r = new Rng(5);
    const N = 6;
    const K = 40; // padded to 48
    const W = Float32Array.from({ length: N * K }, () => (r.float() - 0.5) * (r.chance(0.1) ? 4 : 1));
    const qm = quantizeMatrix(cfg, W, N, K);
    const q = quantizeForConfig(cfg, W, N, K);
    const int8At = (n: number, s: number) =>
      Array.from({ length: qm.Kp }, (_, k) =>
        k < K ? Math.max(-127, Math.min(127, roundHalfEven(W[n * K + k]! * (1 / s)))) : 0,
      );
    let errInt8Grid = 0;
    for (let n = 0; n < N; n++) {
      // The INT8 values at the chosen scale, then the selection: what the quantizer stored.
      const int8 = int8At(n, qm.scales[n]!);
      const want = sdpSelectWeights(int8, 4, 4, 8, 'error');
      expect(Array.from(qm.values.subarray(n * qm.Kp, (n + 1) * qm.Kp))).toEqual(want);
      for (const b of q.blocks[n]!) expect(weightBlockProblem(cfg, b)).toBeNull();
      // The same selection on the INT8 grid (scale max|w| / 127), multiplier 1 of the search.
      let max = 0;
      for (let k = 0; k < K; k++) max = Math.max(max, Math.abs(W[n * K + k]!));
      const s0 = max / 127;
      const v0 = sdpSelectWeights(int8At(n, s0), 4, 4, 8, 'error');
      for (let k = 0; k < K; k++) errInt8Grid += (W[n * K + k]! - s0 * v0[k]!) ** 2;
    }
    expect(qm.weightedError).toBeLessThanOrEqual(errInt8Grid * (1 + 1e-12));
  });

  it("the stimulus' weight pool holds only packable blocks, edge blocks included", () => {
    const cfg = resolveConfig({
      ...base,
      pe: { ...base.pe, block: 8, sdp: { group: 4, keep: 3, operand: 'weights' } },
    });
    const p = weightPool(cfg, new Rng(3), 50);
    expect(p.first).toBeGreaterThan(5);
    for (const b of p.blocks) expect(weightBlockProblem(cfg, b)).toBeNull();
    // The edge blocks use every entry with the widest codes: -113 = hi -8, lo 15 in each kept slot.
    const neg = p.blocks[p.special['sdp-w-negative']!]!;
    expect(neg.codes.slice(0, 4)).toEqual([-113, -128, 0, 0]);
  });
});

describe('static SDP corner configs under Icarus (the golden model cycle for cycle)', () => {
  // One value per group (no index), unsigned and odd-width activations, odd weight bits (hb > lb),
  // the widest group, K > G, every pipeline stage, a narrow accumulator.
  const corners = [
    { pe: { block: 2, sdp: { group: 1, keep: 1 } }, activation: { bits: 5, signed: false } },
    { pe: { block: 4, sdp: { group: 2, keep: 3 } }, weightBits: 7, lowBits: 3, activation: { bits: 7 } },
    {
      pe: { block: 16, sdp: { group: 8, keep: 5 } },
      pipeline: { operands: true, multiply: true, adderTree: true },
    },
    { pe: { block: 8, sdp: { group: 4, keep: 6 } }, accumulator: { bits: 12 } },
  ].map((c, i) =>
    resolveConfig({
      name: `sdpw_corner${i}`,
      array: { rows: 2, cols: 2 },
      ...c,
      pe: { low: 'none', ...c.pe, sdp: { ...c.pe.sdp, operand: 'weights' } },
    }),
  );
  it(`lint-clean, Yosys-readable and equal to the golden model (${corners.length} configs); the flag fault is caught`, async () => {
    expect(await cornerFailures(corners)).toEqual([]);
    const cfg = corners[1]!;
    const bad = await simulateAgainstGolden(
      cfg,
      renderRtl(cfg, { fault: 'sdp-part-flag' }),
      randomStimulus(cfg, new Rng(11), 8),
    );
    expect(bad.length).toBeGreaterThan(0);
  }, 120_000);
});

describeSdpCosim({
  preset: 'sdp-w',
  fault: 'sdp-part-flag',
  faultWhat: 'a swapped high/low flag',
  onnxLogitsEqual: 4,
});
