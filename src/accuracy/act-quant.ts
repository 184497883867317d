// Activation quantization in the ONNX graph (`strumgen accuracy --activations int8`): at the
// input of every weight layer (Conv, Gemm, MatMul with a constant weight: the layers the
// array runs) the activations are quantized to int8 with one calibrated scale per tensor,
// and for a structured-dynamic-precision design (pe.sdp) every group of G values along the
// layer's reduction keeps its K most important nibble parts (src/format/sdp.ts), then they
// are dequantized and the layer runs in float with the scheme's fake-quantized weights.
// This is how SDP's accuracy is measured on networks the integer path cannot run (the OCR
// recognizer: hard-swish, layer norm, attention); docs/ACCURACY.md "Int8 activations".
//
//   quantize:  q = clip(roundHalfEven(x / s), -qmax, qmax), s = max|x| / qmax per tensor over
//              the calibration samples of the float network (integer.ts's rule), qmax =
//              2^(bits-1) - 1, in float32;
//   SDP:       per group of G consecutive k of the layer's reduction order (the quantizer's
//              K order: im2col k = (ky*kw + kx)*Cg + c, channels innermost; a matrix's own
//              columns), padded with zeros to a multiple of G as the array pads K; the kept
//              parts by the rank rule of sdp.ts: each part's key made unique with the tie
//              rule (key * 2G + 2G-1-p: equal keys go to the lower part number), part p kept
//              iff fewer than K parts have a larger unique key (2G pairwise comparisons);
//   layer:     x' = kept value * s, the original op (or, when a group crosses kernel
//              positions, an exact im2col by a one-hot convolution and a 1x1 convolution).
//
// Only standard ONNX ops whose meaning is the same from opset 9 (the PaddleOCR models) to 17:
// Div, Min, Max, Floor, Greater, Less, Not, Or, Cast, Abs, Mul, Add, Sub, Gather, Concat,
// Shape, Reshape, Conv, MatMul, Gemm.

import onnxProto from 'onnx-proto';
import { UserError } from '../config/errors.ts';
import { sdpLowBits } from '../format/sdp.ts';
import { createSession, type LoadedModel, ort } from './model.ts';
import { lineBatch } from './ocr.ts';
import { DT, node, tensor } from './onnx-build.ts';
import type { Task } from './task.ts';

const { onnx } = onnxProto;
type NodeP = ReturnType<typeof node>;
type TensorP = ReturnType<typeof tensor>;
type INode = onnxProto.onnx.INodeProto;
type ITensor = onnxProto.onnx.ITensorProto;

export interface ActSdp {
  readonly group: number;
  readonly keep: number;
}

export interface ActQuantPlan {
  /** Per-tensor activation scale of each weight layer's input (tensor name -> s). */
  readonly scales: ReadonlyMap<string, number>;
  /** Activation bits (qmax = 2^(bits-1) - 1). */
  readonly bits: number;
  /** Structured dynamic precision on top of the quantization (pe.sdp), or none. */
  readonly sdp?: ActSdp;
}

/** A weight layer's node: its activation input and weight tensor. */
interface Site {
  readonly index: number;
  readonly node: INode;
  readonly input: string;
  readonly weight: string;
}

const attrOf = (n: INode, a: string) => n.attribute?.find((x) => x.name === a);
const intAttr = (n: INode, a: string, d: number) => {
  const v = attrOf(n, a)?.i;
  return v === undefined || v === null ? d : Number(v);
};

/** The nodes of the weight layers (the tensors `strumgen quantize` reads: input 1 of Conv, Gemm, MatMul). */
function weightSites(g: onnxProto.onnx.IGraphProto, weights: ReadonlySet<string>): Site[] {
  const out: Site[] = [];
  (g.node ?? []).forEach((n, index) => {
    const op = n.opType ?? '';
    const w = n.input?.[1];
    const x = n.input?.[0];
    if (!w || !x || !weights.has(w)) return;
    if (op === 'Conv' || op === 'Gemm' || op === 'MatMul') out.push({ index, node: n, input: x, weight: w });
    else if (op === 'ConvTranspose') {
      throw new UserError(
        `--activations: node ${n.name || n.output?.[0]} (ConvTranspose): int8 activations are emulated for Conv, Gemm and MatMul layers`,
      );
    }
  });
  return out;
}

/** The weight layers' activation inputs (each tensor once, graph order). */
export function activationTensors(model: LoadedModel): string[] {
  const g = onnx.ModelProto.decode(model.bytes).graph!;
  return [...new Set(weightSites(g, new Set(model.layers.map((l) => l.name))).map((s) => s.input))];
}

