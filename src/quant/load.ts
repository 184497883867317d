// Weight input: float tensors from .npy, a JSON tensor file or an ONNX model, and the
// reshape of any weight tensor to the [N outputs, K reduction] matrix the quantizer takes.
// Every problem with the input is a one-line UserError naming the file (and tensor).
import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { basename, extname } from 'node:path';
import { UserError } from '../config/errors.ts';

export interface Layer {
  /** Tensor name (ONNX initializer / Constant output name; npy: the file name). */
  readonly name: string;
  /** Output channels first: OIHW for conv kernels, [N, K] for matrices. */
  readonly shape: number[];
  readonly data: Float32Array;
  /** ONNX op that consumes the weight (Conv, ConvTranspose, Gemm, MatMul), if known. */
  readonly op?: string;
}

export interface LoadOptions {
  /** Only this tensor; an unknown name is a UserError listing the names. */
  readonly layer?: string;
}

const prod = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

function checkFinite(file: string, name: string, data: Float32Array): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!(Math.abs(v) < Infinity)) {
      throw new UserError(`${file}: tensor ${name}: element ${i} is ${v} (weights must be finite)`);
    }
  }
}

function pick(file: string, layers: Layer[], opts: LoadOptions): Layer[] {
  if (layers.length === 0) throw new UserError(`${file}: no weight tensors found`);
  if (opts.layer === undefined) return layers;
  const hit = layers.filter((l) => l.name === opts.layer);
  if (hit.length) return hit;
  const names = layers.map((l) => l.name);
  const shown = names.slice(0, 8).join(', ') + (names.length > 8 ? `, ... (${names.length} in all)` : '');
  throw new UserError(`${file}: no layer named '${opts.layer}' (layers: ${shown})`);
}

/** Little-endian float32 bytes to a fresh (aligned) Float32Array. */
function floatsFromBytes(bytes: Uint8Array, count: number): Float32Array {
  if (endianness() !== 'LE') throw new Error('strumgen reads tensors on little-endian hosts only');
  const out = new Float32Array(count);
  new Uint8Array(out.buffer).set(bytes.subarray(0, count * 4));
  return out;
}

function float64sFromBytes(bytes: Uint8Array, count: number): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, true);
  return out;
}

// ---------------------------------------------------------------- .npy

/** Parse a NumPy .npy file (format 1.0-3.0, little-endian float32 or float64, C order). */
export function parseNpy(file: string, buf: Uint8Array): { shape: number[]; data: Float32Array } {
  const bad = (why: string) => new UserError(`${file}: not a valid .npy file (${why})`);
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (buf.length < 10 || magic.some((b, i) => buf[i] !== b)) throw bad('no \\x93NUMPY magic');
  const major = buf[6]!;
  if (major < 1 || major > 3) throw bad(`unknown format version ${major}`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  if (buf.length < 8 + lenBytes) throw bad('truncated header');
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lenBytes;
  if (buf.length < start + headerLen) throw bad('truncated header');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(
    buf.subarray(start, start + headerLen),
  );
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw bad('header lacks descr, fortran_order or shape');
  }
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw bad(`shape (${shapeText}) is not integers`);
  if (descr !== '<f4' && descr !== '<f8') {
    throw new UserError(
      `${file}: dtype '${descr}' is not supported (weights must be little-endian float32 '<f4' or float64 '<f8')`,
    );
  }
  if (fortran === 'True') {
    throw new UserError(`${file}: Fortran-order arrays are not supported (save np.ascontiguousarray(w))`);
  }
  const itemSize = descr === '<f4' ? 4 : 8;
  const count = prod(shape);
  const dataStart = start + headerLen;
  const have = buf.length - dataStart;
  if (have !== count * itemSize) {
    throw new UserError(
      `${file}: ${have < count * itemSize ? 'truncated' : 'has trailing bytes'}: shape (${shape.join(', ')}) ` +
        `needs ${count * itemSize} data bytes, the file has ${have}`,
    );
  }
  const body = buf.subarray(dataStart);
  const data = itemSize === 4 ? floatsFromBytes(body, count) : float64sFromBytes(body, count);
  return { shape, data };
}

// ---------------------------------------------------------------- JSON

/** Flatten nested arrays that must match `shape` exactly; null when they do not. */
function flattenNested(value: unknown, shape: readonly number[], out: number[], depth = 0): boolean {
  if (depth === shape.length) {
    if (typeof value !== 'number') return false;
    out.push(value);
    return true;
  }
  if (!Array.isArray(value) || value.length !== shape[depth]) return false;
  return value.every((v) => flattenNested(v, shape, out, depth + 1));
}

/**
 * A JSON tensor file: `{"tensors": [{"name", "shape", "data"}, ...]}`, a bare array of such
 * objects, or one such object. `data` is flat row-major or nested lists matching `shape`.
 * JSON cannot hold NaN or Infinity, so strings such as "NaN" are rejected as non-numbers.
 */
