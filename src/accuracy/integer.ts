// The integer path: the golden integer model runs a whole CNN with int8 activations, the
// way the array would (docs/ACCURACY.md, "Integer path"). Supported graphs are chains of
// Conv (+ Relu) (+ MaxPool), Flatten and Gemm/MatMul (+ Relu), as the Fashion-MNIST CNN.
//
// Requantization, defined here once (requantize) and mirrored op for op by the onnxruntime
// graph (integerOnnx):
//   activations: a = clip(roundHalfEven(x / s), -127, 127), s = max|x| / 127 per tensor,
//                calibrated once on the float network (the input: s = 1/127 for x in [0, 1]);
//   a layer:     acc_n = sum_k a_k * w_n,k   (exact integers; w the scheme's decoded values,
//                k in the quantizer's order, wrapped at accumulator.bits as the array does)
//   next a:      clip(roundHalfEven(acc_n * M_n + beta_n), lo, 127) with M_n = s_in * s_w,n / s_out,
//                beta_n = bias_n / s_out in float64, lo = 0 after a Relu, else -127;
//   last layer:  logits_n = acc_n * (s_in * s_w,n) + bias_n (float64), prediction = argmax.
// Max-pooling commutes with this monotone map and runs on the int8 values.

import onnxProto from 'onnx-proto';
import { UserError } from '../config/errors.ts';
import { maskScopeOf } from '../config/mask-scope.ts';
import type { ResolvedDpu } from '../config/resolve.ts';
import { wrapSigned } from '../quant/golden.ts';
import { layerMatrix, type QuantizedMatrix, quantizeMatrix, roundHalfEven } from '../quant/index.ts';
import { createSession, type LoadedModel, ort, runFloat } from './model.ts';
import { DT, modelBytes, node, tensor, valueInfo } from './onnx-build.ts';
import type { ClassifyData } from './task.ts';

const { onnx } = onnxProto;

export const ACT_MAX = 127;

/** One conv or fully connected layer of the integer network. */
export interface IntLayer {
  readonly kind: 'conv' | 'fc';
  readonly name: string;
  /** Input [C, H, W] (fc: [K, 1, 1]) and output [N, outH, outW] before pooling. */
  readonly C: number;
  readonly H: number;
  readonly W: number;
  readonly N: number;
  readonly kh: number;
  readonly kw: number;
  /** top, left, bottom, right */
  readonly pads: readonly [number, number, number, number];
  readonly strides: readonly [number, number];
  readonly outH: number;
  readonly outW: number;
  readonly relu: boolean;
  /** Max-pool after the layer (kernel = stride), or null. */
  readonly pool: number | null;
  /** Float bias (zeros when none). */
  readonly bias: Float32Array;
  /** The float weight matrix [N, K] in the quantizer's order. */
  readonly weights: Float32Array;
  readonly K: number;
  /** Name of the float tensor after the layer's Relu (calibration), and its activation scale. */
  readonly outputTensor: string;
}

/** A layer record of a weight matrix; a conv's geometry is spread over it (an fc layer is a 1x1 one). */
function matrixLayer(
  kind: IntLayer['kind'],
  name: string,
  m: { readonly N: number; readonly K: number; readonly data: IntLayer['weights'] },
  bias: Float32Array,
  outputTensor: string,
): IntLayer {
  return {
    kind,
    name,
    C: m.K,
    H: 1,
    W: 1,
    N: m.N,
    kh: 1,
    kw: 1,
    pads: [0, 0, 0, 0],
    strides: [1, 1],
    outH: 1,
    outW: 1,
    relu: false,
    pool: null,
    bias,
    weights: m.data,
    K: m.K,
    outputTensor,
  };
}

export interface IntegerNet {
  readonly layers: readonly IntLayer[];
  readonly inputDims: readonly [number, number, number];
  /** Activation scale of each layer's input (layers.length entries); the input's is 1/127. */
  readonly actScales: readonly number[];
}

