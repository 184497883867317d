// The ONNX emulation of int8 activations and of the SDP rule (src/accuracy/act-quant.ts)
// against the one definition of the rule (src/format/sdp.ts) and plain int8 quantization:
// single-layer models (a conv whose groups cross kernel positions, a conv grouped by
// channels, a depthwise conv, a MatMul with K not a multiple of G) go through
// emulateActivations and run in onnxruntime; with scale 1 and integer weights every float
// result is an exact integer, so the comparison is bit for bit on the int8 values.
import { describe, expect, it } from 'vitest';
import {
  activationMax,
  activationPlan,
  activationTensors,
  calibrationBatches,
  emulateActivations,
} from '../src/accuracy/act-quant.ts';
import { evaluateScheme } from '../src/accuracy/evaluate.ts';
import { calibrate, integerGraph } from '../src/accuracy/integer.ts';
import { integerPath } from '../src/accuracy/integer-run.ts';
import { createSession, loadModel, ort } from '../src/accuracy/model.ts';
import { DT, modelBytes, node, tensor, valueInfo } from '../src/accuracy/onnx-build.ts';
import { parseSchemes } from '../src/accuracy/schemes.ts';
import { fashionMnistTask } from '../src/accuracy/tasks/fashion-mnist.ts';
import { sdpApply } from '../src/format/sdp.ts';
import { Rng } from '../src/io/rng.ts';
import { roundHalfEven } from '../src/quant/index.ts';

/** Seeded values that make ties likely: equal keys, hi = lo, zeros, the extremes. */
const TIE_PRONE = [0, 0, 1, -1, 15, -15, 16, -16, 17, -17, 31, 32, -32, 33, 127, -127, 8, 64, -64, 5, 80];
function int8Values(n: number, seed: number): Float32Array {
  const r = new Rng(seed);
  return Float32Array.from({ length: n }, () =>
    r.float() < 0.6
      ? TIE_PRONE[Math.floor(r.float() * TIE_PRONE.length)]!
      : Math.floor(r.float() * 255) - 127,
  );
}

async function run(bytes: Uint8Array, x: Float32Array, dims: number[]): Promise<Float32Array> {
  const s = await createSession(bytes, 'test');
  const o = await ort();
  try {
    const r = await s.run({ x: new o.Tensor('float32', x, dims) });
    return r.y!.data as Float32Array;
  } finally {
    await s.release();
  }
}

interface ConvCase {
  readonly C: number;
  readonly N: number;
  readonly groups: number;
  readonly k: number;
  readonly H: number;
  readonly W: number;
  readonly pad: number;
  readonly stride: number;
}

/** One Conv layer with integer weights, input "x", output "y", in opset `opset`. */
function convModel(c: ConvCase, w: Float32Array, opset: number): Uint8Array {
  return modelBytes({
    name: 'conv',
    opset,
    nodes: [
      node('Conv', ['x', 'w'], ['y'], {
        kernel_shape: [c.k, c.k],
        pads: [c.pad, c.pad, c.pad, c.pad],
        strides: [c.stride, c.stride],
        group: c.groups,
      }),
    ],
    initializers: [tensor('w', [c.N, c.C / c.groups, c.k, c.k], w)],
    inputs: [valueInfo('x', DT.FLOAT, ['B', c.C, c.H, c.W])],
    outputs: [valueInfo('y', DT.FLOAT, ['B', c.N, 'h', 'w'])],
  });
}

/**
 * The reference: per output, the im2col row of its conv group in the quantizer's K order
 * (k = (ky*kw + kx)*cg + c), zero-padded to a multiple of G, through sdpApply (or not), times the weights.
 */
