// What an accuracy task is: a model and labeled samples, either images for a classifier
// (top-1) or text lines for a CTC recognizer (exact lines and character error rate).
import type { Charset, LineImage } from './ocr.ts';

export interface ClassifyData {
  readonly kind: 'classify';
  readonly count: number;
  /** One sample's input dims without the batch, e.g. [1, 28, 28]. */
  readonly sampleDims: readonly number[];
  /** Writes sample i's input (floats, sampleDims order) at out[offset..]. */
  readonly sample: (i: number, out: Float32Array, offset: number) => void;
  readonly labels: ArrayLike<number>;
  readonly classes: number;
}

export interface OcrData {
  readonly kind: 'ocr';
  readonly lines: readonly (LineImage & { readonly label: string })[];
  readonly charset: Charset;
}

export interface Task {
  /** Short name (fashion-mnist, ocr, or the model's file name). */
  readonly name: string;
  /** The ONNX model file. */
  readonly model: string;
  /** Where the samples come from, for reports. */
  readonly source: string;
  readonly data: ClassifyData | OcrData;
  /** Samples that calibrate the activation scales of the integer path (classifiers only). */
  readonly calibration?: () => { readonly data: ClassifyData; readonly source: string };
  /** OCR: lines that calibrate the activation scales of --activations (default: the first lines of the data). */
  readonly calibrationLines?: () => Promise<{
    readonly lines: readonly LineImage[];
    readonly source: string;
  }>;
}

/** Sample count of a task. */
export const sampleCount = (t: Task) => (t.data.kind === 'classify' ? t.data.count : t.data.lines.length);