/** The layers' quantized weights under one config. */
export interface IntWeights {
  readonly cfg: ResolvedDpu;
  readonly q: readonly QuantizedMatrix[];
}

type NodeP = onnxProto.onnx.INodeProto;
const attrInts = (n: NodeP, a: string) => n.attribute?.find((x) => x.name === a)?.ints?.map(Number);
const attrInt = (n: NodeP, a: string) => {
  const v = n.attribute?.find((x) => x.name === a)?.i;
  return v === undefined || v === null ? undefined : Number(v);
};

/** Read the chain; anything the integer path cannot run is one UserError naming the node. */
export function integerGraph(model: LoadedModel): Omit<IntegerNet, 'actScales'> {
  const proto = onnx.ModelProto.decode(model.bytes);
  const g = proto.graph!;
  const inits = new Map((g.initializer ?? []).map((t) => [t.name!, t]));
  const layerByName = new Map(model.layers.map((l) => [l.name, l]));
  const dims = model.inputDims;
  if (dims.length !== 4 || dims.slice(1).some((d) => !(d > 0))) {
    throw new UserError(`${model.file}: the integer path needs an input [N, C, H, W] with fixed C, H, W`);
  }
  let [C, H, W] = dims.slice(1) as [number, number, number];
  const layers: IntLayer[] = [];
  const unsupported = (n: NodeP, why: string) =>
    new UserError(
      `${model.file}: node ${n.name || n.output?.[0]} (${n.opType}): ${why}; the integer path runs chains of ` +
        'Conv, Relu, MaxPool, Flatten and Gemm/MatMul',
    );
  let flat = false;
  for (const n of g.node ?? []) {
    const op = n.opType ?? '';
    const last = layers.at(-1);
    const mut = last as { -readonly [K in keyof IntLayer]: IntLayer[K] } | undefined;
    if (op === 'Conv' || op === 'Gemm' || op === 'MatMul') {
      const w = layerByName.get(n.input?.[1] ?? '');
      if (!w) throw unsupported(n, 'its weight is not a constant');
      const biasT = n.input?.[2] ? inits.get(n.input[2]) : undefined;
      const m = layerMatrix(w);
      const bias = new Float32Array(m.N);
      if (n.input?.[2]) {
        if (!biasT?.rawData || biasT.rawData.length !== 4 * m.N)
          throw unsupported(n, 'bias is not a float32 initializer');
        bias.set(new Float32Array(new Uint8Array(biasT.rawData).buffer, 0, m.N));
      }
      if (op === 'Conv') {
        if (flat) throw unsupported(n, 'a conv after Flatten');
        const [kh, kw] = w.shape.slice(2) as [number, number];
        if (w.shape.length !== 4 || w.shape[1] !== C || (attrInt(n, 'group') ?? 1) !== 1) {
          throw unsupported(n, 'only 2-D convolutions without groups');
        }
        if ((attrInts(n, 'dilations') ?? [1, 1]).some((d) => d !== 1)) throw unsupported(n, 'dilation');
        const p = attrInts(n, 'pads') ?? [0, 0, 0, 0];
        const s = attrInts(n, 'strides') ?? [1, 1];
        const outH = Math.floor((H + p[0]! + p[2]! - kh) / s[0]!) + 1;
        const outW = Math.floor((W + p[1]! + p[3]! - kw) / s[1]!) + 1;
        layers.push({
          ...matrixLayer('conv', w.name, m, bias, n.output![0]!),
          C,
          H,
          W,
          kh,
          kw,
          pads: [p[0]!, p[1]!, p[2]!, p[3]!],
          strides: [s[0]!, s[1]!],
          outH,
          outW,
        });
        [C, H, W] = [m.N, outH, outW];
      } else {
        if (!flat && !(H === 1 && W === 1)) throw unsupported(n, 'a matrix product before Flatten');
        if (
          op === 'Gemm' &&
          ((attrInt(n, 'transA') ?? 0) !== 0 ||
            (n.attribute ?? []).some((a) => (a.name === 'alpha' || a.name === 'beta') && a.f !== 1))
        ) {
          throw unsupported(n, 'transA, alpha or beta');
        }
        if (m.K !== C * H * W) throw unsupported(n, `K ${m.K} does not match the ${C * H * W} inputs`);
        layers.push({ ...matrixLayer('fc', w.name, m, bias, n.output![0]!), C: m.K });
        [C, H, W] = [m.N, 1, 1];
        flat = true;
      }
    } else if (op === 'Relu') {
      if (!mut || mut.relu || mut.pool) throw unsupported(n, 'a Relu not right after a layer');
      mut.relu = true;
      mut.outputTensor = n.output![0]!;
    } else if (op === 'MaxPool') {
      const k = attrInts(n, 'kernel_shape') ?? [];
      const s = attrInts(n, 'strides') ?? [1, 1];
      const p = attrInts(n, 'pads') ?? [0, 0, 0, 0];
      if (
        mut?.kind !== 'conv' ||
        mut.pool ||
        k[0] !== k[1] ||
        s[0] !== k[0] ||
        s[1] !== k[0] ||
        p.some((x) => x)
      ) {
        throw unsupported(n, 'only an unpadded square max-pool with stride = kernel after a conv');
      }
      mut.pool = k[0]!;
      H = Math.floor(H / k[0]!);
      W = Math.floor(W / k[0]!);
    } else if (op === 'Flatten' || op === 'Reshape') {
      flat = true;
    } else if (op === 'Softmax' && n === g.node!.at(-1)) {
      // A final softmax does not change the argmax: the integer path predicts from the logits.
    } else {
      throw unsupported(n, 'not supported');
    }
  }
  if (layers.length === 0)
    throw new UserError(`${model.file}: no conv or matrix layers for the integer path`);
  return { layers, inputDims: dims.slice(1) as [number, number, number] };
}