function convReference(
  c: ConvCase,
  x: Float32Array,
  w: Float32Array,
  B: number,
  sdp: { G: number; K: number } | null,
): Float32Array {
  const cg = c.C / c.groups;
  const Ng = c.N / c.groups;
  const P = c.k * c.k;
  const Kl = P * cg;
  const Kp = sdp ? Math.ceil(Kl / sdp.G) * sdp.G : Kl;
  const oh = Math.floor((c.H + 2 * c.pad - c.k) / c.stride) + 1;
  const ow = Math.floor((c.W + 2 * c.pad - c.k) / c.stride) + 1;
  const y = new Float32Array(B * c.N * oh * ow);
  for (let b = 0; b < B; b++)
    for (let gi = 0; gi < c.groups; gi++)
      for (let oy = 0; oy < oh; oy++)
        for (let ox = 0; ox < ow; ox++) {
          const row = new Array<number>(Kp).fill(0);
          for (let p = 0; p < P; p++) {
            const yy = oy * c.stride + Math.floor(p / c.k) - c.pad;
            const xx = ox * c.stride + (p % c.k) - c.pad;
            if (yy < 0 || yy >= c.H || xx < 0 || xx >= c.W) continue;
            for (let ch = 0; ch < cg; ch++)
              row[p * cg + ch] = x[((b * c.C + gi * cg + ch) * c.H + yy) * c.W + xx]!;
          }
          const a = sdp ? sdpApply(row, sdp.G, sdp.K, 8) : row;
          for (let j = 0; j < Ng; j++) {
            const o = gi * Ng + j;
            let acc = 0;
            for (let p = 0; p < P; p++)
              for (let ch = 0; ch < cg; ch++) acc += a[p * cg + ch]! * w[(o * cg + ch) * P + p]!;
            y[((b * c.N + o) * oh + oy) * ow + ox] = acc;
          }
        }
  return y;
}

const smallWeights = (n: number, seed: number) => {
  const r = new Rng(seed);
  return Float32Array.from({ length: n }, () => Math.floor(r.float() * 7) - 3);
};

