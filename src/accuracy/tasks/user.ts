// A model and data strumgen has never seen (docs/ACCURACY.md, "Your own model and data"):
// - a classifier: DIR holds an IDX pair (*images-idx3-ubyte[.gz], *labels-idx1-ubyte[.gz]),
//   or image files and labels.txt, one `<image path relative to DIR> <class index>` per line;
//   inputs are pixels / 255, NCHW, grey for 1 channel and RGB for 3, scaled to the model's H x W;
// - a CTC text recognizer (with --charset KEYS): DIR holds line images and labels.txt, one
//   `<image path><TAB><text>` per line; images are scaled to 48 rows.
// Every problem is one line naming the file and line.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { UserError } from '../../config/errors.ts';
import { readIdxPair } from '../idx.ts';
import { type LoadedModel, loadModel } from '../model.ts';
import { LINE_HEIGHT, readCharset, unknownChar } from '../ocr.ts';
import { readImage } from '../render.ts';
import type { ClassifyData, Task } from '../task.ts';
import { imageSetData } from './fashion-mnist.ts';

export const LABELS_FILE = 'labels.txt';

interface LabelLine {
  readonly file: string;
  readonly label: string;
  /** Where it was written: labels.txt:line. */
  readonly at: string;
}

/** labels.txt: `path<sep>label` per line; blank lines and lines starting with # are skipped. */
export function readLabelsFile(dir: string, sep: 'tab' | 'space'): LabelLine[] {
  const file = join(dir, LABELS_FILE);
  if (!existsSync(file))
    throw new UserError(`${dir}: no ${LABELS_FILE} (see docs/ACCURACY.md for the data formats)`);
  const out: LabelLine[] = [];
  readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .forEach((line, i) => {
      const at = `${file}:${i + 1}`;
      if (!line.trim() || line.startsWith('#')) return;
      const m = sep === 'tab' ? /^([^\t]+)\t(.*)$/.exec(line) : /^(.+?)\s+(\S+)\s*$/.exec(line);
      if (!m) {
        throw new UserError(
          `${at}: expected '<image>${sep === 'tab' ? '<TAB><text>' : ' <class index>'}', got '${line.slice(0, 60)}'`,
        );
      }
      const path = join(dir, m[1]!);
      if (!existsSync(path) || !statSync(path).isFile())
        throw new UserError(`${at}: no such image '${m[1]}'`);
      out.push({ file: path, label: m[2]!, at });
    });
  if (out.length === 0) throw new UserError(`${file}: no labeled images`);
  return out;
}

/** An IDX pair in dir, if there is one. */
function idxPair(dir: string): { images: string; labels: string } | null {
  const names = readdirSync(dir);
  const images = names.find((n) => /images-idx3-ubyte(\.gz)?$/.test(n));
  const labels = names.find((n) => /labels-idx1-ubyte(\.gz)?$/.test(n));
  return images && labels ? { images: join(dir, images), labels: join(dir, labels) } : null;
}

async function classifierData(model: LoadedModel, dir: string, limit?: number): Promise<ClassifyData> {
  const classes = model.outputDims.at(-1)! > 0 ? model.outputDims.at(-1)! : undefined;
  const pair = idxPair(dir);
  if (pair) {
    const set = readIdxPair(pair.images, pair.labels, classes);
    return imageSetData(set, limit, classes ?? Math.max(...set.labels) + 1);
  }
  const dims = model.inputDims;
  const [C, H, W] = dims.slice(1) as [number, number, number];
  if (dims.length !== 4 || !(C === 1 || C === 3) || !(H > 0) || !(W > 0)) {
    throw new UserError(
      `${model.file}: input ${model.inputName} is [${dims.join(', ')}]; image folders need [N, 1 or 3, H, W] with fixed H, W`,
    );
  }
  const entries = readLabelsFile(dir, 'space').slice(0, limit);
  const labels = entries.map((e) => {
    const v = Number(e.label);
    if (!Number.isInteger(v) || v < 0 || (classes !== undefined && v >= classes)) {
      throw new UserError(
        `${e.at}: label '${e.label}' is not a class index${classes !== undefined ? ` in 0..${classes - 1}` : ''}`,
      );
    }
    return v;
  });
  const px = H * W;
  const inputs = new Float32Array(entries.length * C * px);
  for (const [n, e] of entries.entries()) {
    const img = await readImage(e.file, W, H);
    for (let c = 0; c < C; c++)
      for (let p = 0; p < px; p++) {
        const v = C === 1 ? img.gray[p]! : img.rgba[p * 4 + c]!;
        inputs[(n * C + c) * px + p] = v / 255;
      }
  }
  return {
    kind: 'classify',
    count: entries.length,
    sampleDims: [C, H, W],
    sample: (i, out, offset) => out.set(inputs.subarray(i * C * px, (i + 1) * C * px), offset),
    labels,
    classes: classes ?? Math.max(...labels) + 1,
  };
}

export interface UserTaskOptions {
  readonly data?: string;
  /** Character list of a CTC recognizer (one character per line): makes it an OCR task. */
  readonly charset?: string;
  readonly limit?: number;
}

export async function userTask(modelFile: string, opts: UserTaskOptions): Promise<Task> {
  if (!opts.data) throw new UserError(`${modelFile}: name the labeled data with --data DIR`);
  const dir = opts.data;
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserError(`--data ${dir}: not a directory`);
  const model = await loadModel(modelFile);
  const name = basename(modelFile).replace(/\.onnx$/i, '');
  if (!opts.charset) {
    const data = await classifierData(model, dir, opts.limit);
    const calib = Math.min(200, data.count);
    return {
      name,
      model: modelFile,
      source: dir,
      data,
      calibration: () => ({
        data: { ...data, count: calib },
        source: `the first ${calib} samples of ${dir}`,
      }),
    };
  }
  const charset = readCharset(opts.charset);
  const entries = readLabelsFile(dir, 'tab').slice(0, opts.limit);
  const lines = [];
  for (const e of entries) {
    const text = e.label.trim();
    const bad = unknownChar(charset, text);
    if (bad !== null) {
      throw new UserError(
        `${e.at}: character '${bad}' (U+${bad.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}) is not in the recognizer's character list ${opts.charset}`,
      );
    }
    const img = await readImage(e.file, undefined, LINE_HEIGHT);
    lines.push({ width: img.width, gray: img.gray, label: text });
  }
  return { name, model: modelFile, source: dir, data: { kind: 'ocr', lines, charset } };
}
