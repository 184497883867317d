// Trains the small Fashion-MNIST CNN that `strumgen accuracy fashion-mnist` measures, and
// writes it as ONNX (models/fashion-mnist-cnn.onnx, committed). Plain typed-array code,
// seeded, deterministic on one machine; not part of the tests. Run:
//   npx tsx scripts/train-fashion-cnn.ts [--epochs 5] [--seed 1] [--out models/fashion-mnist-cnn.onnx]
// Network (input: pixels / 255, [N, 1, 28, 28]):
//   conv 1->8 3x3 pad 1, ReLU, max-pool 2 -> conv 8->16 3x3 pad 1, ReLU, max-pool 2
//   -> flatten 784 -> fc 32, ReLU -> fc 10 (logits). Adam, batch 64, cross-entropy.
// Constrained training (the seed paper's binary/ternary/low-bit weights with block sparsity):
//   --config tern-bs4 [--set tern.compression=8] [--init models/fashion-mnist-cnn.onnx]
// trains for that PE: before every batch each weight tensor goes through strumgen's own
// quantizer for the config (quantizeMatrix: its format, per-channel scale and block pruning,
// in the layerMatrix order the array uses); the forward and backward passes use the quantized
// weights and the float weights take their gradients (straight-through estimator). The model
// written holds the quantized weights (dequantized floats), so `strumgen accuracy` quantizes
// them back to the same values. --init starts from a trained float model (fine-tuning).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import onnxProto from 'onnx-proto';
import { DT, modelBytes, node, tensor, valueInfo } from '../src/accuracy/onnx-build.ts';
import { FASHION_MNIST_DIR, fashionMnist } from '../src/accuracy/tasks/fashion-mnist.ts';
import { loadConfig, parseOverride } from '../src/config/load.ts';
import type { ResolvedDpu } from '../src/config/resolve.ts';
import { Rng } from '../src/io/rng.ts';
import { layerMatrix, quantizeMatrix } from '../src/quant/index.ts';

const { values } = parseArgs({
  options: {
    epochs: { type: 'string', default: '5' },
    seed: { type: 'string', default: '1' },
    out: { type: 'string', default: 'models/fashion-mnist-cnn.onnx' },
    lr: { type: 'string', default: '0.002' },
    config: { type: 'string' },
    set: { type: 'string', multiple: true, default: [] },
    init: { type: 'string' },
  },
});
const constraint: ResolvedDpu | null = values.config
  ? await loadConfig(values.config, Object.fromEntries(values.set!.map(parseOverride)))
  : null;
const epochs = Number(values.epochs);
const rng = new Rng(Number(values.seed));

interface Param {
  readonly name: string;
  readonly dims: number[];
  readonly w: Float32Array;
  readonly g: Float32Array;
  readonly m: Float32Array;
  readonly v: Float32Array;
  /** The weights the passes use: w itself, or its quantized copy (constrained training). */
  q: Float32Array;
}
const params: Param[] = [];
function param(name: string, dims: number[], fanIn: number): Param {
  const n = dims.reduce((a, b) => a * b, 1);
  const w = new Float32Array(n);
  const std = fanIn > 0 ? Math.sqrt(2 / fanIn) : 0;
  for (let i = 0; i < n; i++) w[i] = std * rng.normal();
  const p = { name, dims, w, g: new Float32Array(n), m: new Float32Array(n), v: new Float32Array(n), q: w };
  params.push(p);
  return p;
}

const C1 = 8;
const C2 = 16;
const H1 = 32;
const W1 = param('conv1.weight', [C1, 1, 3, 3], 9);
const b1 = param('conv1.bias', [C1], 0);
const W2 = param('conv2.weight', [C2, C1, 3, 3], 72);
const b2 = param('conv2.bias', [C2], 0);
const W3 = param('fc1.weight', [H1, C2 * 49], C2 * 49);
const b3 = param('fc1.bias', [H1], 0);
const W4 = param('fc2.weight', [10, H1], H1);
const b4 = param('fc2.bias', [10], 0);

if (values.init) {
  // Start from a trained model's tensors (same names and shapes).
  const model = onnxProto.onnx.ModelProto.decode(readFileSync(values.init));
  for (const t of model.graph?.initializer ?? []) {
    const p = params.find((x) => x.name === t.name);
    if (!p || !t.rawData) continue;
    const raw = t.rawData;
    const data = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    if (data.length !== p.w.length) throw new Error(`${values.init}: ${t.name} has ${data.length} values`);
    p.w.set(data);
  }
}

