// Mask scopes (docs/CODESIGN.md): the config field's rules, shared masks per group of
// output channels against brute force, per-input-channel precision with its permutation,
// and a two-layer chain through the golden model with and without the permutation.
import { describe, expect, it } from 'vitest';
import { layerScopeRoles, loadModel, quantizeModel } from '../src/accuracy/model.ts';
import { parseSchemes, quantizeLayer } from '../src/accuracy/schemes.ts';
import { channelSensitivity } from '../src/accuracy/sensitivity.ts';
import { fashionMnistTask } from '../src/accuracy/tasks/fashion-mnist.ts';
import { maskScopeOf } from '../src/config/mask-scope.ts';
import { resolveConfig } from '../src/config/resolve.ts';
import { packWeightBlock } from '../src/format/pack.ts';
import { Rng } from '../src/io/rng.ts';
import { GoldenArray, tileResults } from '../src/quant/golden.ts';
import { quantizeMatrix, roundHalfEven, weightBlockOf } from '../src/quant/quantize.ts';
import { channelPlanProblem, foldIntoProducer, inLayerOrder } from '../src/quant/scope.ts';
import { activationPool, StimulusStream, weightPool } from '../src/sim/stimulus.ts';
import { configProblems, laplaceWeights } from './config-helpers.ts';

const cfgOf = (pe: object, extra: object = {}) => resolveConfig({ name: 'q', pe, ...extra });
const problems = (input: object) => configProblems({ name: 'q', ...input });
const weights = laplaceWeights;

describe('pe.maskScope', () => {
  it("leaves the hash of configs without it alone; G enters only with 'group'", () => {
    const plain = cfgOf({ low: 'mip2q' });
    expect(cfgOf({ low: 'mip2q', maskScope: { kind: 'pe' } }).hash).toBe(plain.hash);
    expect(maskScopeOf(plain)).toEqual({ kind: 'pe' });
    const g4 = cfgOf({ low: 'mip2q', maskScope: { kind: 'group', channels: 4 } });
    const g2 = cfgOf({ low: 'mip2q', maskScope: { kind: 'group', channels: 2 } });
    const layer = cfgOf({ low: 'mip2q', maskScope: { kind: 'layer' } });
    expect(new Set([plain.hash, g4.hash, g2.hash, layer.hash]).size).toBe(4);
    expect(cfgOf({ low: 'mip2q', maskScope: { kind: 'group' } }).pe.maskScope).toEqual({
      kind: 'group',
      channels: 4,
    });
  });

  it('says which combinations are illegal, one line naming the field', () => {
    expect(
      problems({ array: { cols: 4 }, pe: { low: 'mip2q', maskScope: { kind: 'group', channels: 3 } } }),
    ).toEqual([
      'pe.maskScope.channels: 3 does not divide array.cols (4): each column group shares one edge router',
    ]);
    expect(problems({ pe: { low: 'none', maskScope: { kind: 'layer' } } })[0]).toMatch(
      /^pe\.maskScope\.kind: 'layer' needs a static StruM PE/,
    );
    expect(problems({ pe: { low: 'mip2q', mode: 'dynamic', maskScope: { kind: 'group' } } })[0]).toMatch(
      /^pe\.maskScope\.kind: 'group' needs a static/,
    );
    expect(problems({ pe: { low: 'mip2q', high: 16, maskScope: { kind: 'layer' } } })[0]).toMatch(
      /0 < pe.high < pe.block/,
    );
    expect(problems({ pe: { low: 'mip2q', routeDecode: 'column', maskScope: { kind: 'layer' } } })).toEqual([
      "pe.routeDecode: 'column' decodes the PE router's selects; with pe.maskScope 'layer' the PE has no router",
    ]);
    expect(problems({ pe: { low: 'mip2q', maskScope: { kind: 'row' } } })[0]).toMatch(/^pe\.maskScope/);
    expect(problems({ pe: { low: 'sparse', maskScope: { kind: 'group', channels: 2 } } })).toEqual([]);
  });
});