/** Activation scales from the float network: max over the calibration samples / 127. */
export async function calibrate(
  model: LoadedModel,
  graph: Omit<IntegerNet, 'actScales'>,
  data: ClassifyData,
): Promise<IntegerNet> {
  const proto = onnx.ModelProto.decode(model.bytes);
  const g = proto.graph!;
  const wanted = graph.layers.slice(0, -1).map((l) => l.outputTensor);
  for (const name of wanted) {
    if (!g.output!.some((o) => o.name === name)) g.output!.push(onnx.ValueInfoProto.create({ name }));
  }
  const session = await createSession(onnx.ModelProto.encode(proto).finish(), model.file);
  const o = await ort();
  const max = new Float64Array(wanted.length);
  const per = data.sampleDims.reduce((a, b) => a * b, 1);
  try {
    for (let at = 0; at < data.count; at += 256) {
      const n = Math.min(256, data.count - at);
      const input = new Float32Array(n * per);
      for (let i = 0; i < n; i++) data.sample(at + i, input, i * per);
      const res = await session.run({
        [model.inputName]: new o.Tensor('float32', input, [n, ...data.sampleDims]),
      });
      wanted.forEach((name, i) => {
        const d = res[name]!.data as Float32Array;
        for (let k = 0; k < d.length; k++) max[i] = Math.max(max[i]!, Math.abs(d[k]!));
      });
    }
  } finally {
    await session.release();
  }
  const actScales = [1 / ACT_MAX, ...Array.from(max, (m) => (m > 0 ? m / ACT_MAX : 1))];
  return { ...graph, actScales };
}

/** Quantize every layer's weights for a config (the scheme's policy). */
export function quantizeNet(net: IntegerNet, cfg: ResolvedDpu, select: 'magnitude' | 'error'): IntWeights {
  if (maskScopeOf(cfg).kind === 'layer') {
    // Its layers run with permuted input channels (folded into their producers): not built here yet.
    throw new UserError(
      `--integer/--rtl: ${cfg.name}: pe.maskScope 'layer' runs only as fake quantization (leave out --integer and --rtl)`,
    );
  }
  return { cfg, q: net.layers.map((l) => quantizeMatrix(cfg, l.weights, l.N, l.K, { select })) };
}

