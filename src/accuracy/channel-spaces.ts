// Which weight layers of an ONNX graph can have their input channels permuted (mask scope
// 'layer', docs/CODESIGN.md). A permutation of a layer's input channels is folded into the
// producers of its input: the tensors joined by channel-wise operations (activations,
// batch norm, pooling, element-wise joins such as a residual Add) form one channel space,
// whose producers must all be weight layers (their output channels are permuted) or
// channel-wise steps inside the space. A space that touches the graph input or output, or
// any operation that mixes or reshapes channels (Reshape, Flatten, Transpose, Concat,
// reductions, ...), is pinned: its consumers keep a stated precision. In a free space the
// first consuming weight layer (graph order) chooses the levels and the permutation; the
// other consumers follow that permutation (they share their input tensor).
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** Operations that act on each channel alone (element-wise, or spatial per channel). */
const CHANNEL_WISE = new Set([
  'Relu',
  'Clip',
  'HardSigmoid',
  'HardSwish',
  'Sigmoid',
  'Tanh',
  'LeakyRelu',
  'Elu',
  'Selu',
  'Erf',
  'BatchNormalization',
  'MaxPool',
  'AveragePool',
  'GlobalAveragePool',
  'GlobalMaxPool',
  'Identity',
  'Dropout',
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Pad',
  'Resize',
  'Upsample',
]);
const WEIGHTED = new Set(['Conv', 'Gemm', 'MatMul']);

export type ChannelRole =
  | { readonly kind: 'choose' }
  | { readonly kind: 'follow'; readonly of: string }
  | { readonly kind: 'fixed'; readonly reason: string };

/** Role of each weight layer (by weight tensor name) under mask scope 'layer'. */
export function channelRoles(bytes: Uint8Array): Map<string, ChannelRole> {
  const graph = onnx.ModelProto.decode(bytes).graph!;
  const dimsOf = new Map<string, number[]>();
  for (const t of graph.initializer ?? []) dimsOf.set(t.name ?? '', (t.dims ?? []).map(Number));
  for (const n of graph.node ?? []) {
    if (n.opType !== 'Constant' || !n.output?.[0]) continue;
    const t = n.attribute?.find((a) => a.name === 'value')?.t;
    dimsOf.set(n.output[0], (t?.dims ?? []).map(Number));
  }
  const constants = new Set(dimsOf.keys());
  const parent = new Map<string, string>();
  const find = (t: string): string => {
    let r = t;
    while (parent.has(r) && parent.get(r) !== r) r = parent.get(r)!;
    parent.set(t, r);
    return r;
  };
  const pinned = new Set<string>();
  const pinReason = new Map<string, string>();
  const pin = (t: string, why: string) => {
    const r = find(t);
    if (!pinned.has(r)) pinReason.set(r, why);
    pinned.add(r);
  };
  const union = (a: string, b: string) => {
    const ra = find(a);
    const rb = find(b);
    if (ra === rb) return;
    parent.set(rb, ra);
    if (pinned.has(rb)) {
      pinned.add(ra);
      if (!pinReason.has(ra)) pinReason.set(ra, pinReason.get(rb)!);
    }
  };
  const data = (names: readonly string[] | null | undefined) =>
    (names ?? []).filter((n) => n && !constants.has(n));
  const consumers: { weight: string; input: string }[] = [];
  for (const n of graph.node ?? []) {
    const op = n.opType ?? '';
    if (op === 'Constant') continue;
    const ins = data(n.input);
    const outs = data(n.output);
    const weight = n.input?.[1];
    const group = Number(n.attribute?.find((a) => a.name === 'group')?.i ?? 1);
    if (WEIGHTED.has(op) && weight && constants.has(weight)) {
      if (op === 'Conv' && group > 1) {
        // Depthwise (or grouped) conv: channels pass through (grouped ones are pinned).
        const dims = dimsOf.get(weight);
        if (dims && dims[1] === 1) for (const o of outs) union(ins[0]!, o);
        else for (const t of [...ins, ...outs]) pin(t, `grouped ${op}`);
        continue;
      }
      consumers.push({ weight, input: ins[0]! });
      continue;
    }
    if (CHANNEL_WISE.has(op)) {
      for (const t of [...ins, ...outs]) union(ins[0] ?? t, t);
      continue;
    }
    for (const t of [...ins, ...outs]) pin(t, `${op} ${n.name ?? ''}`.trim());
  }
  for (const i of graph.input ?? []) if (i.name && !constants.has(i.name)) pin(i.name, 'the network input');
  for (const o of graph.output ?? []) if (o.name) pin(o.name, 'the network output');
  const roles = new Map<string, ChannelRole>();
  const chooser = new Map<string, string>();
  for (const c of consumers) {
    const space = find(c.input);
    if (pinned.has(space)) {
      roles.set(c.weight, { kind: 'fixed', reason: `its input is reached through ${pinReason.get(space)}` });
      continue;
    }
    const first = chooser.get(space);
    if (first === undefined) {
      chooser.set(space, c.weight);
      roles.set(c.weight, { kind: 'choose' });
    } else roles.set(c.weight, { kind: 'follow', of: first });
  }
  return roles;
}
