// An ONNX model whose weights strumgen quantizes and writes back (fake quantization),
// then runs with onnxruntime-node. The weight tensors are the ones `strumgen quantize`
// reads (src/quant/load.ts parseOnnx: input 1 of Conv, ConvTranspose, Gemm, MatMul, from
// an initializer or a Constant node); they are written back in the layout the graph stores.
import { readFileSync } from 'node:fs';
import onnxProto from 'onnx-proto';
import { UserError } from '../config/errors.ts';
import { maskScopeOf } from '../config/mask-scope.ts';
import type { ResolvedDpu } from '../config/resolve.ts';
import { type Layer, parseOnnx } from '../quant/load.ts';
import { type ChannelPlan, channelPlanProblem } from '../quant/scope.ts';
import { type ChannelRole, channelRoles } from './channel-spaces.ts';
import { int8Of, type QuantizedLayer, quantizeLayer, type Scheme } from './schemes.ts';

const { onnx } = onnxProto;
type ModelProto = ReturnType<typeof onnx.ModelProto.decode>;
type TensorProto = InstanceType<typeof onnx.TensorProto>;
type Ort = typeof import('onnxruntime-node');
export type Session = Awaited<ReturnType<Ort['InferenceSession']['create']>>;

let ortModule: Promise<Ort> | null = null;
/** onnxruntime-node, loaded on first use (its native library costs ~100 ms to load). */
export function ort(): Promise<Ort> {
  ortModule ??= import('onnxruntime-node').then((m) => ((m as { default?: Ort }).default ?? m) as Ort);
  return ortModule;
}

interface WeightSite {
  readonly tensor: TensorProto;
  readonly op: string;
  readonly transB: boolean;
  readonly group: number;
  /** The stored dims. */
  readonly dims: number[];
}

export interface LoadedModel {
  readonly file: string;
  readonly bytes: Uint8Array;
  /** Weight layers in graph order, output channels first (as strumgen quantize sees them). */
  readonly layers: readonly Layer[];
  readonly inputName: string;
  /** The input's dims as declared (a symbolic or missing dim is -1). */
  readonly inputDims: readonly number[];
  readonly outputName: string;
  readonly outputDims: readonly number[];
}

type ValueInfo = {
  type?: { tensorType?: { shape?: { dim?: { dimValue?: unknown }[] | null } | null } | null } | null;
};
const dimsOf = (v: ValueInfo | undefined) =>
  (v?.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimValue ? Number(d.dimValue) : -1));

export async function loadModel(file: string): Promise<LoadedModel> {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(
      `${file}: cannot read (${code === 'ENOENT' ? 'no such file' : (e as Error).message})`,
    );
  }
  const layers = await parseOnnx(file, bytes);
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph!;
  const inits = new Set((graph.initializer ?? []).map((t) => t.name));
  const inputs = (graph.input ?? []).filter((i) => !inits.has(i.name));
  if (inputs.length !== 1) {
    throw new UserError(
      `${file}: the model has ${inputs.length} inputs (strumgen accuracy runs single-input models)`,
    );
  }
  const outputName = graph.output?.[0]?.name;
  if (!outputName) throw new UserError(`${file}: the model has no output`);
  return {
    file,
    bytes,
    layers,
    inputName: inputs[0]!.name!,
    inputDims: dimsOf(inputs[0] as ValueInfo),
    outputName,
    outputDims: dimsOf(graph.output![0] as ValueInfo),
  };
}

/** Where each weight layer lives in the proto, by name. */
function weightSites(model: ModelProto): Map<string, WeightSite> {
  const graph = model.graph!;
  const tensors = new Map<string, TensorProto>();
  for (const t of graph.initializer ?? []) if (t.name) tensors.set(t.name, t as TensorProto);
  for (const n of graph.node ?? []) {
    if (n.opType !== 'Constant') continue;
    const value = n.attribute?.find((a) => a.name === 'value')?.t;
    if (value && n.output?.[0]) tensors.set(n.output[0], value as TensorProto);
  }
  const sites = new Map<string, WeightSite>();
  for (const n of graph.node ?? []) {
    const name = n.input?.[1];
    const t = name ? tensors.get(name) : undefined;
    if (!t || !name || sites.has(name)) continue;
    const attr = (a: string) => Number(n.attribute?.find((x) => x.name === a)?.i ?? 0);
    sites.set(name, {
      tensor: t,
      op: n.opType ?? '',
      transB: attr('transB') === 1,
      group: attr('group') || 1,
      dims: (t.dims ?? []).map(Number),
    });
  }
  return sites;
}

/** Output-channels-first data (Layer layout) back to the layout the graph stores. */
function toStored(site: WeightSite, data: Float32Array): Float32Array {
  const d = site.dims;
  if ((site.op === 'MatMul' || (site.op === 'Gemm' && !site.transB)) && d.length === 2) {
    const [K, N] = d as [number, number];
    const out = new Float32Array(data.length);
    for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) out[k * N + n] = data[n * K + k]!;
    return out;
  }
  if (site.op === 'ConvTranspose' && d.length >= 3) {
    const [cin, coutG, ...k] = d as [number, number, ...number[]];
    const ks = k.reduce((a, b) => a * b, 1);
    const cinG = cin / site.group;
    const out = new Float32Array(data.length);
    for (let g = 0; g < site.group; g++)
      for (let oc = 0; oc < coutG; oc++)
        for (let ic = 0; ic < cinG; ic++) {
          const stored = ((g * cinG + ic) * coutG + oc) * ks;
          const first = ((g * coutG + oc) * cinG + ic) * ks;
          out.set(data.subarray(first, first + ks), stored);
        }
    return out;
  }
  return data;
}

