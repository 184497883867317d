// Run a task under each scheme: quantize the model's weights, write them back into the
// graph, run it with onnxruntime on every sample, and score it against the labels.
// Per-sample results are kept so every scheme can be compared with INT8 on the same samples.
import { isBaselineFormat } from '../format/registry.ts';
import { type ActQuantPlan, emulateActivations } from './act-quant.ts';
import type { LoadedModel } from './model.ts';
import { createSession, quantizeModel, runFloat } from './model.ts';
import { ctcGreedy, editDistance, lineBatch } from './ocr.ts';
import { int8Of, type Scheme } from './schemes.ts';
import { type ClassifyData, type OcrData, sampleCount, type Task } from './task.ts';

export interface SampleScores {
  /** 1 where the sample is right (top-1, or the exact line). */
  readonly correct: Uint8Array;
  /** OCR: edit distance to the label and the label's length, per line. */
  readonly edits?: Int32Array;
  readonly refLength?: Int32Array;
  /** Classifier: the predicted class per sample; OCR: the text of the first few wrong lines. */
  readonly predictions?: Int32Array;
  readonly examples?: readonly { label: string; read: string }[];
}

export const CLASSIFY_BATCH = 256;
/** Lines per recognizer run (sorted by width so padding stays small). */
export const OCR_BATCH = 8;

export type Progress = (done: number, total: number) => void;

async function classify(
  model: LoadedModel,
  bytes: Uint8Array,
  d: ClassifyData,
  progress: Progress,
): Promise<SampleScores> {
  const session = await createSession(bytes, model.file);
  const per = d.sampleDims.reduce((a, b) => a * b, 1);
  const correct = new Uint8Array(d.count);
  const predictions = new Int32Array(d.count);
  try {
    for (let at = 0; at < d.count; at += CLASSIFY_BATCH) {
      const n = Math.min(CLASSIFY_BATCH, d.count - at);
      const input = new Float32Array(n * per);
      for (let i = 0; i < n; i++) d.sample(at + i, input, i * per);
      const out = await runFloat(session, model.inputName, model.outputName, input, [n, ...d.sampleDims]);
      const C = out.data.length / n;
      for (let i = 0; i < n; i++) {
        let best = 0;
        for (let c = 1; c < C; c++) if (out.data[i * C + c]! > out.data[i * C + best]!) best = c;
        predictions[at + i] = best;
        correct[at + i] = best === d.labels[at + i] ? 1 : 0;
      }
      progress(at + n, d.count);
    }
  } finally {
    await session.release();
  }
  return { correct, predictions };
}

/** Label and reading compared after trimming and collapsing runs of spaces. */
export const normalizeLine = (s: string) => s.trim().replace(/\s+/g, ' ');

async function recognize(
  model: LoadedModel,
  bytes: Uint8Array,
  d: OcrData,
  progress: Progress,
): Promise<SampleScores> {
  const session = await createSession(bytes, model.file);
  const n = d.lines.length;
  const order = Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => d.lines[a]!.width - d.lines[b]!.width || a - b,
  );
  const correct = new Uint8Array(n);
  const edits = new Int32Array(n);
  const refLength = new Int32Array(n);
  const examples: { label: string; read: string }[] = [];
  const reads: string[] = new Array(n);
  try {
    for (let at = 0; at < n; at += OCR_BATCH) {
      const idx = order.slice(at, at + OCR_BATCH);
      const batch = lineBatch(idx.map((i) => d.lines[i]!));
      const out = await runFloat(session, model.inputName, model.outputName, batch.data, batch.dims);
      const [, T, C] = out.dims as [number, number, number];
      idx.forEach((i, k) => {
        reads[i] = normalizeLine(ctcGreedy(d.charset, out.data, k * T * C, T, C));
      });
      progress(Math.min(n, at + OCR_BATCH), n);
    }
  } finally {
    await session.release();
  }
  for (let i = 0; i < n; i++) {
    const label = normalizeLine(d.lines[i]!.label);
    edits[i] = editDistance(reads[i]!, label);
    refLength[i] = [...label].length;
    correct[i] = edits[i] === 0 ? 1 : 0;
    if (!correct[i] && examples.length < 5) examples.push({ label, read: reads[i]! });
  }
  return { correct, edits, refLength, examples };
}

export interface SchemeScores {
  readonly scheme: Scheme;
  readonly scores: SampleScores;
  /** Layers kept INT8 by an exception. */
  readonly keptInt8: readonly string[];
  readonly seconds: number;
}

/** One scheme over the whole task. */
export async function evaluateScheme(
  task: Task,
  model: LoadedModel,
  scheme: Scheme,
  keepInt8: readonly string[],
  progress: Progress,
  /** Per layer, per input channel: mean square calibration activation (scopes group, layer). */
  sensitivity?: ReadonlyMap<string, Float64Array>,
  /** --activations int8: the activation quantization (and SDP rule) emulated at every weight layer's input. */
  acts?: ActQuantPlan,
): Promise<SchemeScores> {
  const t0 = performance.now();
  const kept =
    scheme.kind === 'float' || (scheme.kind === 'config' && isBaselineFormat(scheme.cfg.pe.low))
      ? []
      : keepInt8;
  const q = quantizeModel(model, scheme, kept, kept.length ? int8Of(scheme) : undefined, sensitivity);
  const bytes = acts
    ? emulateActivations(
        q.bytes,
        model.layers.map((l) => l.name),
        acts,
      )
    : q.bytes;
  const scores =
    task.data.kind === 'classify'
      ? await classify(model, bytes, task.data, progress)
      : await recognize(model, bytes, task.data, progress);
  // Mask scope 'layer' keeps the layers whose input channels cannot be permuted INT8 too.
  const fixed = q.layers.filter((l) => l.scheme !== scheme && !kept.includes(l.name)).map((l) => l.name);
  return { scheme, scores, keptInt8: [...kept, ...fixed], seconds: (performance.now() - t0) / 1000 };
}

export { sampleCount };
