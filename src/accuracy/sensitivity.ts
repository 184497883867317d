// Per-input-channel sensitivity from calibration activations (docs/CODESIGN.md): the mean
// square of each weight layer's input, per input channel, over calibration samples of the
// float network. The mask scopes that choose per input channel ('layer') or share masks
// ('group') weight each channel's quantization cost by it (QuantizeOptions.sensitivity), so
// a channel that carries large activations keeps its precision.
import onnxProto from 'onnx-proto';
import { UserError } from '../config/errors.ts';
import { createSession, type LoadedModel, ort } from './model.ts';
import type { ClassifyData } from './task.ts';

const { onnx } = onnxProto;

/**
 * Layer name (its weight tensor) -> mean square input activation per input channel. Layers
 * whose input is the network input or whose channel count cannot be read are left out (the
 * quantizer then uses the plain summed error for them).
 */
export async function channelSensitivity(
  model: LoadedModel,
  data: ClassifyData,
  limit = 256,
): Promise<Map<string, Float64Array>> {
  const proto = onnx.ModelProto.decode(model.bytes);
  const g = proto.graph!;
  const names = new Set(model.layers.map((l) => l.name));
  // The activation each weight layer multiplies: its node's first input.
  const inputOf = new Map<string, string>();
  for (const n of g.node ?? []) {
    const w = n.input?.[1];
    const x = n.input?.[0];
    if (w && x && names.has(w) && !inputOf.has(w) && x !== model.inputName) inputOf.set(w, x);
  }
  const wanted = [...new Set(inputOf.values())];
  for (const name of wanted) {
    if (!g.output!.some((o) => o.name === name)) g.output!.push(onnx.ValueInfoProto.create({ name }));
  }
  const session = await createSession(onnx.ModelProto.encode(proto).finish(), model.file);
  const o = await ort();
  const per = data.sampleDims.reduce((a, b) => a * b, 1);
  const count = Math.min(limit, data.count);
  if (count < 1) throw new UserError('sensitivity: no calibration samples');
  const sums = new Map<string, { sq: Float64Array; n: number }>();
  try {
    for (let at = 0; at < count; at += 64) {
      const n = Math.min(64, count - at);
      const input = new Float32Array(n * per);
      for (let i = 0; i < n; i++) data.sample(at + i, input, i * per);
      const res = await session.run({
        [model.inputName]: new o.Tensor('float32', input, [n, ...data.sampleDims]),
      });
      for (const name of wanted) {
        const t = res[name]!;
        const d = t.data as Float32Array;
        const dims = t.dims.map(Number);
        // Conv inputs are NCHW (channel axis 1); matrix inputs have the channels last.
        const C = dims.length === 4 ? dims[1]! : dims[dims.length - 1]!;
        const inner = dims.length === 4 ? dims[2]! * dims[3]! : 1;
        let s = sums.get(name);
        if (!s) {
          s = { sq: new Float64Array(C), n: 0 };
          sums.set(name, s);
        }
        for (let k = 0; k < d.length; k++) {
          const c = dims.length === 4 ? Math.floor(k / inner) % C : k % C;
          s.sq[c]! += d[k]! * d[k]!;
        }
        s.n += d.length / C;
      }
    }
  } finally {
    await session.release();
  }
  const out = new Map<string, Float64Array>();
  for (const l of model.layers) {
    const x = inputOf.get(l.name);
    const s = x ? sums.get(x) : undefined;
    const channels = l.shape.length === 2 ? l.data.length / l.shape[0]! : l.shape[1]!;
    if (!s || s.sq.length !== channels) continue;
    out.set(
      l.name,
      s.sq.map((v) => v / s.n),
    );
  }
  return out;
}