/** A float32 tensor's values (raw data or float_data). */
function floatValues(t: ITensor): Float32Array {
  if (t.rawData?.length) {
    const b = new Uint8Array(t.rawData);
    return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  }
  return Float32Array.from(t.floatData ?? []);
}

/**
 * max|x| of each weight layer's input over the calibration batches of the float network
 * (the scale of a scheme with b-bit activations is max / (2^(b-1) - 1): activationPlan).
 */
export async function activationMax(
  model: LoadedModel,
  batches: Iterable<{ readonly data: Float32Array; readonly dims: readonly number[] }>,
): Promise<Map<string, number>> {
  const proto = onnx.ModelProto.decode(model.bytes);
  const g = proto.graph!;
  const wanted = activationTensors(model);
  for (const name of wanted) {
    if (name !== model.inputName && !g.output!.some((o) => o.name === name))
      g.output!.push(onnx.ValueInfoProto.create({ name }));
  }
  const session = await createSession(onnx.ModelProto.encode(proto).finish(), model.file);
  const o = await ort();
  const max = new Map(wanted.map((w) => [w, 0]));
  let any = false;
  try {
    for (const b of batches) {
      any = true;
      const res = await session.run({ [model.inputName]: new o.Tensor('float32', b.data, b.dims) });
      for (const name of wanted) {
        const d = name === model.inputName ? b.data : (res[name]!.data as Float32Array);
        let m = max.get(name)!;
        for (let k = 0; k < d.length; k++) m = Math.max(m, Math.abs(d[k]!));
        max.set(name, m);
      }
    }
  } finally {
    await session.release();
  }
  if (!any) throw new UserError('--activations: no calibration samples');
  return max;
}

type Batch = { readonly data: Float32Array; readonly dims: readonly number[] };

/** Lines of a user's OCR data that calibrate when the task has no calibration lines of its own. */
export const USER_CALIBRATION_LINES = 64;

/**
 * The float input batches that calibrate the activation scales: a classifier's calibration
 * samples (Fashion-MNIST: the first 1,000 training images; a user's: the first 200 samples),
 * OCR: the task's calibration lines (rendered with another seed), else the first lines of the data.
 */
export async function calibrationBatches(task: Task): Promise<{ batches: Batch[]; source: string }> {
  const batches: Batch[] = [];
  if (task.data.kind === 'classify') {
    const c = task.calibration?.() ?? {
      data: task.data,
      source: `the ${task.data.count} samples themselves`,
    };
    const d = c.data;
    const per = d.sampleDims.reduce((a, b) => a * b, 1);
    for (let at = 0; at < d.count; at += 256) {
      const n = Math.min(256, d.count - at);
      const data = new Float32Array(n * per);
      for (let i = 0; i < n; i++) d.sample(at + i, data, i * per);
      batches.push({ data, dims: [n, ...d.sampleDims] });
    }
    return { batches, source: c.source };
  }
  const c = (await task.calibrationLines?.()) ?? {
    lines: task.data.lines.slice(0, USER_CALIBRATION_LINES),
    source: `the first ${Math.min(USER_CALIBRATION_LINES, task.data.lines.length)} lines of the data`,
  };
  const lines = [...c.lines].sort((a, b) => a.width - b.width);
  for (let at = 0; at < lines.length; at += 8) batches.push(lineBatch(lines.slice(at, at + 8)));
  return { batches, source: c.source };
}

/** The plan of one scheme: scales max / qmax (1 for a tensor never nonzero), its bits and SDP. */
export function activationPlan(max: ReadonlyMap<string, number>, bits: number, sdp?: ActSdp): ActQuantPlan {
  const qmax = 2 ** (bits - 1) - 1;
  const scales = new Map([...max].map(([k, m]) => [k, m > 0 ? m / qmax : 1]));
  return { scales, bits, ...(sdp ? { sdp } : {}) };
}

/** Emits nodes and initializers under one name prefix. */
class Emitter {
  readonly nodes: NodeP[] = [];
  readonly inits: TensorP[] = [];
  private count = 0;
  private readonly consts = new Map<string, string>();
  constructor(readonly prefix: string) {}

  op(type: string, inputs: readonly string[], attrs: Record<string, number | number[]> = {}): string {
    const out = `${this.prefix}${type}_${this.count++}`;
    this.nodes.push(node(type, inputs, [out], attrs));
    return out;
  }