/** The input image (floats in [0, 1]) as int8 activations: clip(roundHalfEven(x * 127)). */
export function quantizeInput(x: ArrayLike<number>, out: Int8Array, offset = 0): void {
  for (let i = 0; i < x.length; i++)
    out[offset + i] = Math.max(-ACT_MAX, Math.min(ACT_MAX, roundHalfEven(x[i]! * ACT_MAX)));
}

/**
 * im2col: the activation matrix [images * outH * outW, Kp] of a layer, row = output
 * position, column k = (ky * kw + kx) * C + c (the quantizer's K order), zeros for padding.
 */
export function im2col(l: IntLayer, acts: Int8Array, images: number, Kp: number): Int8Array {
  const { C, H, W, kh, kw, outH, outW } = l;
  const P = outH * outW;
  const A = new Int8Array(images * P * Kp);
  if (l.kind === 'fc') {
    for (let i = 0; i < images; i++) A.set(acts.subarray(i * l.K, (i + 1) * l.K), i * Kp);
    return A;
  }
  const [pt, pl] = l.pads;
  const [sh, sw] = l.strides;
  for (let i = 0; i < images; i++) {
    const img = i * C * H * W;
    for (let oy = 0; oy < outH; oy++)
      for (let ox = 0; ox < outW; ox++) {
        const row = ((i * outH + oy) * outW + ox) * Kp;
        for (let ky = 0; ky < kh; ky++) {
          const y = oy * sh + ky - pt;
          if (y < 0 || y >= H) continue;
          for (let kx = 0; kx < kw; kx++) {
            const x = ox * sw + kx - pl;
            if (x < 0 || x >= W) continue;
            const k = row + (ky * kw + kx) * C;
            for (let c = 0; c < C; c++) A[k + c] = acts[img + (c * H + y) * W + x]!;
          }
        }
      }
  }
  return A;
}

const transposed = new WeakMap<QuantizedMatrix, Int32Array>();

/**
 * The golden accumulators [rows, N]: exact dot products over Kp (the array's block sums
 * added up), wrapped at accumulator.bits as golden.ts accumulate does (wrapping once at the
 * end gives the same residue). Zero activations (most, after ReLU) are skipped.
 */
export function goldenMatmul(A: Int8Array, rows: number, q: QuantizedMatrix, accBits: number): Float64Array {
  const { N, Kp } = q;
  let wt = transposed.get(q);
  if (!wt) {
    wt = new Int32Array(Kp * N);
    for (let n = 0; n < N; n++) for (let k = 0; k < Kp; k++) wt[k * N + n] = q.values[n * Kp + k]!;
    transposed.set(q, wt);
  }
  const out = new Float64Array(rows * N);
  const half = 2 ** (accBits - 1);
  for (let r = 0; r < rows; r++) {
    const a = r * Kp;
    const o = r * N;
    for (let k = 0; k < Kp; k++) {
      const x = A[a + k]!;
      if (x === 0) continue;
      const w = k * N;
      for (let n = 0; n < N; n++) out[o + n]! += x * wt[w + n]!;
    }
    for (let n = 0; n < N; n++) {
      const v = out[o + n]!;
      if (v >= half || v < -half) out[o + n] = wrapSigned(v, accBits);
    }
  }
  return out;
}

/** The one requantization: int8 activation from an accumulator (see the header). */
export function requantize(acc: number, M: number, beta: number, relu: boolean): number {
  return Math.max(relu ? 0 : -ACT_MAX, Math.min(ACT_MAX, roundHalfEven(acc * M + beta)));
}