const WEIGHTS = [W1, W2, W3, W4];
/** Per weight tensor: matrix position -> tensor index (layerMatrix's order: blocks along input channels). */
const ORDER = WEIGHTS.map((p) =>
  layerMatrix({ name: p.name, shape: p.dims, data: Float32Array.from({ length: p.w.length }, (_, i) => i) }),
);
/** Quantize every weight tensor for the constraint's PE into p.q (the straight-through forward weights). */
function constrain() {
  if (!constraint) return;
  WEIGHTS.forEach((p, i) => {
    const o = ORDER[i]!;
    const m = Float32Array.from(o.data, (j) => p.w[j]!);
    const qm = quantizeMatrix(constraint, m, o.N, o.K, { channels: o.channels });
    if (p.q === p.w) p.q = new Float32Array(p.w.length);
    for (let n = 0; n < o.N; n++)
      for (let k = 0; k < o.K; k++) p.q[o.data[n * o.K + k]!] = qm.values[n * qm.Kp + k]! * qm.scales[n]!;
  });
}

/** 3x3 conv, pad 1, on a zero-padded input [ci, s+2, s+2] -> [co, s, s] (pre-activation). */
function convForward(
  inPad: Float32Array,
  ci: number,
  s: number,
  w: Float32Array,
  b: Float32Array,
  co: number,
  out: Float32Array,
) {
  const sp = s + 2;
  for (let o = 0; o < co; o++) {
    for (let y = 0; y < s; y++)
      for (let x = 0; x < s; x++) {
        let acc = b[o]!;
        for (let i = 0; i < ci; i++) {
          const wb = (o * ci + i) * 9;
          const ib = i * sp * sp + y * sp + x;
          acc +=
            w[wb]! * inPad[ib]! +
            w[wb + 1]! * inPad[ib + 1]! +
            w[wb + 2]! * inPad[ib + 2]! +
            w[wb + 3]! * inPad[ib + sp]! +
            w[wb + 4]! * inPad[ib + sp + 1]! +
            w[wb + 5]! * inPad[ib + sp + 2]! +
            w[wb + 6]! * inPad[ib + 2 * sp]! +
            w[wb + 7]! * inPad[ib + 2 * sp + 1]! +
            w[wb + 8]! * inPad[ib + 2 * sp + 2]!;
        }
        out[(o * s + y) * s + x] = acc;
      }
  }
}

/** Gradients of convForward: dW, db accumulate; dInPad (may be null) gets the input gradient. */
function convBackward(
  inPad: Float32Array,
  ci: number,
  s: number,
  w: Float32Array,
  co: number,
  dOut: Float32Array,
  dW: Float32Array,
  db: Float32Array,
  dInPad: Float32Array | null,
) {
  const sp = s + 2;
  for (let o = 0; o < co; o++) {
    for (let y = 0; y < s; y++)
      for (let x = 0; x < s; x++) {
        const d = dOut[(o * s + y) * s + x]!;
        if (d === 0) continue;
        db[o]! += d;
        for (let i = 0; i < ci; i++) {
          const wb = (o * ci + i) * 9;
          const ib = i * sp * sp + y * sp + x;
          for (let ky = 0; ky < 3; ky++)
            for (let kx = 0; kx < 3; kx++) {
              const at = ib + ky * sp + kx;
              dW[wb + ky * 3 + kx]! += d * inPad[at]!;
              if (dInPad) dInPad[at]! += d * w[wb + ky * 3 + kx]!;
            }
        }
      }
  }
}

/** ReLU then 2x2 max-pool of [c, s, s] into [c, s/2, s/2]; arg keeps the winning index. */
function reluPool(z: Float32Array, c: number, s: number, out: Float32Array, arg: Int32Array) {
  const h = s / 2;
  for (let k = 0; k < c; k++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < h; x++) {
        let best = 0;
        let at = -1;
        for (let dy = 0; dy < 2; dy++)
          for (let dx = 0; dx < 2; dx++) {
            const i = (k * s + 2 * y + dy) * s + 2 * x + dx;
            if (z[i]! > best) {
              best = z[i]!;
              at = i;
            }
          }
        out[(k * h + y) * h + x] = best;
        arg[(k * h + y) * h + x] = at;
      }
}