export function parseJsonTensors(file: string, text: string): Layer[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new UserError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  const list = Array.isArray(doc)
    ? doc
    : doc && typeof doc === 'object' && 'tensors' in doc
      ? (doc as { tensors: unknown }).tensors
      : [doc];
  if (!Array.isArray(list)) throw new UserError(`${file}: "tensors" must be an array`);
  return list.map((t, i) => {
    const where = `${file}: tensors[${i}]`;
    if (!t || typeof t !== 'object') throw new UserError(`${where}: must be an object {name, shape, data}`);
    const { name, shape, data } = t as { name?: unknown; shape?: unknown; data?: unknown };
    const label = typeof name === 'string' && name ? name : `tensor${i}`;
    if (
      !Array.isArray(shape) ||
      shape.length === 0 ||
      shape.some((d) => !Number.isInteger(d) || (d as number) < 1)
    ) {
      throw new UserError(`${where} (${label}): "shape" must be a non-empty array of positive integers`);
    }
    const dims = shape as number[];
    const isFlat =
      Array.isArray(data) && data.length === prod(dims) && data.every((v) => typeof v === 'number');
    const flat: number[] = isFlat ? (data as number[]) : [];
    if (!isFlat && !flattenNested(data, dims, flat)) {
      throw new UserError(
        `${where} (${label}): "data" must be ${prod(dims)} numbers, flat or nested as shape [${dims.join(', ')}]`,
      );
    }
    return { name: label, shape: dims, data: Float32Array.from(flat) };
  });
}

// ---------------------------------------------------------------- ONNX

const WEIGHT_OPS = new Set(['Conv', 'ConvTranspose', 'Gemm', 'MatMul']);
const ONNX_FLOAT = 1;
const ONNX_DOUBLE = 11;
const ONNX_EXTERNAL = 1;

interface OnnxTensor {
  name?: string | null;
  dims?: (number | { toNumber(): number })[] | null;
  dataType?: number | null;
  rawData?: Uint8Array | null;
  floatData?: number[] | null;
  doubleData?: number[] | null;
  dataLocation?: number | null;
}

function onnxTensorData(file: string, t: OnnxTensor, shape: number[]): Float32Array {
  const name = t.name ?? '?';
  if (t.dataLocation === ONNX_EXTERNAL) {
    throw new UserError(`${file}: tensor ${name} keeps its data in an external file (not supported)`);
  }
  const count = prod(shape);
  const type = t.dataType ?? 0;
  const size = type === ONNX_FLOAT ? 4 : type === ONNX_DOUBLE ? 8 : 0;
  if (!size) {
    throw new UserError(`${file}: tensor ${name} has ONNX data type ${type} (only float32/float64 weights)`);
  }
  const raw = t.rawData;
  if (raw && raw.length > 0) {
    if (raw.length !== count * size) {
      throw new UserError(
        `${file}: tensor ${name}: ${raw.length} data bytes for shape [${shape.join(', ')}] (needs ${count * size})`,
      );
    }
    return size === 4 ? floatsFromBytes(raw, count) : float64sFromBytes(raw, count);
  }
  const list = size === 4 ? t.floatData : t.doubleData;
  if (!list || list.length !== count) {
    throw new UserError(
      `${file}: tensor ${name}: ${list?.length ?? 0} values for shape [${shape.join(', ')}]`,
    );
  }
  return Float32Array.from(list);
}

/** [Cin, Cout/g, ...k] ConvTranspose weight to [Cout, Cin/g, ...k] (output channels first). */
function transposeConvT(
  data: Float32Array,
  shape: number[],
  group: number,
): { shape: number[]; data: Float32Array } {
  const [cin, coutG, ...k] = shape as [number, number, ...number[]];
  const ks = prod(k);
  const cinG = cin / group;
  const out = new Float32Array(data.length);
  for (let g = 0; g < group; g++)
    for (let oc = 0; oc < coutG; oc++)
      for (let ic = 0; ic < cinG; ic++) {
        const src = ((g * cinG + ic) * coutG + oc) * ks;
        const dst = ((g * coutG + oc) * cinG + ic) * ks;
        out.set(data.subarray(src, src + ks), dst);
      }
  return { shape: [coutG * group, cinG, ...k], data: out };
}

/** [K, N] to [N, K]. */
function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  return out;
}

/**
 * The weight tensors of an ONNX model: input 1 of every Conv, ConvTranspose, Gemm and
 * MatMul node whose tensor is an initializer or a Constant node's value. Returned output
 * channels first: ConvTranspose kernels become [Cout, Cin/group, ...], MatMul and Gemm
 * (transB = 0) matrices become [N, K].
 */