describe('shared masks (scope group)', () => {
  const N = 12;
  const K = 40;
  const W = weights(N * K, 7);

  it('gives G output channels one mask per block with exactly L low weights', () => {
    for (const low of ['mip2q', 'dliq', 'sparse']) {
      for (const select of ['error', 'magnitude'] as const) {
        const cfg = cfgOf(
          { block: 8, low, maskScope: { kind: 'group', channels: 4 } },
          { array: { cols: 4 } },
        );
        const qm = quantizeMatrix(cfg, W, N, K, { select });
        for (let n = 0; n < N; n++) {
          for (let j = 0; j < qm.Kp / 8; j++) {
            const mask = Array.from(qm.low.subarray(n * qm.Kp + j * 8, n * qm.Kp + j * 8 + 8));
            expect(mask.reduce((a, b) => a + b, 0)).toBe(4);
            const lead = (n - (n % 4)) * qm.Kp + j * 8;
            expect(mask).toEqual(Array.from(qm.low.subarray(lead, lead + 8)));
            packWeightBlock(cfg, weightBlockOf(qm, n, j)); // the packer accepts every block
          }
        }
      }
    }
  });

  it("with G = 1 and one metadata candidate is exactly the 'pe' quantizer", () => {
    const pe = quantizeMatrix(cfgOf({ block: 8, low: 'mip2q' }), W, N, K, { select: 'error' });
    const g1 = quantizeMatrix(
      cfgOf({ block: 8, low: 'mip2q', maskScope: { kind: 'group', channels: 1 } }),
      W,
      N,
      K,
      {
        select: 'error',
      },
    );
    expect(g1.values).toEqual(pe.values);
    expect(g1.weightedError).toBeCloseTo(pe.weightedError, 9);
  });

  it('chooses the mask of least summed error (brute force over every mask, MIP2Q B = 4)', () => {
    const cfg = cfgOf(
      { block: 4, low: 'mip2q', maskScope: { kind: 'group', channels: 2 } },
      { array: { cols: 2 } },
    );
    const pe = cfgOf({ block: 4, low: 'mip2q', high: 4 }); // reference values: INT8 grid only
    const Wb = weights(2 * 4, 11);
    const qm = quantizeMatrix(cfg, Wb, 2, 4, { select: 'error' });
    // Every mask with two lows: each row's error with those positions at their nearest low value.
    const lowVals = [0, 1, 2, 4, 8, 16, 32, 64].flatMap((v) => (v ? [v, -v] : [0]));
    const scales = qm.scales;
    let best = Infinity;
    for (let m = 0; m < 16; m++) {
      if ((m.toString(2).match(/1/g) ?? []).length !== 2) continue;
      let e = 0;
      for (let n = 0; n < 2; n++) {
        for (let i = 0; i < 4; i++) {
          const x = Wb[n * 4 + i]! / scales[n]!;
          const q = Math.max(-127, Math.min(127, roundHalfEven(x)));
          const v = (m >> i) & 1 ? lowVals.reduce((a, b) => (Math.abs(x - b) < Math.abs(x - a) ? b : a)) : q;
          e += scales[n]! ** 2 * (x - v) ** 2;
        }
      }
      best = Math.min(best, e);
    }
    expect(qm.weightedError).toBeCloseTo(best, 9);
    expect(pe.pe.high).toBe(4);
  });

  it('DLIQ keeps a shift per channel and never does worse than its starting mask', () => {
    const cfg = cfgOf(
      { block: 8, low: 'dliq', maskScope: { kind: 'group', channels: 4 } },
      { array: { cols: 4 } },
    );
    const qm = quantizeMatrix(cfg, W, N, K, { select: 'error' });
    const shifts = new Set(Array.from(qm.metaIndex));
    expect(shifts.size).toBeGreaterThan(1);
    const pe = quantizeMatrix(cfgOf({ block: 8, low: 'dliq' }), W, N, K, { select: 'error' });
    expect(qm.weightedError).toBeGreaterThanOrEqual(pe.weightedError); // sharing costs quality
  });
});