  /** A float32 constant (scalars shared within the prefix). */
  f32(values: readonly number[] | Float32Array, dims: readonly number[] = []): string {
    const key = dims.length === 0 ? `f${values[0]}` : '';
    const hit = key && this.consts.get(key);
    if (hit) return hit;
    const name = `${this.prefix}c${this.count++}`;
    this.inits.push(tensor(name, dims, Float32Array.from(values)));
    if (key) this.consts.set(key, name);
    return name;
  }

  i64(values: readonly number[]): string {
    const name = `${this.prefix}c${this.count++}`;
    this.inits.push(tensor(name, [values.length], BigInt64Array.from(values.map(BigInt))));
    return name;
  }
}

/** clip(roundHalfEven(x / s), -qmax, qmax) as integer-valued floats (no Round/Clip: opset 9 lacks Round). */
export function emitQuantize(e: Emitter, x: string, s: number, qmax: number): string {
  const t = e.op('Div', [x, e.f32([s])]);
  const c = e.op('Max', [e.op('Min', [t, e.f32([qmax])]), e.f32([-qmax])]);
  const r0 = e.op('Floor', [c]);
  const frac = e.op('Sub', [c, r0]); // exact, in [0, 1)
  const gt = e.op('Greater', [frac, e.f32([0.5])]);
  const lt = e.op('Less', [frac, e.f32([0.5])]);
  const tie = e.op('Not', [e.op('Or', [gt, lt])]);
  const odd = e.op('Sub', [r0, e.op('Mul', [e.op('Floor', [e.op('Mul', [r0, e.f32([0.5])])]), e.f32([2])])]);
  const up = e.op('Add', [
    e.op('Cast', [gt], { to: DT.FLOAT }),
    e.op('Mul', [e.op('Cast', [tie], { to: DT.FLOAT }), odd]),
  ]);
  return e.op('Add', [r0, up]);
}

/**
 * Batcher's odd-even merge sort network for n inputs (n a power of 2): the compare-exchange
 * pairs (i < j) in order.
 */
export function sortingNetwork(n: number): [number, number][] {
  const pairs: [number, number][] = [];
  for (let p = 1; p < n; p *= 2)
    for (let k = p; k >= 1; k = Math.floor(k / 2))
      for (let j = k % p; j <= n - 1 - k; j += 2 * k)
        for (let i = 0; i <= Math.min(k - 1, n - j - k - 1); i++)
          if (Math.floor((i + j) / (2 * p)) === Math.floor((i + j + k) / (2 * p)))
            pairs.push([i + j, i + j + k]);
  return pairs;
}

/**
 * The SDP rule on integer-valued floats shaped [A, n, G, B] (groups along axis 2): every
 * group keeps its K most important parts (sdp.ts: v = hi * 2^lb + lo, keys |hi| * 2^lb and
 * lo, ties to the lower part number, exactly K kept). The keys are made unique with the tie
 * rule (key * 2G + 2G-1-p), so part p is kept iff its unique key is at least the K-th largest,
 * which a sorting network (Max/Min on the 2G key slices) gives in few passes over the data.
 */
export function emitSdpGroups(e: Emitter, q: string, G: number, K: number, bits: number): string {
  const s = 2 ** sdpLowBits(bits);
  const P = 2 * G;
  const hi = e.op('Floor', [e.op('Mul', [q, e.f32([1 / s])])]); // exact: s is a power of 2
  const hiVal = e.op('Mul', [hi, e.f32([s])]);
  const lo = e.op('Sub', [q, hiVal]);
  // Part p < G is value p's high part, part G + i its low part.
  const tie = (first: number) =>
    e.f32(
      Array.from({ length: G }, (_, i) => P - 1 - (first + i)),
      [1, 1, G, 1],
    );
  const ukHi = e.op('Add', [e.op('Mul', [e.op('Abs', [hi]), e.f32([s * P])]), tie(0)]);
  const ukLo = e.op('Add', [e.op('Mul', [lo, e.f32([P])]), tie(G)]);
  // The K-th largest unique key per group: lanes sorted descending (a missing lane is -inf).
  let width = 1;
  while (width < P) width *= 2;
  const lanes: (string | null)[] = Array.from({ length: width }, (_, p) =>
    p < P ? e.op('Gather', [p < G ? ukHi : ukLo, e.i64([p % G])], { axis: 2 }) : null,
  );
  // Only the comparators (and of those only the outputs) that lane K-1 depends on.
  const network = sortingNetwork(width);
  const need: boolean[][] = [];
  const live = new Set([K - 1]);
  for (let c = network.length - 1; c >= 0; c--) {
    const [i, j] = network[c]!;
    need[c] = [live.has(i), live.has(j)];
    if (live.has(i) || live.has(j)) {
      live.add(i);
      live.add(j);
    }
  }
  network.forEach(([i, j], c) => {
    const [wantMax, wantMin] = need[c]!;
    const a = lanes[i]!;
    const b = lanes[j]!;
    if (a === null || b === null) {
      lanes[i] = a ?? b;
      lanes[j] = null;
      return;
    }
    if (wantMax || wantMin) {
      lanes[i] = wantMax ? e.op('Max', [a, b]) : a;
      lanes[j] = wantMin ? e.op('Min', [a, b]) : b;
    }
  });
  // Kept iff the unique key is at least the K-th largest, i.e. greater than it minus 1.
  const below = e.op('Sub', [lanes[K - 1]!, e.f32([1])]);
  const keep = (uk: string, v: string) =>
    e.op('Mul', [e.op('Cast', [e.op('Greater', [uk, below])], { to: DT.FLOAT }), v]);
  const keptHi = keep(ukHi, hiVal);
  const keptLo = keep(ukLo, lo);
  return e.op('Add', [keptHi, keptLo]);
}

