// Text-line recognition (PaddleOCR's CTC recognizers): the character list, the input
// tensor of a line image, greedy CTC decoding and the edit distance behind the
// character error rate.
import { readFileSync } from 'node:fs';
import { UserError } from '../config/errors.ts';

/** Recognizer input height (PaddleOCR v3/v4 rec). */
export const LINE_HEIGHT = 48;

/**
 * The recognizer's classes: index 0 is the CTC blank, 1..n the lines of the keys file,
 * then a space (PaddleOCR's use_space_char).
 */
export interface Charset {
  readonly file: string;
  readonly chars: readonly string[];
  readonly index: ReadonlyMap<string, number>;
}

export function readCharset(file: string): Charset {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(
      `${file}: cannot read (${code === 'ENOENT' ? 'no such file' : (e as Error).message})`,
    );
  }
  const keys = text.split('\n');
  if (keys.at(-1) === '') keys.pop();
  const bad = keys.findIndex((k) => [...k].length !== 1);
  if (bad >= 0) throw new UserError(`${file}:${bad + 1}: '${keys[bad]}' is not one character per line`);
  const chars = ['', ...keys, ' '];
  const index = new Map<string, number>();
  chars.forEach((c, i) => {
    if (i > 0 && !index.has(c)) index.set(c, i);
  });
  return { file, chars, index };
}

/** The first character of `text` the charset cannot produce, or null. */
export function unknownChar(cs: Charset, text: string): string | null {
  for (const c of text) if (!cs.index.has(c)) return c;
  return null;
}

/** Greedy CTC: the best class per time step, repeats merged, blanks dropped. */
export function ctcGreedy(
  cs: Charset,
  probs: Float32Array,
  offset: number,
  steps: number,
  classes: number,
): string {
  let out = '';
  let prev = -1;
  for (let t = 0; t < steps; t++) {
    const base = offset + t * classes;
    let best = 0;
    let bestP = probs[base]!;
    for (let c = 1; c < classes; c++) {
      const p = probs[base + c]!;
      if (p > bestP) {
        bestP = p;
        best = c;
      }
    }
    if (best !== prev && best !== 0) out += cs.chars[best] ?? '';
    prev = best;
  }
  return out;
}

/** Levenshtein distance over Unicode code points. */
export function editDistance(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[y.length]!;
}

/** A grey line image, LINE_HEIGHT rows. */
export interface LineImage {
  readonly width: number;
  /** width * LINE_HEIGHT bytes, row-major, 0 black .. 255 white. */
  readonly gray: Uint8Array;
}

/**
 * A batch of lines as the recognizer's input [n, 3, 48, W]: (x / 255 - 0.5) / 0.5 on every
 * channel, each line left-aligned and padded with 0 to the widest line (PaddleOCR's resize_norm_img).
 */
export function lineBatch(lines: readonly LineImage[]): { data: Float32Array; dims: number[] } {
  const W = Math.max(...lines.map((l) => l.width));
  const H = LINE_HEIGHT;
  const data = new Float32Array(lines.length * 3 * H * W);
  lines.forEach((l, n) => {
    for (let c = 0; c < 3; c++) {
      const base = (n * 3 + c) * H * W;
      for (let y = 0; y < H; y++)
        for (let x = 0; x < l.width; x++) data[base + y * W + x] = l.gray[y * l.width + x]! / 127.5 - 1;
    }
  });
  return { data, dims: [lines.length, 3, H, W] };
}