describe('per-input-channel precision (scope layer)', () => {
  it('puts every block in fixed lanes, one precision per input channel, and the permutation is a permutation', () => {
    const I = 16;
    const P = 9; // a 3x3 conv
    const N = 6;
    const W = weights(N * P * I, 3);
    const cfg = cfgOf({ block: 8, low: 'mip2q', maskScope: { kind: 'layer' } });
    const qm = quantizeMatrix(cfg, W, N, P * I, { select: 'error', channels: I });
    const plan = qm.channelPlan!;
    expect([...plan.perm].sort((a, b) => a - b)).toEqual(Array.from({ length: I }, (_, i) => i));
    expect(plan.low.reduce((a, b) => a + b, 0)).toBe(8);
    for (let n = 0; n < N; n++) {
      for (let k = 0; k < qm.Kp; k++) expect(qm.low[n * qm.Kp + k]).toBe(k % 8 >= 4 ? 1 : 0);
      // In the layer's own order a channel has one precision at every kernel position.
      const low = inLayerOrder(qm.low, qm);
      for (let k = 0; k < P * I; k++) expect(low[n * qm.Kp + k]).toBe(plan.low[k % I]);
    }
    expect(channelPlanProblem(9 * 12, 12, 8)).toMatch(/blocks straddle kernel positions/);
    expect(channelPlanProblem(12, 12, 8)).toBeNull(); // a matrix: the tail block is padded
  });

  it.each([
    ['two levels (DLIQ)', { low: 'dliq' }],
    [
      'three levels (INT8, INT4, MIP2Q)',
      { low: 'mip2q', high: 4, mid: { lanes: 2, format: 'int', bits: 4 } },
    ],
  ])(
    'a two-layer chain gives the same outputs with and without the permutation (golden model): %s',
    (_, pe2) => {
      const rows = 2;
      const K0 = 16;
      const C = 32; // layer 1 outputs = layer 2 inputs
      const N2 = 4;
      const cfg1 = cfgOf({ block: 8, low: 'none' }, { array: { rows, cols: 4 } });
      const cfg2 = cfgOf({ block: 8, maskScope: { kind: 'layer' }, ...pe2 }, { array: { rows, cols: N2 } });
      const W1 = weights(C * K0, 21);
      const b1 = weights(C, 22);
      const W2 = weights(N2 * C, 23);
      const r = new Rng(5);
      const A0 = Float64Array.from({ length: rows * K0 }, () => Math.floor(r.float() * 255) - 127);
      const q2 = quantizeMatrix(cfg2, W2, N2, C, { select: 'error' });
      const perm = q2.channelPlan!.perm;

      /** Layer 1 (INT8) then ReLU + requantization to int8: activations [rows, C]. */
      const layer1 = (w: Float32Array, b: Float32Array) => {
        const q1 = quantizeMatrix(cfg1, w, C, K0);
        const acc = new Float64Array(rows * C);
        for (let c0 = 0; c0 < C; c0 += 4) {
          const wt = q1.values.subarray(c0 * q1.Kp, (c0 + 4) * q1.Kp);
          const t = tileResults(cfg1, A0, wt, q1.Kp);
          for (let rr = 0; rr < rows; rr++) for (let c = 0; c < 4; c++) acc[rr * C + c0 + c] = t[rr * 4 + c]!;
        }
        return acc.map((a, i) => {
          const c = i % C;
          return Math.min(127, Math.max(0, roundHalfEven(a * q1.scales[c]! * 0.02 + b[c]! * 50)));
        });
      };
      /** Layer 2 on the array, cycle by cycle from packed words: one tile of rows x N2. */
      const layer2 = (acts: Float64Array, blocks: Uint32Array[][]) => {
        const g = new GoldenArray(cfg2);
        const nb = q2.Kp / 8;
        let out: Float64Array | null = null;
        for (let j = 0; j < nb; j++) {
          out = g.step({
            valid: true,
            clear: j === 0,
            last: j === nb - 1,
            act: Array.from({ length: rows }, (_, rr) =>
              Array.from(acts.subarray(rr * C + j * 8, rr * C + j * 8 + 8)),
            ),
            wgt: blocks.map((row) => row[j]!),
          });
        }
        return out!;
      };
      const packed = Array.from({ length: N2 }, (_, n) =>
        Array.from({ length: q2.Kp / 8 }, (_, j) => packWeightBlock(cfg2, weightBlockOf(q2, n, j))),
      );

      // Without the permutation: layer 2's decoded weights in the layer's own channel order.
      const a1 = layer1(W1, b1);
      const ref = tileResults(cfg2, a1, inLayerOrder(q2.values, q2), q2.Kp);
      // With it: folded into layer 1's rows and bias; layer 2 runs its packed blocks (fixed lanes).
      const folded = foldIntoProducer(W1, b1, perm);
      const a1p = layer1(folded.weights, folded.bias!);
      expect(Array.from(layer2(a1p, packed))).toEqual(Array.from(ref));
      expect(ref.some((v) => v !== 0)).toBe(true);
      // A wrong permutation (two channels of different precision swapped) changes the outputs;
      // with three levels, a middle and a low channel.
      const plan = q2.channelPlan!;
      const levelOf = (p: number) => (plan.level ? plan.level[p]! : plan.low[p]!);
      const differ = (x: number, y: number) => a1[x] !== a1[y] || a1[C + x] !== a1[C + y];
      const hi = perm.findIndex((p) => levelOf(p) === (plan.level ? 1 : 0));
      const lo = perm.findIndex((p) => levelOf(p) === (plan.level ? 2 : 1) && differ(p, perm[hi]!));
      const bad = Int32Array.from(perm);
      [bad[hi], bad[lo]] = [bad[lo]!, bad[hi]!];
      const wrong = foldIntoProducer(W1, b1, bad);
      expect(Array.from(layer2(layer1(wrong.weights, wrong.bias!), packed))).not.toEqual(Array.from(ref));
    },
  );
});