/** M_n = s_in * s_w,n / s_out and beta_n = bias_n / s_out of layer i (s_out = 1 for the last layer's logits). */
export function requantConstants(
  net: IntegerNet,
  w: IntWeights,
  i: number,
): { M: Float64Array; beta: Float64Array } {
  const l = net.layers[i]!;
  const last = i === net.layers.length - 1;
  const sOut = last ? 1 : net.actScales[i + 1]!;
  const sIn = net.actScales[i]!;
  const q = w.q[i]!;
  const M = new Float64Array(l.N);
  const beta = new Float64Array(l.N);
  for (let n = 0; n < l.N; n++) {
    M[n] = (sIn * q.scales[n]!) / sOut;
    beta[n] = l.bias[n]! / sOut;
  }
  return { M, beta };
}

/**
 * After a layer: accumulators [images * outH * outW, N] -> next activations [images, N, h, w]
 * (requantized, pooled), or for the last layer the float64 logits [images, N].
 */
export function finishLayer(
  net: IntegerNet,
  w: IntWeights,
  i: number,
  acc: Float64Array,
  images: number,
): { acts?: Int8Array; logits?: Float64Array } {
  const l = net.layers[i]!;
  const { M, beta } = requantConstants(net, w, i);
  const P = l.outH * l.outW;
  if (i === net.layers.length - 1) {
    const logits = new Float64Array(images * l.N);
    for (let r = 0; r < images * P; r++)
      for (let n = 0; n < l.N; n++) logits[r * l.N + n] = acc[r * l.N + n]! * M[n]! + beta[n]!;
    return { logits };
  }
  // [images, N, outH, outW]
  const full = new Int8Array(images * l.N * P);
  for (let im = 0; im < images; im++)
    for (let p = 0; p < P; p++)
      for (let n = 0; n < l.N; n++) {
        const r = im * P + p;
        full[(im * l.N + n) * P + p] = requantize(acc[r * l.N + n]!, M[n]!, beta[n]!, l.relu);
      }
  if (!l.pool) return { acts: full };
  const k = l.pool;
  const h = Math.floor(l.outH / k);
  const wd = Math.floor(l.outW / k);
  const pooled = new Int8Array(images * l.N * h * wd);
  for (let c = 0; c < images * l.N; c++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < wd; x++) {
        let m = -128;
        for (let dy = 0; dy < k; dy++)
          for (let dx = 0; dx < k; dx++)
            m = Math.max(m, full[(c * l.outH + y * k + dy) * l.outW + x * k + dx]!);
        pooled[(c * h + y) * wd + x] = m;
      }
  return { acts: pooled };
}

/** Runs the layers' matrix products with `matmul` (golden or RTL); returns the logits. */
export async function runInteger(
  net: IntegerNet,
  w: IntWeights,
  input: Int8Array,
  images: number,
  matmul: (layer: number, A: Int8Array, rows: number) => Promise<Float64Array> | Float64Array,
): Promise<Float64Array> {
  let acts = input;
  for (let i = 0; i < net.layers.length; i++) {
    const l = net.layers[i]!;
    const q = w.q[i]!;
    const rows = images * l.outH * l.outW;
    const A = im2col(l, acts, images, q.Kp);
    const acc = await matmul(i, A, rows);
    const r = finishLayer(net, w, i, acc, images);
    if (r.logits) return r.logits;
    acts = r.acts!;
  }
  throw new Error('unreachable: the last layer returns logits');
}

export function argmax(logits: Float64Array, images: number): Int32Array {
  const N = logits.length / images;
  const out = new Int32Array(images);
  for (let i = 0; i < images; i++) {
    let best = 0;
    for (let n = 1; n < N; n++) if (logits[i * N + n]! > logits[i * N + best]!) best = n;
    out[i] = best;
  }
  return out;
}

/** The quantized [N, Kp] values back to an int8 OIHW kernel / [K, N] matrix for onnxruntime. */
function storedInt8(l: IntLayer, q: QuantizedMatrix): Int8Array {
  const out = new Int8Array(l.N * l.K);
  if (l.kind === 'fc') {
    for (let n = 0; n < l.N; n++) for (let k = 0; k < l.K; k++) out[k * l.N + n] = q.values[n * q.Kp + k]!;
    return out;
  }
  const P = l.kh * l.kw;
  for (let n = 0; n < l.N; n++)
    for (let c = 0; c < l.C; c++)
      for (let p = 0; p < P; p++) out[(n * l.C + c) * P + p] = q.values[n * q.Kp + p * l.C + c]!;
  return out;
}