/** Layers that keep INT8 under every scheme: names, or `first` / `last` (weight layers in graph order). */
export function resolveExceptions(model: LoadedModel, names: readonly string[]): string[] {
  const all = model.layers.map((l) => l.name);
  return names.map((n) => {
    if (n === 'first') return all[0]!;
    if (n === 'last') return all.at(-1)!;
    if (all.includes(n)) return n;
    const shown = all.slice(0, 8).join(', ') + (all.length > 8 ? `, ... (${all.length} in all)` : '');
    throw new UserError(
      `--keep-int8: ${model.file} has no weight layer '${n}' (first, last, or one of: ${shown})`,
    );
  });
}

export interface QuantizedModel {
  readonly bytes: Uint8Array;
  readonly layers: readonly QuantizedLayer[];
}

const channelsOf = (l: Layer) => (l.shape.length === 2 ? l.data.length / l.shape[0]! : l.shape[1]!);

/**
 * Mask scope 'layer' (null for the others): each weight layer's role, from the graph's
 * channel spaces (channel-spaces.ts) and its shape (input channels that blocks cannot hold
 * in fixed lanes: 'fixed', INT8 on the high lanes).
 */
export function layerScopeRoles(model: LoadedModel, cfg: ResolvedDpu): Map<string, ChannelRole> | null {
  if (maskScopeOf(cfg).kind !== 'layer') return null;
  const roles = channelRoles(model.bytes);
  const out = new Map<string, ChannelRole>();
  for (const l of model.layers) {
    const role = roles.get(l.name) ?? { kind: 'fixed', reason: 'not a Conv, Gemm or MatMul input' };
    const problem = channelPlanProblem(l.data.length / l.shape[0]!, channelsOf(l), cfg.pe.block);
    out.set(l.name, problem && role.kind !== 'fixed' ? { kind: 'fixed', reason: problem } : role);
  }
  return out;
}

/** Quantize every weight layer (the `keepInt8` ones with `int8`) and write the values back. */
export function quantizeModel(
  model: LoadedModel,
  scheme: Scheme,
  keepInt8: readonly string[] = [],
  int8?: Scheme,
  /** Layer name -> per input channel mean square calibration activation (sensitivity.ts). */
  sensitivity?: ReadonlyMap<string, Float64Array>,
): QuantizedModel {
  if (scheme.kind === 'float') return { bytes: model.bytes, layers: [] };
  const proto = onnx.ModelProto.decode(model.bytes);
  const sites = weightSites(proto);
  // Mask scope 'layer': a layer chooses its input channels' levels, follows the layer it
  // shares its input with, or (input channels not permutable) runs INT8 on the high lanes.
  const roles = scheme.kind === 'config' ? layerScopeRoles(model, scheme.cfg) : null;
  const plans = new Map<string, ChannelPlan>();
  const layers = model.layers.map((l) => {
    let s = keepInt8.includes(l.name) && int8 ? int8 : scheme;
    let plan: ChannelPlan | undefined;
    const role = roles?.get(l.name);
    if (role && s === scheme) {
      plan = role.kind === 'follow' ? plans.get(role.of) : undefined;
      if (role.kind === 'fixed' || (plan && plan.channels !== channelsOf(l))) {
        s = int8Of(scheme);
        plan = undefined;
      }
    }
    const q = quantizeLayer(l, s, plan, sensitivity?.get(l.name));
    if (roles && q.qm?.channelPlan && !plan) plans.set(l.name, q.qm.channelPlan);
    const site = sites.get(l.name)!;
    const stored = toStored(site, q.data);
    site.tensor.rawData = new Uint8Array(stored.buffer, stored.byteOffset, stored.byteLength);
    site.tensor.floatData = [];
    site.tensor.doubleData = [];
    site.tensor.dataType = onnx.TensorProto.DataType.FLOAT;
    return q;
  });
  return { bytes: onnx.ModelProto.encode(proto).finish(), layers };
}

/** An onnxruntime session on model bytes (single-threaded: the machine is shared). */
export async function createSession(bytes: Uint8Array, what: string): Promise<Session> {
  const o = await ort();
  try {
    return await o.InferenceSession.create(bytes, {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
  } catch (e) {
    throw new UserError(
      `${what}: onnxruntime cannot load the model (${(e as Error).message.split('\n')[0]})`,
    );
  }
}

/** Run one float input batch; returns the first output's data and dims. */
export async function runFloat(
  session: Session,
  input: string,
  output: string,
  data: Float32Array,
  dims: readonly number[],
): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const o = await ort();
  const res = await session.run({ [input]: new o.Tensor('float32', data, dims) });
  const t = res[output]!;
  return { data: t.data as Float32Array, dims: t.dims };
}