describe('scope layer in the accuracy path (fake quantization in the layer order)', () => {
  // A 3x3 conv (K = 9 I, B | I): the channels are permuted for the array and put back. With
  // 8-bit low lanes every channel is INT8, so any misplaced channel or kernel position shows.
  const layer = { name: 'w', shape: [12, 32, 3, 3], data: weights(12 * 32 * 9, 23) };
  const at = async (list: string, overrides: Record<string, unknown>) => {
    const [s] = await parseSchemes(list, { overrides, select: 'magnitude' });
    return quantizeLayer(layer, s!);
  };
  it('with 8-bit low lanes equals INT8 exactly, through a non-trivial permutation', async () => {
    const int8 = await at('int8', { 'pe.block': 16 });
    const q = await at('config@layer:error', { 'pe.block': 16, 'pe.low': 'int', lowBits: 8 });
    const perm = q.qm!.channelPlan!.perm;
    expect(perm.some((p, c) => p !== c)).toBe(true);
    expect(Array.from(q.data)).toEqual(Array.from(int8.data));
    const q4 = await at('config@layer:error', { 'pe.block': 16, 'pe.low': 'int', lowBits: 4 });
    expect(Array.from(q4.data)).not.toEqual(Array.from(int8.data));
  });
});

describe('co-simulation stimulus and timing per scope', () => {
  it('group scope adds the edge register stage to the latency', () => {
    const pe = cfgOf({ low: 'mip2q' });
    const g = cfgOf({ low: 'mip2q', maskScope: { kind: 'group', channels: 2 } });
    const l = cfgOf({ low: 'mip2q', maskScope: { kind: 'layer' } });
    expect(g.derived.latency).toBe(pe.derived.latency + 1);
    expect(l.derived.latency).toBe(pe.derived.latency);
  });

  it('every cycle gives a column group one mask (group) or the fixed lanes (layer)', () => {
    for (const maskScope of [{ kind: 'group', channels: 2 }, { kind: 'layer' }] as const) {
      const cfg = cfgOf({ block: 8, low: 'mip2q', maskScope }, { array: { rows: 2, cols: 4 } });
      const rng = new Rng(3);
      const act = activationPool(cfg, rng, 16);
      const wgt = weightPool(cfg, rng, 15);
      const stream = new StimulusStream(cfg, act, wgt, rng, { vectors: 400 });
      const masks = new Set<string>();
      for (let ch = stream.next(100); ch; ch = stream.next(100)) {
        for (let t = 0; t < ch.n; t++) {
          const m = (c: number) => wgt.blocks[ch.wIdx[t * 4 + c]!]!.low.map(Number).join('');
          for (let c = 0; c < 4; c++) {
            masks.add(m(c));
            if (maskScope.kind === 'group') expect(m(c)).toBe(m(c - (c % 2)));
            else expect(m(c)).toBe('00001111');
          }
        }
      }
      // group: many masks (the router is exercised); layer: the one fixed pattern.
      if (maskScope.kind === 'group') expect(masks.size).toBeGreaterThan(3);
      else expect(masks.size).toBe(1);
    }
  });
});