/**
 * The same integer network as an ONNX graph: ConvInteger / MatMulInteger (int8 x int8 ->
 * int32), then Cast to double, Mul M, Add beta, Round (half to even), Clip, Cast to int8;
 * MaxPool on int8; the last layer's double logits are the output.
 */
export function integerOnnx(net: IntegerNet, w: IntWeights): Uint8Array {
  const nodes: ReturnType<typeof node>[] = [];
  const inits: ReturnType<typeof tensor>[] = [];
  let x = 'input';
  net.layers.forEach((l, i) => {
    const q = w.q[i]!;
    const last = i === net.layers.length - 1;
    const { M, beta } = requantConstants(net, w, i);
    const shape = l.kind === 'conv' ? [1, l.N, 1, 1] : [1, l.N];
    inits.push(
      tensor(`w${i}`, l.kind === 'conv' ? [l.N, l.C, l.kh, l.kw] : [l.K, l.N], storedInt8(l, q)),
      tensor(`M${i}`, shape, M),
      tensor(`beta${i}`, shape, beta),
    );
    if (l.kind === 'conv') {
      nodes.push(
        node('ConvInteger', [x, `w${i}`], [`acc${i}`], {
          kernel_shape: [l.kh, l.kw],
          pads: [l.pads[0], l.pads[1], l.pads[2], l.pads[3]],
          strides: [l.strides[0], l.strides[1]],
        }),
      );
    } else {
      nodes.push(
        node('Flatten', [x], [`flat${i}`], { axis: 1 }),
        node('MatMulInteger', [`flat${i}`, `w${i}`], [`acc${i}`]),
      );
    }
    nodes.push(
      node('Cast', [`acc${i}`], [`accd${i}`], { to: DT.DOUBLE }),
      node('Mul', [`accd${i}`, `M${i}`], [`scaled${i}`]),
      node('Add', [`scaled${i}`, `beta${i}`], [last ? 'logits' : `real${i}`]),
    );
    if (last) return;
    inits.push(
      tensor(`lo${i}`, [], Float64Array.of(l.relu ? 0 : -ACT_MAX)),
      tensor(`hi${i}`, [], Float64Array.of(ACT_MAX)),
    );
    nodes.push(
      node('Round', [`real${i}`], [`round${i}`]),
      node('Clip', [`round${i}`, `lo${i}`, `hi${i}`], [`clip${i}`]),
      node('Cast', [`clip${i}`], [l.pool ? `act${i}` : `out${i}`], { to: DT.INT8 }),
    );
    if (l.pool)
      nodes.push(
        node('MaxPool', [`act${i}`], [`out${i}`], {
          kernel_shape: [l.pool, l.pool],
          strides: [l.pool, l.pool],
        }),
      );
    x = `out${i}`;
  });
  const N = net.layers.at(-1)!.N;
  return modelBytes({
    name: 'strumgen_integer',
    nodes,
    initializers: inits,
    inputs: [valueInfo('input', DT.INT8, ['N', ...net.inputDims])],
    outputs: [valueInfo('logits', DT.DOUBLE, ['N', N])],
  });
}

/** Run the integer ONNX graph on int8 inputs; returns the logits. */
export async function runIntegerOnnx(
  bytes: Uint8Array,
  input: Int8Array,
  dims: readonly number[],
): Promise<Float64Array> {
  const session = await createSession(bytes, 'integer graph');
  const o = await ort();
  try {
    const res = await session.run({ input: new o.Tensor('int8', input, dims) });
    return res.logits!.data as Float64Array;
  } finally {
    await session.release();
  }
}

export { runFloat };
