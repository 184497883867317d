// `strumgen accuracy`: a task (Fashion-MNIST, the OCR recognizer, or a user's model and
// data) under each weight scheme, scored with intervals against INT8 (docs/ACCURACY.md).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { type OutputMarker, replaceOutputDir } from '../config/atomic.ts';
import { UserError } from '../config/errors.ts';
import { structureOf } from '../format/structure.ts';
import { activationMax, activationPlan, calibrationBatches } from './act-quant.ts';
import { evaluateScheme, type Progress, type SchemeScores } from './evaluate.ts';
import { loadModel, resolveExceptions } from './model.ts';
import { type AccuracyReport, renderMarkdown, renderSvg, summarizeSchemes } from './report.ts';
import { isInt8, parseSchemes, type Scheme, type SchemeContext } from './schemes.ts';
import { channelSensitivity } from './sensitivity.ts';
import { sampleCount, type Task } from './task.ts';
import { FASHION_MNIST_DIR, fashionMnistTask } from './tasks/fashion-mnist.ts';
import { ocrTask } from './tasks/ocr.ts';
import { userTask } from './tasks/user.ts';

export { type AccuracyReport, schemeTable } from './report.ts';
export { parseSchemes, type Scheme } from './schemes.ts';

export const TASKS = ['fashion-mnist', 'ocr'] as const;

export interface TaskOptions {
  readonly data?: string;
  readonly charset?: string;
  readonly limit?: number;
  readonly seed?: number;
}

/** A built-in task by name, or a user's .onnx model with --data. */
export async function loadTask(name: string, o: TaskOptions = {}): Promise<Task> {
  if (o.limit !== undefined && !(Number.isInteger(o.limit) && o.limit > 0)) {
    throw new UserError(`--limit: ${o.limit} is not a positive whole number`);
  }
  if (name === 'fashion-mnist') return fashionMnistTask(o.data ?? FASHION_MNIST_DIR, o.limit);
  if (name === 'ocr') {
    if (o.data)
      throw new UserError('ocr renders its own lines; for your own line images give your model and --data');
    return ocrTask(o.limit, o.seed);
  }
  if (/\.onnx$/i.test(name)) return userTask(name, o);
  throw new UserError(`accuracy: '${name}' is not a task (${TASKS.join(', ')}) or an .onnx model`);
}

export function onnxruntimeVersion(): string {
  try {
    const req = createRequire(import.meta.url);
    return (
      JSON.parse(readFileSync(req.resolve('onnxruntime-node/package.json'), 'utf8')) as { version: string }
    ).version;
  } catch {
    return 'unknown';
  }
}

export interface AccuracyOptions {
  /** Comma list (schemes.ts parseSchemes); INT8 is added as the reference when missing. */
  readonly schemes: string;
  readonly context: SchemeContext;
  /** Layers kept at INT8 under every scheme: names, first, last. */
  readonly keepInt8?: readonly string[];
  readonly command?: string;
  readonly onProgress?: (scheme: string, index: number, count: number) => Progress;
  /**
   * Weight each input channel's cost by its mean square activation on the task's calibration
   * samples (mask scopes group and layer; classifiers with calibration data only).
   */
  readonly sensitivity?: boolean;
  /**
   * int8 activations at every weight layer's input (calibrated scales; SDP designs also drop
   * activation parts): every scheme but float (act-quant.ts).
   */
  readonly activations?: boolean;
  readonly onCalibration?: (m: string) => void;
}

/** What --activations int8 ran with (the report's `activations`). */
export interface ActivationsInfo {
  readonly kind: 'int8';
  readonly calibration: string;
  /** Weight-layer input tensors quantized, and the largest / smallest scale at 8 bits. */
  readonly tensors: number;
  readonly maxScale: number;
  readonly minScale: number;
}

/** Every scheme over the task; the report without the integer / RTL parts. */
export async function runAccuracy(
  task: Task,
  o: AccuracyOptions,
): Promise<{ report: AccuracyReport; runs: SchemeScores[] }> {
  let schemes: Scheme[] = await parseSchemes(o.schemes, o.context);
  if (!schemes.some(isInt8)) schemes = [...(await parseSchemes('int8', o.context)), ...schemes];
  const model = await loadModel(task.model);
  const keep = resolveExceptions(model, o.keepInt8 ?? []);
  let sensitivity: Map<string, Float64Array> | undefined;
  if (o.sensitivity) {
    if (!task.calibration) {
      throw new UserError(`--sensitivity: task '${task.name}' has no calibration samples (classifiers only)`);
    }
    sensitivity = await channelSensitivity(model, task.calibration().data);
  }
  let actMax: Map<string, number> | undefined;
  let activations: ActivationsInfo | undefined;
  if (o.activations) {
    const calib = await calibrationBatches(task);
    o.onCalibration?.(`calibrating activation scales on ${calib.source}`);
    actMax = await activationMax(model, calib.batches);
    const s8 = [...activationPlan(actMax, 8).scales.values()];
    activations = {
      kind: 'int8',
      calibration: calib.source,
      tensors: s8.length,
      maxScale: Math.max(...s8),
      minScale: Math.min(...s8),
    };
  }
  const runs: SchemeScores[] = [];
  for (const [i, s] of schemes.entries()) {
    const progress = o.onProgress?.(s.id, i, schemes.length) ?? (() => {});
    const acts =
      actMax && s.kind !== 'float'
        ? activationPlan(
            actMax,
            s.kind === 'config' ? s.cfg.activation.bits : 8,
            // A PE that selects activation parts (SDP on the activations) drops them in the graph too.
            (s.kind === 'config' && structureOf(s.cfg).activationSelection) || undefined,
          )
        : undefined;
    runs.push(await evaluateScheme(task, model, s, keep, progress, sensitivity, acts));
  }
  const base = accuracyReport(task, model.bytes, runs, o.command ?? '');
  const report = activations ? { ...base, activations } : base;
  return { report, runs };
}

/** The report of scheme runs over a task (the model's bytes give its sha256). */
export function accuracyReport(
  task: Task,
  modelBytes: Uint8Array,
  runs: readonly SchemeScores[],
  command: string,
): AccuracyReport {
  const { results, reference } = summarizeSchemes(runs);
  return {
    schema: 'strumgen.accuracy/1',
    task: task.name,
    model: task.model,
    modelSha256: createHash('sha256').update(modelBytes).digest('hex'),
    source: task.source,
    metric: task.data.kind === 'classify' ? 'top-1' : 'exact lines',
    samples: sampleCount(task),
    schemes: results,
    reference,
    tools: { onnxruntime: onnxruntimeVersion(), node: process.version },
    command,
  };
}

const ACCURACY_OUTPUT: OutputMarker = {
  kind: 'accuracy',
  file: 'accuracy.json',
  owns: (j) => j.schema === 'strumgen.accuracy/1',
  label: 'a strumgen accuracy report',
};

/** accuracy.json, accuracy.md and accuracy.svg into dir, replaced as a whole. */
export async function writeAccuracyReport(
  report: AccuracyReport,
  dir: string,
  markdownExtra = '',
): Promise<string> {
  return replaceOutputDir(dir, ACCURACY_OUTPUT, async (tmp) => {
    await writeFile(join(tmp, 'accuracy.json'), `${JSON.stringify(report, null, 2)}\n`);
    await writeFile(join(tmp, 'accuracy.md'), renderMarkdown(report, markdownExtra));
    await writeFile(join(tmp, 'accuracy.svg'), renderSvg(report));
  });
}
