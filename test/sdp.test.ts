// Structured dynamic precision (pe.sdp, src/format/sdp.ts): the selection rule against a
// sort-based second reading of it, the static weight selection against brute force, the RTL
// top-K selector (templates/lib/strum_sdp_topk.v) against the rule under Icarus on random and
// adversarial groups (and its tie-order fault caught), config errors, and the PE in Verilator
// co-simulation (edge blocks: ties, equal parts, zero groups, extremes) with the fault caught
// (describeSdpCosim, test/sdp-helpers.ts: the same block as test/sdp-static.test.ts's).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  calibrate,
  goldenMatmul,
  integerGraph,
  quantizeInput,
  quantizeNet,
  runInteger,
} from '../src/accuracy/integer.ts';
import { loadModel } from '../src/accuracy/model.ts';
import { FASHION_MNIST_MODEL } from '../src/accuracy/tasks/fashion-mnist.ts';
import { loadConfig } from '../src/config/load.ts';
import { resolveConfig } from '../src/config/resolve.ts';
import {
  sdpActivations,
  sdpApply,
  sdpApplyFast,
  sdpGroupError,
  sdpKeptValue,
  sdpKeys,
  sdpSelect,
  sdpSplit,
  sdpStaticSelect,
} from '../src/format/sdp.ts';
import { Rng } from '../src/io/rng.ts';
import { renderRtl } from '../src/rtl/index.ts';
import { libraryModule, libraryText } from '../src/rtl/library.ts';
import { cleanNetlistForSta } from '../src/synth/netlist.ts';
import { configProblems } from './config-helpers.ts';
import { cornerFailures, describeSdpCosim } from './sdp-helpers.ts';

/** The rule read a second way: sort by (key descending, part ascending), keep the first K. */
function sortSelect(keys: readonly number[], K: number): boolean[] {
  const order = keys.map((k, p) => ({ k, p })).sort((x, y) => y.k - x.k || x.p - y.p);
  const kept = new Array<boolean>(keys.length).fill(false);
  for (const { p } of order.slice(0, K)) kept[p] = true;
  return kept;
}

const value8 = fc.integer({ min: -128, max: 127 });
const tieProne8 = fc.constantFrom(-128, -113, -17, -16, -15, -1, 0, 1, 15, 16, 17, 31, 112, 127);