describe('ONNX emulation of int8 activations and SDP', () => {
  const cases: [string, ConvCase, number][] = [
    [
      'C = 3 (groups cross kernel positions: im2col)',
      { C: 3, N: 5, groups: 1, k: 3, H: 6, W: 7, pad: 1, stride: 2 },
      9,
    ],
    [
      'C = 8 (groups inside a kernel position: on the input)',
      { C: 8, N: 3, groups: 1, k: 3, H: 5, W: 5, pad: 1, stride: 1 },
      13,
    ],
    [
      'depthwise C = 8, 5x5 (K = 25 padded to 28)',
      { C: 8, N: 8, groups: 8, k: 5, H: 6, W: 9, pad: 2, stride: 1 },
      13,
    ],
  ];
  for (const [what, c, opset] of cases) {
    it(`conv ${what}, opset ${opset}: SDP G4 K4 and K3 bit-exact with sdp.ts; K = 2G equals int8`, async () => {
      const B = 2;
      const x = int8Values(B * c.C * c.H * c.W, c.C * 31 + c.k);
      const w = smallWeights(c.N * (c.C / c.groups) * c.k * c.k, 7);
      const bytes = convModel(c, w, opset);
      const scales = new Map([['x', 1]]);
      for (const sdp of [
        { G: 4, K: 4 },
        { G: 4, K: 3 },
        { G: 2, K: 1 },
        { G: 3, K: 2 },
        { G: 4, K: 8 },
      ]) {
        const em = emulateActivations(bytes, ['w'], { scales, bits: 8, sdp: { group: sdp.G, keep: sdp.K } });
        const got = await run(em, x, [B, c.C, c.H, c.W]);
        const want = convReference(c, x, w, B, sdp);
        expect(Array.from(got), `G${sdp.G} K${sdp.K}`).toEqual(Array.from(want));
        if (sdp.K === 2 * sdp.G) expect(Array.from(got)).toEqual(Array.from(convReference(c, x, w, B, null)));
      }
      // The rule is not the identity on these values (else the comparison proves nothing).
      expect(convReference(c, x, w, B, { G: 4, K: 3 })).not.toEqual(convReference(c, x, w, B, null));
    });
  }

  it('quantization: clip(roundHalfEven(x / s)) in float32, ties to even; int8-only runs the layer on it', async () => {
    const s = 0.25;
    const special = [
      0.125, 0.375, -0.125, -0.375, 0.625, 100, -100, 31.75, 31.625, -31.625, 0.1250001, 1e-9, -1e-9,
    ];
    const r = new Rng(3);
    const x = Float32Array.from({ length: 64 }, (_, i) => special[i] ?? (r.float() - 0.5) * 80);
    const bytes = modelBytes({
      name: 'mm',
      opset: 9,
      nodes: [node('MatMul', ['x', 'w'], ['y'])],
      initializers: [
        tensor(
          'w',
          [16, 16],
          Float32Array.from({ length: 256 }, (_, i) => (i % 17 === 0 ? 1 : 0)),
        ),
      ],
      inputs: [valueInfo('x', DT.FLOAT, ['B', 16])],
      outputs: [valueInfo('y', DT.FLOAT, ['B', 16])],
    });
    const got = await run(
      emulateActivations(bytes, ['w'], { scales: new Map([['x', s]]), bits: 8 }),
      x,
      [4, 16],
    );
    const want = Array.from(x, (v) => Math.max(-127, Math.min(127, roundHalfEven(Math.fround(v / s)))) * s);
    expect(Array.from(got)).toEqual(want);
  });

  it('MatMul with K = 10 (padded to 12) and Gemm transB: SDP bit-exact with sdp.ts', async () => {
    const Kl = 10;
    const N = 3;
    const rows = 40;
    const x = int8Values(rows * Kl, 5);
    const w = smallWeights(Kl * N, 11); // [K, N]
    const wt = Float32Array.from({ length: N * Kl }, (_, i) => w[(i % Kl) * N + Math.floor(i / Kl)]!); // [N, K]
    const models = [
      modelBytes({
        name: 'mm',
        opset: 9,
        nodes: [node('MatMul', ['x', 'w'], ['y'])],
        initializers: [tensor('w', [Kl, N], w)],
        inputs: [valueInfo('x', DT.FLOAT, [2, 'T', Kl])],
        outputs: [valueInfo('y', DT.FLOAT, [2, 'T', N])],
      }),
      modelBytes({
        name: 'gemm',
        opset: 13,
        nodes: [node('Gemm', ['x', 'w'], ['y'], { transB: 1 })],
        initializers: [tensor('w', [N, Kl], wt)],
        inputs: [valueInfo('x', DT.FLOAT, ['B', Kl])],
        outputs: [valueInfo('y', DT.FLOAT, ['B', N])],
      }),
    ];
    const dims = [
      [2, rows / 2, Kl],
      [rows, Kl],
    ];
    for (const [m, bytes] of models.entries()) {
      const em = emulateActivations(bytes, ['w'], {
        scales: new Map([['x', 1]]),
        bits: 8,
        sdp: { group: 4, keep: 3 },
      });
      const got = await run(em, x, dims[m]!);
      const want: number[] = [];
      for (let r = 0; r < rows; r++) {
        const row = [...x.subarray(r * Kl, (r + 1) * Kl), 0, 0];
        const a = sdpApply(row, 4, 3, 8);
        for (let j = 0; j < N; j++) {
          let acc = 0;
          for (let k = 0; k < Kl; k++) acc += a[k]! * w[k * N + j]!;
          want.push(acc);
        }
      }
      expect(Array.from(got)).toEqual(want);
    }
  });

  it('Fashion-MNIST CNN: the integer path scales, and its SDP predictions on 200 test images', async () => {
    const task = fashionMnistTask(undefined, 200);
    const model = await loadModel(task.model);
    const max = await activationMax(model, (await calibrationBatches(task)).batches);
    const scales = activationPlan(max, 8).scales;
    const net = await calibrate(model, integerGraph(model), task.calibration!().data);
    expect(activationTensors(model).map((t) => scales.get(t))).toEqual(net.actScales);
    const [sdp] = await parseSchemes('sdp', { overrides: {}, select: 'magnitude' });
    const cfg = sdp!.kind === 'config' ? sdp!.cfg : undefined;
    const plan = activationPlan(max, 8, cfg?.pe.sdp);
    const run = await evaluateScheme(task, model, sdp!, [], () => {}, undefined, plan);
    const integer = await integerPath(task, [run]);
    expect(integer.schemes[0]!.predictionsDifferFromFakeQuant).toBe(0);
    // Without the SDP rule the emulation's predictions differ from the SDP integer path's.
    const plain = await evaluateScheme(task, model, sdp!, [], () => {}, undefined, activationPlan(max, 8));
    expect(Array.from(plain.scores.predictions!)).not.toEqual(Array.from(run.scores.predictions!));
  });
});
