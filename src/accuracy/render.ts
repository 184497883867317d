// Seeded text lines with known labels for the OCR task: 2 to 4 words from Debian's
// wamerican word list (plus, now and then, a number), drawn with @napi-rs/canvas in one
// of the Debian fonts (DejaVu, Lato) at a random size and offset, dark on light, LINE_HEIGHT
// pixels high. The same seed gives the same lines, pixel for pixel (test/accuracy-data.test.ts).
import { existsSync, readFileSync } from 'node:fs';
import { UserError } from '../config/errors.ts';
import { Rng } from '../io/rng.ts';
import { LINE_HEIGHT, type LineImage } from './ocr.ts';

export const WORDS_FILE = '/usr/share/dict/american-english';

/** Font files from the Debian packages fonts-dejavu-core and fonts-lato, registered under these names. */
export const FONT_FILES: readonly { family: string; file: string }[] = [
  { family: 'strum DejaVu Sans', file: '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf' },
  { family: 'strum DejaVu Serif', file: '/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf' },
  { family: 'strum DejaVu Sans Mono', file: '/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf' },
  { family: 'strum Lato', file: '/usr/share/fonts/truetype/lato/Lato-Regular.ttf' },
  { family: 'strum Lato Bold', file: '/usr/share/fonts/truetype/lato/Lato-Bold.ttf' },
];

export interface RenderedLine extends LineImage {
  readonly label: string;
  readonly font: string;
}

/** Plain lowercase or capitalised ASCII words of 2..10 letters (no possessives, no accents). */
export function readWords(file = WORDS_FILE): string[] {
  if (!existsSync(file)) {
    throw new UserError(`${file}: no word list (install the Debian package wamerican: scripts/setup)`);
  }
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((w) => /^[A-Za-z]{2,10}$/.test(w));
}

type Canvas = typeof import('@napi-rs/canvas');
let canvasModule: Canvas | null = null;

async function canvasLib(): Promise<{ lib: Canvas; families: string[] }> {
  if (!canvasModule) {
    canvasModule = (await import('@napi-rs/canvas')) as Canvas;
  }
  const lib = canvasModule;
  const families: string[] = [];
  for (const f of FONT_FILES) {
    if (!existsSync(f.file)) continue;
    if (!lib.GlobalFonts.has(f.family)) lib.GlobalFonts.registerFromPath(f.file, f.family);
    families.push(f.family);
  }
  if (families.length === 0) {
    throw new UserError(
      'no fonts for the OCR lines (install fonts-dejavu-core and fonts-lato: scripts/setup)',
    );
  }
  return { lib, families };
}

/** `count` lines for `seed`. */
export async function renderLines(count: number, seed: number, words = readWords()): Promise<RenderedLine[]> {
  const { lib, families } = await canvasLib();
  const rng = new Rng(seed);
  const H = LINE_HEIGHT;
  const measure = lib.createCanvas(8, 8).getContext('2d');
  const out: RenderedLine[] = [];
  for (let i = 0; i < count; i++) {
    const n = rng.int(2, 4);
    const parts: string[] = [];
    for (let k = 0; k < n; k++) parts.push(words[rng.below(words.length)]!);
    if (rng.chance(0.2)) parts.splice(rng.int(0, parts.length), 0, String(rng.int(0, 9999)));
    const label = parts.join(' ');
    const font = families[rng.below(families.length)]!;
    const size = rng.int(26, 34);
    const fontSpec = `${size}px "${font}"`;
    measure.font = fontSpec;
    const textWidth = Math.ceil(measure.measureText(label).width);
    const left = rng.int(3, 10);
    const width = textWidth + left + rng.int(3, 10);
    const canvas = lib.createCanvas(width, H);
    const ctx = canvas.getContext('2d');
    const bg = rng.int(215, 255);
    const fg = rng.int(0, 60);
    ctx.fillStyle = `rgb(${bg},${bg},${bg})`;
    ctx.fillRect(0, 0, width, H);
    ctx.fillStyle = `rgb(${fg},${fg},${fg})`;
    ctx.font = fontSpec;
    ctx.textBaseline = 'middle';
    ctx.fillText(label, left, H / 2 + rng.int(-3, 3));
    const rgba = ctx.getImageData(0, 0, width, H).data;
    const gray = new Uint8Array(width * H);
    for (let p = 0; p < gray.length; p++) gray[p] = rgba[p * 4]!;
    out.push({ width, gray, label, font: `${font.replace(/^strum /, '')} ${size}px` });
  }
  return out;
}

/** PNG bytes of a grey image (to look at, and for the user-data tests). */
export async function grayPng(width: number, height: number, gray: Uint8Array): Promise<Buffer> {
  const { lib } = await canvasLib();
  const canvas = lib.createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(width, height);
  for (let p = 0; p < width * height; p++) {
    img.data[p * 4] = img.data[p * 4 + 1] = img.data[p * 4 + 2] = gray[p]!;
    img.data[p * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return canvas.encode('png');
}

export const linePng = (line: LineImage) => grayPng(line.width, LINE_HEIGHT, line.gray);

/**
 * Decode an image file (PNG, JPEG, WebP...) scaled to width x height; a missing width keeps
 * the aspect ratio. Returns RGBA and grey (0.299 R + 0.587 G + 0.114 B).
 */
export async function readImage(
  file: string,
  width?: number,
  height?: number,
): Promise<{ width: number; height: number; gray: Uint8Array; rgba: Uint8ClampedArray }> {
  const { lib } = await canvasLib();
  let img: Awaited<ReturnType<Canvas['loadImage']>>;
  try {
    img = await lib.loadImage(readFileSync(file));
  } catch (e) {
    throw new UserError(`${file}: cannot read the image (${(e as Error).message.split('\n')[0]})`);
  }
  const h = height ?? img.height;
  const w = width ?? Math.max(1, Math.round((img.width * h) / img.height));
  const canvas = lib.createCanvas(w, h);
  const ctx = canvas.getContext('2d');
  ctx.drawImage(img, 0, 0, w, h);
  const rgba = ctx.getImageData(0, 0, w, h).data;
  const gray = new Uint8Array(w * h);
  for (let p = 0; p < gray.length; p++) {
    gray[p] = Math.round(0.299 * rgba[p * 4]! + 0.587 * rgba[p * 4 + 1]! + 0.114 * rgba[p * 4 + 2]!);
  }
  return { width: w, height: h, gray, rgba };
}