describe('sensitivity-weighted channel choice', () => {
  it('keeps a channel high when its calibration activations are large', () => {
    const N = 4;
    const I = 16;
    const W = weights(N * I, 9);
    const cfg = cfgOf({ block: 8, low: 'mip2q', maskScope: { kind: 'layer' } });
    const plain = quantizeMatrix(cfg, W, N, I, { select: 'error' }).channelPlan!;
    const lowChannel = plain.low.indexOf(1);
    const sens = Float64Array.from({ length: I }, (_, i) => (i === lowChannel ? 1e6 : 1));
    const weighted = quantizeMatrix(cfg, W, N, I, { select: 'error', sensitivity: sens }).channelPlan!;
    expect(weighted.low[lowChannel]).toBe(0);
    expect(weighted.low.reduce((a, b) => a + b, 0)).toBe(8);
  });
});

describe('which layers of a real graph can be permuted (scope layer)', () => {
  it('the Fashion-MNIST CNN: input layer and Flatten pinned, conv2 needs B | 8 channels', async () => {
    const model = await loadModel('models/fashion-mnist-cnn.onnx');
    const roles = (B: number) => {
      const cfg = cfgOf({ block: B, low: 'mip2q', maskScope: { kind: 'layer' } });
      return Object.fromEntries([...layerScopeRoles(model, cfg)!].map(([k, v]) => [k, v.kind]));
    };
    expect(roles(8)).toEqual({
      'conv1.weight': 'fixed',
      'conv2.weight': 'choose',
      'fc1.weight': 'fixed',
      'fc2.weight': 'choose',
    });
    expect(roles(16)['conv2.weight']).toBe('fixed');
    expect(layerScopeRoles(model, cfgOf({ low: 'mip2q' }))).toBeNull();
  });
});

describe('sensitivity fed by calibration activations (scope layer)', () => {
  it('measures each layer input per channel and changes the channel choice of a permutable layer', async () => {
    const model = await loadModel('models/fashion-mnist-cnn.onnx');
    const task = fashionMnistTask();
    const calib = task.calibration!().data;
    const sens = await channelSensitivity(model, calib, 64);
    // conv1 reads the network input (not measured); every other layer: one value per input channel.
    expect([...sens.keys()]).toEqual(['conv2.weight', 'fc1.weight', 'fc2.weight']);
    expect(sens.get('conv2.weight')!.length).toBe(8);
    expect([...sens.get('fc2.weight')!].every((v) => v >= 0)).toBe(true);
    expect([...sens.get('conv2.weight')!].some((v) => v > 0)).toBe(true);
    const [scheme] = await parseSchemes('mip2q@layer:error', {
      overrides: { 'pe.block': 8 },
      select: 'error',
    });
    const plan = (s?: ReadonlyMap<string, Float64Array>) =>
      quantizeModel(model, scheme!, [], undefined, s).layers.find((l) => l.name === 'fc2.weight')!.qm!
        .channelPlan!;
    // A channel the plain error sends low, made very sensitive, goes high.
    const low = plan().low.indexOf(1);
    const boosted = new Map(sens);
    boosted.set(
      'fc2.weight',
      Float64Array.from(sens.get('fc2.weight')!, (v, i) => (i === low ? 1e9 : v + 1e-9)),
    );
    expect(plan(boosted).low[low]).toBe(0);
  });
});