describe('the SDP selection rule', () => {
  it('splits v = hi * 2^lb + lo with 0 <= lo < 2^lb, for signed and unsigned values of 2..9 bits', () => {
    for (let bits = 2; bits <= 9; bits++) {
      for (let v = -(2 ** (bits - 1)); v < 2 ** bits; v++) {
        const { hi, lo } = sdpSplit(v, bits);
        const s = 2 ** Math.floor(bits / 2);
        expect(hi * s + lo).toBe(v);
        expect(lo >= 0 && lo < s && Number.isInteger(hi)).toBe(true);
      }
    }
    expect(sdpSplit(-1, 8)).toEqual({ hi: -1, lo: 15 });
    expect(sdpSplit(-128, 8)).toEqual({ hi: -8, lo: 0 });
  });

  it('keeps exactly K parts, the K largest keys, ties to the lower part (equals the sort-based reading)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.oneof(value8, tieProne8), { minLength: 16, maxLength: 16 }),
        fc.nat(),
        (G, vals, kSeed) => {
          const K = 1 + (kSeed % (2 * G - 1));
          const keys = sdpKeys(vals, 0, G, 8);
          const kept = sdpSelect(keys, K);
          expect(kept).toEqual(sortSelect(keys, K));
          expect(kept.filter(Boolean).length).toBe(K);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('the fast whole-matrix form (sdpApplyFast) equals the rule group by group', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(1, 2, 4, 8),
        fc.array(fc.oneof(value8, tieProne8, fc.constant(0)), { minLength: 16, maxLength: 16 }),
        fc.nat(),
        (G, vals, kSeed) => {
          const K = 1 + (kSeed % (2 * G - 1));
          expect(Array.from(sdpApplyFast(vals, G, K, 8, new Int8Array(16)))).toEqual(sdpApply(vals, G, K, 8));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('documented cases: ties, all-equal, zero groups, the largest values', () => {
    // 17 = hi 1, lo 1: the four high parts (key 16) win; K = 3 keeps values 0..2's.
    expect(sdpApply([17, 17, 17, 17], 4, 3, 8)).toEqual([16, 16, 16, 0]);
    // -1 = hi -1 (key 16), lo 15: both high parts first, then the low parts by index.
    expect(sdpApply([-1, -1], 2, 3, 8)).toEqual([-1, -16]);
    expect(sdpApply([0, 0, 0, 0], 4, 4, 8)).toEqual([0, 0, 0, 0]);
    expect(sdpApply([-128, 127, -128, 127], 4, 4, 8)).toEqual([-128, 112, -128, 112]);
    // Keys 16 (hi of 16) and 15 (lo of 15): the high part wins.
    expect(sdpApply([16, 15], 2, 1, 8)).toEqual([16, 0]);
  });
});

describe('the static (weight) selection', () => {
  it('equals brute force over every selection of at most K parts (least error, first optimum)', () => {
    const options = [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const;
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.oneof(value8, tieProne8), { minLength: 4, maxLength: 4 }),
        fc.nat(),
        (G, vals, kSeed) => {
          const K = kSeed % (2 * G);
          const got = sdpStaticSelect(vals, 0, G, K, 8);
          // Brute force: every option vector (value 0 most significant), the first with least error.
          let best: boolean[] | null = null;
          let bestErr = Infinity;
          for (let code = 0; code < 4 ** G; code++) {
            const kept = new Array<boolean>(2 * G).fill(false);
            let parts = 0;
            for (let i = 0; i < G; i++) {
              const o = options[Math.floor(code / 4 ** (G - 1 - i)) % 4]!;
              kept[i] = o[0];
              kept[G + i] = o[1];
              parts += Number(o[0]) + Number(o[1]);
            }
            if (parts > K) continue;
            const e = sdpGroupError(vals, 0, G, 8, kept);
            if (e < bestErr) {
              bestErr = e;
              best = kept;
            }
          }
          expect(got).toEqual(best);
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('is never worse than the importance rule on weights (and better on -1)', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(value8, tieProne8), { minLength: 4, maxLength: 4 }), (vals) => {
        const opt = sdpGroupError(vals, 0, 4, 8, sdpStaticSelect(vals, 0, 4, 4, 8));
        const imp = sdpGroupError(vals, 0, 4, 8, sdpSelect(sdpKeys(vals, 0, 4, 8), 4));
        expect(opt).toBeLessThanOrEqual(imp);
      }),
      { numRuns: 1000 },
    );
    // -1 alone with one part: importance keeps hi (-16, error 225); optimal keeps nothing (error 1).
    expect(sdpKeptValue(-1, 8, true, false)).toBe(-16);
    expect(sdpGroupError([-1], 0, 1, 8, sdpStaticSelect([-1], 0, 1, 1, 8))).toBe(1);
  });
});

describe('synthesis netlist of the SDP group', () => {
  it("splits a concatenation with a multi-bit constant (the key's zero bits: `4'b0000`) bit by bit", () => {
    const line = "  assign { \\k[5] , \\k[4] , k3, k2, k1, k0 } = { \\a[1] , 1'b0, 4'b0010 };\n";
    expect(cleanNetlistForSta(line).text.split('\n').filter(Boolean)).toEqual([
      '  assign \\k[5]  = \\a[1] ;',
      "  assign \\k[4]  = 1'b0;",
      "  assign k3 = 1'b0;",
      "  assign k2 = 1'b0;",
      "  assign k1 = 1'b1;",
      "  assign k0 = 1'b0;",
    ]);
  });
});

describe('pe.sdp config', () => {
  const base = { name: 'x', pe: { block: 16, low: 'none', sdp: { group: 4, keep: 4 } } };
  it('refuses a low format, a group not dividing B, K >= 2G (one line naming the field)', () => {
    expect(configProblems({ ...base, pe: { ...base.pe, low: 'mip2q' } })).toEqual([
      "pe.sdp: needs INT8 weights (pe.low 'none'; got 'mip2q'): SDP splits the activations",
    ]);
    expect(configProblems({ ...base, pe: { ...base.pe, sdp: { group: 3, keep: 2 } } })).toEqual([
      'pe.sdp.group: 3 must divide pe.block (16)',
    ]);
    expect(configProblems({ ...base, pe: { ...base.pe, sdp: { group: 4, keep: 8 } } })).toEqual([
      'pe.sdp.keep: 8 must be less than 2 x pe.sdp.group (8 parts): else nothing is dropped',
    ]);
    const ok = resolveConfig(base);
    expect(ok.derived.lanes).toBe(16);
    expect(resolveConfig({ name: 'x', pe: { block: 16, low: 'none' } }).hash).not.toBe(ok.hash);
  });
});

/** Icarus: the selector module (or its fault overlay) on `vectors` groups of activations. */
async function topkUnderIcarus(
  files: { name: string; content: string }[],
  module: string,
  G: number,
  K: number,
  A: number,
  groups: number[][],
): Promise<boolean[][]> {
  const dir = mkdtempSync(join(tmpdir(), 'sdp-topk-'));
  try {
    const N = 2 * G;
    const keyHex = groups.map((g) =>
      sdpKeys(g, 0, G, A)
        .reduce((acc, k, p) => acc | (BigInt(k) << BigInt(p * A)), 0n)
        .toString(16),
    );
    writeFileSync(join(dir, 'keys.hex'), `${keyHex.join('\n')}\n`);
    const tb = `module tb;
  reg [${N * A - 1}:0] mem [0:${groups.length - 1}];
  reg [${N * A - 1}:0] key;
  wire [${N - 1}:0] sel;
  integer i;
  ${module} #(.N(${N}), .K(${K}), .KEY_BITS(${A})) dut (.key(key), .sel(sel));
  initial begin
    $readmemh("keys.hex", mem);
    for (i = 0; i < ${groups.length}; i = i + 1) begin
      key = mem[i];
      #1 $display("%b", sel);
    end
    $finish;
  end
endmodule
`;
    for (const f of files) writeFileSync(join(dir, f.name), f.content);
    writeFileSync(join(dir, 'tb.v'), tb);
    await execa('iverilog', ['-g2005', '-o', 'tb.vvp', ...files.map((f) => f.name), 'tb.v'], { cwd: dir });
    const out = await execa('vvp', ['-n', 'tb.vvp'], { cwd: dir });
    return out.stdout
      .split('\n')
      .filter((l) => /^[01]+$/.test(l))
      .map((l) => [...l].reverse().map((c) => c === '1'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Random and adversarial activation groups of G values of A bits (signed). */
function adversarialGroups(G: number, A: number, count: number, seed: number): number[][] {
  const r = new Rng(seed);
  const lo = -(2 ** (A - 1));
  const hi = 2 ** (A - 1) - 1;
  const s = 2 ** Math.floor(A / 2);
  const prone = [lo, hi, 0, 1, -1, s - 1, s, s + 1, -s, 2 * s - 1, lo + s - 1].filter(
    (v) => v >= lo && v <= hi,
  );
  const fill = (f: (i: number) => number) => Array.from({ length: G }, (_, i) => f(i));
  const out = [
    fill(() => 0),
    fill(() => hi),
    fill(() => lo),
    fill(() => -1),
    fill(() => s + 1),
    fill((i) => (i % 2 ? s : s - 1)),
    fill((i) => (i % 2 ? lo : hi)),
    fill((i) => i),
  ];
  while (out.length < count) {
    const pick = out.length % 2 ? () => prone[r.int(0, prone.length - 1)]! : () => r.int(lo, hi);
    out.push(fill(pick));
  }
  return out;
}

describe('the RTL top-K part selector (Icarus)', () => {
  const topk = { name: 'strum_sdp_topk.v', content: libraryText(libraryModule('strum_sdp_topk', 'route')) };
  const shapes = [
    { G: 4, K: 4, A: 8 },
    { G: 4, K: 3, A: 8 },
    { G: 4, K: 1, A: 8 },
    { G: 4, K: 7, A: 8 },
    { G: 2, K: 1, A: 8 },
    { G: 8, K: 5, A: 8 },
    { G: 3, K: 2, A: 7 },
  ];
  it(`equals the golden rule on random and adversarial groups (${shapes.length} shapes)`, async () => {
    for (const { G, K, A } of shapes) {
      const groups = adversarialGroups(G, A, 1500, G * 31 + K);
      const got = await topkUnderIcarus([topk], 'strum_sdp_topk', G, K, A, groups);
      expect(got.length).toBe(groups.length);
      const bad = groups.filter((g, i) => got[i]!.join() !== sdpSelect(sdpKeys(g, 0, G, A), K).join());
      expect(bad, `G=${G} K=${K} A=${A}`).toEqual([]);
    }
  }, 60_000);

  it('its tie-order fault (ties to the higher part) is caught by the same check', async () => {
    const cfg = await loadConfig('sdp', {});
    const bundle = renderRtl(cfg, { fault: 'sdp-tie-order' });
    const files = bundle.files.filter((f) => f.name.startsWith('strum_sdp_topk'));
    expect(files.map((f) => f.name).sort()).toEqual(['strum_sdp_topk.v', 'strum_sdp_topk_fault.v']);
    const groups = adversarialGroups(4, 8, 400, 5);
    const got = await topkUnderIcarus(files, 'strum_sdp_topk_fault', 4, 4, 8, groups);
    const bad = groups.filter((g, i) => got[i]!.join() !== sdpSelect(sdpKeys(g, 0, 4, 8), 4).join());
    expect(bad.length).toBeGreaterThan(0);
    // Only ties at the K-th place differ: no group with distinct keys is wrong.
    for (const g of bad) expect(new Set(sdpKeys(g, 0, 4, 8)).size).toBeLessThan(8);
  }, 60_000);
});

describe('SDP corner configs under Icarus (the golden model cycle for cycle)', () => {
  // Activation widths whose key code (strum_sdp_group.v) differs, unsigned activations, one
  // part kept of two, the widest group, a narrow accumulator (products cut), every pipeline stage.
  const corners = [
    { pe: { block: 4, sdp: { group: 2, keep: 3 } }, activation: { bits: 7 } },
    { pe: { block: 2, sdp: { group: 1, keep: 1 } }, activation: { bits: 5, signed: false } },
    {
      pe: { block: 4, sdp: { group: 4, keep: 2 } },
      activation: { bits: 16, signed: false },
      accumulator: { bits: 40 },
    },
    {
      pe: { block: 16, sdp: { group: 8, keep: 5 } },
      pipeline: { operands: true, multiply: true, adderTree: true },
    },
    { pe: { block: 8, sdp: { group: 4, keep: 6 } }, accumulator: { bits: 12 } },
  ].map((c, i) =>
    resolveConfig({
      name: `sdp_corner${i}`,
      array: { rows: 2, cols: 2 },
      ...c,
      pe: { low: 'none', ...c.pe },
    }),
  );
  it(`lint-clean, Yosys-readable and equal to the golden model (${corners.length} configs)`, async () => {
    expect(await cornerFailures(corners)).toEqual([]);
  }, 120_000);
});

describeSdpCosim({
  preset: 'sdp',
  fault: 'sdp-tie-order',
  faultWhat: 'the selector fault',
  onnxLogitsEqual: null,
  more: {
    title: 'which is not INT8',
    // The SDP golden model is not the INT8 one: the same weights without SDP give other logits.
    check: async (cfg, task) => {
      const model = await loadModel(FASHION_MNIST_MODEL);
      const net = await calibrate(model, integerGraph(model), task.calibration!().data);
      const w = quantizeNet(net, cfg, 'magnitude');
      const x = new Float32Array(784);
      const input = new Int8Array(4 * 784);
      for (let i = 0; i < 4; i++) {
        if (task.data.kind === 'classify') task.data.sample(i, x, 0);
        quantizeInput(x, input, i * 784);
      }
      const run = (sdp: boolean) =>
        runInteger(net, w, input, 4, (i, A, rows) =>
          goldenMatmul(sdp ? sdpActivations(cfg, A) : A, rows, w.q[i]!, 32),
        );
      expect(Array.from(await run(true))).not.toEqual(Array.from(await run(false)));
    },
  },
});