/** Copy [c, s, s] into the interior of a zero-padded [c, s+2, s+2]. */
function pad(src: Float32Array, c: number, s: number, dst: Float32Array) {
  const sp = s + 2;
  for (let k = 0; k < c; k++)
    for (let y = 0; y < s; y++)
      dst.set(src.subarray((k * s + y) * s, (k * s + y + 1) * s), k * sp * sp + (y + 1) * sp + 1);
}

// Per-sample buffers.
const x0p = new Float32Array(30 * 30);
const z1 = new Float32Array(C1 * 784);
const p1 = new Float32Array(C1 * 196);
const a1 = new Int32Array(C1 * 196);
const p1p = new Float32Array(C1 * 16 * 16);
const z2 = new Float32Array(C2 * 196);
const p2 = new Float32Array(C2 * 49);
const a2 = new Int32Array(C2 * 49);
const h = new Float32Array(H1);
const logits = new Float32Array(10);

function forward(pixels: Uint8Array, off: number) {
  for (let y = 0; y < 28; y++)
    for (let x = 0; x < 28; x++) x0p[(y + 1) * 30 + x + 1] = pixels[off + y * 28 + x]! / 255;
  convForward(x0p, 1, 28, W1.q, b1.w, C1, z1);
  reluPool(z1, C1, 28, p1, a1);
  p1p.fill(0);
  pad(p1, C1, 14, p1p);
  convForward(p1p, C1, 14, W2.q, b2.w, C2, z2);
  reluPool(z2, C2, 14, p2, a2);
  for (let j = 0; j < H1; j++) {
    let s = b3.w[j]!;
    const base = j * 784;
    for (let k = 0; k < 784; k++) s += W3.q[base + k]! * p2[k]!;
    h[j] = Math.max(s, 0);
  }
  for (let c = 0; c < 10; c++) {
    let s = b4.w[c]!;
    for (let j = 0; j < H1; j++) s += W4.q[c * H1 + j]! * h[j]!;
    logits[c] = s;
  }
}

const dLogits = new Float32Array(10);
const dh = new Float32Array(H1);
const dp2 = new Float32Array(C2 * 49);
const dz2 = new Float32Array(C2 * 196);
const dp1p = new Float32Array(C1 * 16 * 16);
const dz1 = new Float32Array(C1 * 784);

/** Forward + backward of one sample; gradients add into the params. Returns the loss. */
function step(pixels: Uint8Array, off: number, label: number): number {
  forward(pixels, off);
  let max = -Infinity;
  for (let c = 0; c < 10; c++) max = Math.max(max, logits[c]!);
  let sum = 0;
  for (let c = 0; c < 10; c++) sum += Math.exp(logits[c]! - max);
  for (let c = 0; c < 10; c++) dLogits[c] = Math.exp(logits[c]! - max) / sum - (c === label ? 1 : 0);
  const loss = -(logits[label]! - max - Math.log(sum));
  dh.fill(0);
  for (let c = 0; c < 10; c++) {
    const d = dLogits[c]!;
    b4.g[c]! += d;
    for (let j = 0; j < H1; j++) {
      W4.g[c * H1 + j]! += d * h[j]!;
      dh[j]! += d * W4.q[c * H1 + j]!;
    }
  }
  dp2.fill(0);
  for (let j = 0; j < H1; j++) {
    if (h[j]! <= 0) continue;
    const d = dh[j]!;
    b3.g[j]! += d;
    const base = j * 784;
    for (let k = 0; k < 784; k++) {
      W3.g[base + k]! += d * p2[k]!;
      dp2[k]! += d * W3.q[base + k]!;
    }
  }
  dz2.fill(0);
  for (let k = 0; k < C2 * 49; k++) if (a2[k]! >= 0) dz2[a2[k]!] = dp2[k]!;
  dp1p.fill(0);
  convBackward(p1p, C1, 14, W2.q, C2, dz2, W2.g, b2.g, dp1p);
  dz1.fill(0);
  for (let k = 0; k < C1 * 196; k++) {
    if (a1[k]! < 0) continue;
    const c = Math.floor(k / 196);
    const r = k % 196;
    dz1[a1[k]!] = dp1p[c * 256 + (Math.floor(r / 14) + 1) * 16 + (r % 14) + 1]!;
  }
  convBackward(x0p, 1, 28, W1.q, C1, dz1, W1.g, b1.g, null);
  return loss;
}

