// Why SDP costs so much more on the OCR recognizer than on the Fashion-MNIST CNN
// (docs/ACCURACY.md "Int8 activations"): the recognizer's activations are signed (hard-swish,
// layer norm, attention), and in SDP's two's-complement split a small negative value has two
// large parts (-1 = hi -1 x 16 + lo 15: keys 16 and 15), so groups with negative members lose
// large parts. For the recognizer's weight-layer inputs grouped by channels (the layers whose
// groups stay inside one kernel position, and the matrix layers), on calibration lines: the
// share of negative int8 activations and the SQNR of the SDP rule (src/format/sdp.ts) on the
// groups with and without a negative member.
// Usage: npx tsx bench/sdp-ocr-acts.ts [--lines 16] [--group 4] [--keep 4]
import { parseArgs } from 'node:util';
import onnxProto from 'onnx-proto';
import {
  activationMax,
  activationPlan,
  activationTensors,
  calibrationBatches,
} from '../src/accuracy/act-quant.ts';
import { createSession, loadModel, ort } from '../src/accuracy/model.ts';
import { lineBatch } from '../src/accuracy/ocr.ts';
import { ocrTask } from '../src/accuracy/tasks/ocr.ts';
import { sdpApply } from '../src/format/sdp.ts';
import { roundHalfEven } from '../src/quant/index.ts';

const { values } = parseArgs({
  options: {
    lines: { type: 'string', default: '16' },
    group: { type: 'string', default: '4' },
    keep: { type: 'string', default: '4' },
  },
});
const G = Number(values.group);
const K = Number(values.keep);
const task = await ocrTask(Number(values.lines), 1);
if (task.data.kind !== 'ocr') throw new Error('ocr task');
const model = await loadModel(task.model);
const calib = await calibrationBatches(task);
const scales = activationPlan(await activationMax(model, calib.batches), 8).scales;
// The tensors grouped by channels: inputs of a Conv whose per-group channel count is a multiple of G, or of a matrix.
const proto = onnxProto.onnx.ModelProto.decode(model.bytes);
const g = proto.graph!;
const weightDims = new Map(model.layers.map((l) => [l.name, l.shape]));
const channelGrouped = new Set<string>();
for (const n of g.node ?? []) {
  const w = weightDims.get(n.input?.[1] ?? '');
  if (!w || !['Conv', 'MatMul', 'Gemm'].includes(n.opType ?? '')) continue;
  if (n.opType !== 'Conv' || w[1]! % G === 0) channelGrouped.add(n.input![0]!);
}
const wanted = activationTensors(model).filter((t) => channelGrouped.has(t) && t !== model.inputName);
for (const name of wanted) g.output!.push(onnxProto.onnx.ValueInfoProto.create({ name }));
const session = await createSession(onnxProto.onnx.ModelProto.encode(proto).finish(), model.file);
const o = await ort();
// [negative-free groups, groups with a negative member]: signal and error energy, values.
const acc = [
  { sig: 0, err: 0, n: 0 },
  { sig: 0, err: 0, n: 0 },
];
let negatives = 0;
let total = 0;
const lines = [...task.data.lines].sort((a, b) => a.width - b.width);
for (let at = 0; at < lines.length; at += 8) {
  const b = lineBatch(lines.slice(at, at + 8));
  const res = await session.run({ [model.inputName]: new o.Tensor('float32', b.data, b.dims) });
  for (const name of wanted) {
    const t = res[name]!;
    const d = t.data as Float32Array;
    const dims = t.dims.map(Number);
    const s = scales.get(name)!;
    // Channels and their stride: NCHW (axis 1) or a matrix's last axis.
    const C = dims.length === 4 ? dims[1]! : dims.at(-1)!;
    const stride = dims.length === 4 ? dims[2]! * dims[3]! : 1;
    const outer = d.length / (C * stride);
    const group = new Array<number>(G);
    for (let i = 0; i < outer; i++)
      for (let p = 0; p < stride; p++)
        for (let c = 0; c < C; c += G) {
          let neg = 0;
          for (let j = 0; j < G; j++) {
            const x = d[(i * C + c + j) * stride + p]!;
            group[j] = Math.max(-127, Math.min(127, roundHalfEven(x / s)));
            if (group[j]! < 0) neg = 1;
          }
          const kept = sdpApply(group, G, K, 8);
          const a = acc[neg]!;
          for (let j = 0; j < G; j++) {
            a.sig += group[j]! ** 2;
            a.err += (group[j]! - kept[j]!) ** 2;
            if (group[j]! < 0) negatives++;
          }
          a.n += G;
          total += G;
        }
  }
}
await session.release();
const db = (a: { sig: number; err: number }) =>
  a.err === 0 ? 'inf' : (10 * Math.log10(a.sig / a.err)).toFixed(1);
const all = { sig: acc[0]!.sig + acc[1]!.sig, err: acc[0]!.err + acc[1]!.err };
console.log(
  `OCR recognizer, ${wanted.length} channel-grouped weight-layer inputs, ${lines.length} lines, SDP G${G} K${K}:\n` +
    `  negative int8 activations: ${((100 * negatives) / total).toFixed(1)}% of ${total}\n` +
    `  groups with a negative member: ${((100 * acc[1]!.n) / total).toFixed(1)}% of the values\n` +
    `  SDP SQNR: all ${db(all)} dB; groups without a negative ${db(acc[0]!)} dB; groups with one ${db(acc[1]!)} dB`,
);