export async function parseOnnx(file: string, buf: Uint8Array, opts: LoadOptions = {}): Promise<Layer[]> {
  const { default: onnxProto } = await import('onnx-proto');
  let model: ReturnType<typeof onnxProto.onnx.ModelProto.decode>;
  try {
    model = onnxProto.onnx.ModelProto.decode(buf);
  } catch (e) {
    throw new UserError(`${file}: not an ONNX model (protobuf decode failed: ${(e as Error).message})`);
  }
  const graph = model.graph;
  if (!graph || !model.irVersion || !graph.node?.length) {
    throw new UserError(`${file}: not an ONNX model (no ir_version or graph nodes)`);
  }
  const tensors = new Map<string, OnnxTensor>();
  for (const t of graph.initializer ?? []) if (t.name) tensors.set(t.name, t as OnnxTensor);
  for (const node of graph.node) {
    if (node.opType !== 'Constant') continue;
    const value = node.attribute?.find((a) => a.name === 'value')?.t;
    const out = node.output?.[0];
    if (value && out) tensors.set(out, { ...(value as OnnxTensor), name: out });
  }
  const layers: Layer[] = [];
  const seen = new Set<string>();
  for (const node of graph.node) {
    const op = node.opType ?? '';
    const wname = node.input?.[1];
    if (!WEIGHT_OPS.has(op) || !wname || seen.has(wname)) continue;
    const t = tensors.get(wname);
    if (!t) continue; // a computed input (e.g. MatMul of two activations): not a weight
    seen.add(wname);
    if (opts.layer !== undefined && wname !== opts.layer) {
      layers.push({ name: wname, shape: [], data: new Float32Array(0), op });
      continue;
    }
    let shape = (t.dims ?? []).map((d) => (typeof d === 'number' ? d : d.toNumber()));
    let data = onnxTensorData(file, t, shape);
    const attr = (n: string) => {
      const a = node.attribute?.find((x) => x.name === n)?.i;
      return a === undefined || a === null ? undefined : Number(a);
    };
    if (op === 'ConvTranspose' && shape.length >= 3) {
      ({ shape, data } = transposeConvT(data, shape, attr('group') ?? 1));
    } else if ((op === 'MatMul' || (op === 'Gemm' && !attr('transB'))) && shape.length === 2) {
      data = transpose2d(data, shape[0]!, shape[1]!);
      shape = [shape[1]!, shape[0]!];
    }
    checkFinite(file, wname, data);
    layers.push({ name: wname, shape, data, op });
  }
  return pick(file, layers, opts);
}

// ---------------------------------------------------------------- entry points

/** Load the weight tensors of a .npy, .json or .onnx file. */
export async function loadLayers(path: string, opts: LoadOptions = {}): Promise<Layer[]> {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(
      `${path}: cannot read (${code === 'ENOENT' ? 'no such file' : (e as Error).message})`,
    );
  }
  const ext = extname(path).toLowerCase();
  if (ext === '.onnx') return parseOnnx(path, buf, opts);
  let layers: Layer[];
  if (ext === '.npy') {
    const { shape, data } = parseNpy(path, buf);
    layers = [{ name: basename(path, extname(path)), shape, data }];
  } else if (ext === '.json') {
    layers = parseJsonTensors(path, buf.toString('utf8'));
  } else {
    throw new UserError(`${path}: unknown weight file type '${ext}' (use .onnx, .npy or .json)`);
  }
  const chosen = pick(path, layers, opts);
  for (const l of chosen) checkFinite(path, l.name, l.data);
  return chosen;
}

/**
 * Reshape a weight tensor (output channels first) to the quantizer's [N, K] matrix:
 * rank 2 [N, K] as is; rank 3..5 conv kernels [O, I, ...spatial] to [O, spatial..., I],
 * so k = p * I + i for kernel position p (row-major over the spatial dims) and input
 * channel i: consecutive weights, and so StruM blocks, run along input channels at a
 * fixed kernel position. Any other rank is a UserError.
 */
export function layerMatrix(layer: Pick<Layer, 'name' | 'shape' | 'data'>): {
  N: number;
  K: number;
  data: Float32Array;
  /** Input channels I (K = positions x I; a matrix's K columns are its channels). */
  channels: number;
} {
  const { shape, data, name } = layer;
  if (shape.length < 2 || shape.length > 5) {
    throw new UserError(
      `tensor ${name}: rank ${shape.length} (shape [${shape.join(', ')}]) is not a weight; ` +
        'expected a matrix [N, K] or a conv kernel [O, I, ...] of rank 3 to 5',
    );
  }
  if (shape.some((d) => d < 1)) throw new UserError(`tensor ${name}: shape [${shape.join(', ')}] is empty`);
  if (data.length !== prod(shape)) {
    throw new UserError(`tensor ${name}: ${data.length} values for shape [${shape.join(', ')}]`);
  }
  const N = shape[0]!;
  const K = data.length / N;
  if (shape.length === 2) return { N, K, data, channels: K };
  const I = shape[1]!;
  const P = K / I;
  const out = new Float32Array(data.length);
  for (let n = 0; n < N; n++) {
    const base = n * K;
    for (let i = 0; i < I; i++) for (let p = 0; p < P; p++) out[base + p * I + i] = data[base + i * P + p]!;
  }
  return { N, K, data: out, channels: I };
}