let t = 0;
function adam(lr: number, batch: number) {
  t++;
  const b1c = 1 - 0.9 ** t;
  const b2c = 1 - 0.999 ** t;
  for (const p of params) {
    for (let i = 0; i < p.w.length; i++) {
      const g = p.g[i]! / batch;
      p.m[i] = 0.9 * p.m[i]! + 0.1 * g;
      p.v[i] = 0.999 * p.v[i]! + 0.001 * g * g;
      p.w[i]! -= (lr * (p.m[i]! / b1c)) / (Math.sqrt(p.v[i]! / b2c) + 1e-8);
    }
    p.g.fill(0);
  }
}

function testAccuracy(set: ReturnType<typeof fashionMnist>): number {
  let right = 0;
  for (let n = 0; n < set.count; n++) {
    forward(set.pixels, n * 784);
    let best = 0;
    for (let c = 1; c < 10; c++) if (logits[c]! > logits[best]!) best = c;
    if (best === set.labels[n]) right++;
  }
  return right / set.count;
}

const train = fashionMnist(FASHION_MNIST_DIR, 'train');
const test = fashionMnist(FASHION_MNIST_DIR, 'test');
const BATCH = 64;
const order = Int32Array.from({ length: train.count }, (_, i) => i);
const t0 = performance.now();
for (let e = 0; e < epochs; e++) {
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  // Cosine decay of the learning rate over the whole run.
  let loss = 0;
  for (let b = 0; b < order.length; b += BATCH) {
    const n = Math.min(BATCH, order.length - b);
    constrain();
    for (let k = 0; k < n; k++) loss += step(train.pixels, order[b + k]! * 784, train.labels[order[b + k]!]!);
    const progress = (e + b / order.length) / epochs;
    adam(Number(values.lr) * 0.5 * (1 + Math.cos(Math.PI * progress)), n);
  }
  constrain();
  const acc = testAccuracy(test);
  process.stderr.write(
    `epoch ${e + 1}/${epochs}: train loss ${(loss / order.length).toFixed(4)}, test top-1 ${(100 * acc).toFixed(2)}%, ` +
      `${((performance.now() - t0) / 1000).toFixed(0)} s\n`,
  );
}

constrain();
const constrained = constraint
  ? `; constrained for ${constraint.name} (${constraint.pe.low}, config hash ${constraint.shortHash}${values.set!.length ? `, ${values.set!.join(' ')}` : ''}${values.init ? `, from ${values.init}` : ''})`
  : '';
const bytes = modelBytes({
  name: 'fashion_mnist_cnn',
  docString:
    `strumgen scripts/train-fashion-cnn.ts --epochs ${epochs} --seed ${values.seed} --lr ${values.lr}; ` +
    `input: pixels / 255; test top-1 ${(100 * testAccuracy(test)).toFixed(2)}% (${constraint ? 'quantized' : 'float'}, 10000 images)${constrained}`,
  nodes: [
    node('Conv', ['image', 'conv1.weight', 'conv1.bias'], ['conv1'], {
      kernel_shape: [3, 3],
      pads: [1, 1, 1, 1],
    }),
    node('Relu', ['conv1'], ['relu1']),
    node('MaxPool', ['relu1'], ['pool1'], { kernel_shape: [2, 2], strides: [2, 2] }),
    node('Conv', ['pool1', 'conv2.weight', 'conv2.bias'], ['conv2'], {
      kernel_shape: [3, 3],
      pads: [1, 1, 1, 1],
    }),
    node('Relu', ['conv2'], ['relu2']),
    node('MaxPool', ['relu2'], ['pool2'], { kernel_shape: [2, 2], strides: [2, 2] }),
    node('Flatten', ['pool2'], ['flat'], { axis: 1 }),
    node('Gemm', ['flat', 'fc1.weight', 'fc1.bias'], ['fc1'], { transB: 1 }),
    node('Relu', ['fc1'], ['relu3']),
    node('Gemm', ['relu3', 'fc2.weight', 'fc2.bias'], ['logits'], { transB: 1 }),
  ],
  initializers: params.map((p) => tensor(p.name, p.dims, p.q)),
  inputs: [valueInfo('image', DT.FLOAT, ['N', 1, 28, 28])],
  outputs: [valueInfo('logits', DT.FLOAT, ['N', 10])],
});
mkdirSync(dirname(values.out!), { recursive: true });
writeFileSync(values.out!, bytes);
process.stderr.write(`wrote ${values.out} (${bytes.length} bytes)\n`);