/** SDP over groups of G along axis 1 of x (NC..., C a multiple of G), same shape out. */
export function emitSdpChannels(
  e: Emitter,
  x: string,
  C: number,
  G: number,
  K: number,
  bits: number,
): string {
  const grouped = e.op('Reshape', [x, e.i64([0, C / G, G, -1])]);
  return e.op('Reshape', [emitSdpGroups(e, grouped, G, K, bits), e.op('Shape', [x])]);
}

/** SDP over groups of G along the last axis of x (of length Kp, a multiple of G). */
export function emitSdpLast(e: Emitter, x: string, Kp: number, G: number, K: number, bits: number): string {
  const grouped = e.op('Reshape', [x, e.i64([-1, Kp / G, G, 1])]);
  return e.op('Reshape', [emitSdpGroups(e, grouped, G, K, bits), e.op('Shape', [x])]);
}

const roundUp = (n: number, m: number) => Math.ceil(n / m) * m;

/**
 * The model with int8 activations (and the SDP rule) at the input of every weight layer,
 * emulated in float. `weights` names the weight layers (LoadedModel.layers).
 */
export function emulateActivations(
  bytes: Uint8Array,
  weights: readonly string[],
  plan: ActQuantPlan,
): Uint8Array {
  const proto = onnx.ModelProto.decode(bytes);
  const g = proto.graph!;
  const tensors = new Map<string, ITensor>();
  for (const t of g.initializer ?? []) if (t.name) tensors.set(t.name, t);
  for (const n of g.node ?? []) {
    const v = attrOf(n, 'value')?.t;
    if (n.opType === 'Constant' && v && n.output?.[0]) tensors.set(n.output[0], v);
  }
  const sites = weightSites(g, new Set(weights));
  const qmax = 2 ** (plan.bits - 1) - 1;
  const bySite = new Map(sites.map((s) => [s.index, s]));
  const nodes: INode[] = [];
  const inits: ITensor[] = [...(g.initializer ?? [])];
  (g.node ?? []).forEach((n, index) => {
    const site = bySite.get(index);
    if (!site) {
      nodes.push(n);
      return;
    }
    const s = plan.scales.get(site.input);
    if (s === undefined) throw new Error(`act-quant: no calibrated scale for ${site.input}`);
    const e = new Emitter(`aq${index}_`);
    const q = emitQuantize(e, site.input, s, qmax);
    const w = tensors.get(site.weight)!;
    const wdims = (w.dims ?? []).map(Number);
    const replaced = node(n.opType!, n.input!, n.output!, {}, n.name ?? undefined);
    replaced.attribute = n.attribute ?? [];
    const what = `node ${n.name || n.output?.[0]} (${n.opType})`;
    if (!plan.sdp) {
      replaced.input = [e.op('Mul', [q, e.f32([s])]), ...n.input!.slice(1)];
      nodes.push(...e.nodes, replaced);
      inits.push(...e.inits);
      return;
    }
    const { group: G, keep: K } = plan.sdp;
    if (n.opType === 'Conv') {
      const groups = intAttr(n, 'group', 1);
      const [cout, cg, ...ks] = wdims as [number, number, ...number[]];
      const P = ks.reduce((a, b) => a * b, 1);
      if (cg % G === 0) {
        // A group of G never leaves one kernel position: select on the input tensor itself.
        const kept = emitSdpChannels(e, q, cg * groups, G, K, plan.bits);
        replaced.input = [e.op('Mul', [kept, e.f32([s])]), ...n.input!.slice(1)];
        nodes.push(...e.nodes, replaced);
      } else {
        if (ks.length !== 2) throw new UserError(`--activations: ${what}: SDP emulates 2-D convolutions`);
        const Kl = P * cg;
        const Kp = roundUp(Kl, G);
        // im2col, exact: each conv group as its own image ([N * groups, cg, H, W]) through a
        // one-hot convolution with the layer's geometry: output channel k = input channel c at
        // kernel position p (k = p*cg + c), zeros for k >= Kl. (A grouped one-hot convolution
        // gives the same values but runs about 20x slower in onnxruntime on depthwise layers.)
        const onehot = new Float32Array(Kp * cg * P);
        for (let k = 0; k < Kl; k++) onehot[(k * cg + (k % cg)) * P + Math.floor(k / cg)] = 1;
        const geometry = (n.attribute ?? []).filter((a) =>
          ['kernel_shape', 'pads', 'strides', 'dilations', 'auto_pad'].includes(a.name ?? ''),
        );
        const perGroup = e.op('Reshape', [q, e.i64([-1, cg, 0, 0])]);
        const colOut = `${e.prefix}im2col`;
        const col = node('Conv', [perGroup, e.f32(onehot, [Kp, cg, ...ks])], [colOut]);
        col.attribute = geometry;
        e.nodes.push(col);
        const kept = e.op('Reshape', [
          emitSdpChannels(e, colOut, Kp, G, K, plan.bits),
          e.i64([-1, groups * Kp, 0, 0]),
        ]);
        // The layer as a 1x1 grouped convolution over the im2col channels.
        const wv = floatValues(w);
        const w1 = new Float32Array(cout * Kp);
        for (let o = 0; o < cout; o++)
          for (let k = 0; k < Kl; k++) {
            const p = Math.floor(k / cg);
            const c = k % cg;
            w1[o * Kp + k] = wv[(o * cg + c) * P + p]!;
          }
        const conv = node(
          'Conv',
          [e.op('Mul', [kept, e.f32([s])]), e.f32(w1, [cout, Kp, 1, 1]), ...n.input!.slice(2)],
          n.output!,
          { kernel_shape: [1, 1], group: groups },
          n.name ?? undefined,
        );
        nodes.push(...e.nodes, conv);
      }
      inits.push(...e.inits);
      return;
    }
    // Gemm / MatMul: the reduction is the activation's last axis.
    if (n.opType === 'Gemm' && intAttr(n, 'transA', 0) !== 0) {
      throw new UserError(`--activations: ${what}: SDP emulates Gemm without transA`);
    }
    const transB = n.opType === 'Gemm' && intAttr(n, 'transB', 0) === 1;
    const Kl = transB ? wdims[1]! : wdims[0]!;
    const N = transB ? wdims[0]! : wdims[1]!;
    const Kp = roundUp(Kl, G);
    let x = q;
    let wName = site.weight;
    if (Kp !== Kl) {
      // Zero padding to a multiple of G, exact: a [Kl, Kp] 0/1 matrix; the weight gets zero rows.
      const pad = new Float32Array(Kl * Kp);
      for (let k = 0; k < Kl; k++) pad[k * Kp + k] = 1;
      x = e.op('MatMul', [q, e.f32(pad, [Kl, Kp])]);
      const wv = floatValues(w);
      const wp = new Float32Array(Kp * N);
      for (let k = 0; k < Kl; k++)
        for (let j = 0; j < N; j++)
          wp[transB ? j * Kp + k : k * N + j] = wv[transB ? j * Kl + k : k * N + j]!;
      wName = e.f32(wp, transB ? [N, Kp] : [Kp, N]);
    }
    const kept = emitSdpLast(e, x, Kp, G, K, plan.bits);
    replaced.input = [e.op('Mul', [kept, e.f32([s])]), wName, ...n.input!.slice(2)];
    nodes.push(...e.nodes, replaced);
    inits.push(...e.inits);
  });
  g.node = nodes;
  // Weights the im2col path replaced and nothing else reads.
  const used = new Set(nodes.flatMap((n) => n.input ?? []));
  const replacedWeights = new Set(sites.map((s) => s.weight));
  g.initializer = inits.filter((t) => !replacedWeights.has(t.name ?? '') || used.has(t.name ?? ''));
  return onnx.ModelProto.encode(proto).finish();
}

export { Emitter };
