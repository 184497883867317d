// strumgen accuracy, the fast parts: data readers and their one-line errors, the seeded
// line renderer, the statistics, scheme parsing, fake-quantized weights written back into
// a graph, and a user model + data made here (classifier from an IDX pair and from image
// files, with the integer path; OCR lines through the real recognizer).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseIdx, readIdxPair } from '../src/accuracy/idx.ts';
import { loadTask, runAccuracy } from '../src/accuracy/index.ts';
import { integerPath } from '../src/accuracy/integer-run.ts';
import { loadModel, quantizeModel } from '../src/accuracy/model.ts';
import { ctcGreedy, editDistance, readCharset } from '../src/accuracy/ocr.ts';
import { DT, modelBytes, node, tensor, valueInfo } from '../src/accuracy/onnx-build.ts';
import { grayPng, linePng, renderLines } from '../src/accuracy/render.ts';
import { formatSchemes, parseSchemes, quantizeLayer } from '../src/accuracy/schemes.ts';
import { pairedChange, wilson } from '../src/accuracy/stats.ts';
import { paddleRecognizer } from '../src/accuracy/tasks/ocr.ts';
import { UserError } from '../src/config/errors.ts';
import { parseOnnx } from '../src/quant/load.ts';
import { tempDirs } from './temp-dirs.ts';

const temp = tempDirs();

/** An IDX file: ubyte data with these dims. */
function idx(dims: number[], data: Uint8Array): Uint8Array {
  const head = new Uint8Array(4 + 4 * dims.length);
  const v = new DataView(head.buffer);
  head[2] = 0x08;
  head[3] = dims.length;
  dims.forEach((d, i) => {
    v.setUint32(4 + 4 * i, d, false);
  });
  return Buffer.concat([head, data]);
}

/** The one-line UserError a call throws. */
function userError(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    const m = (e as Error).message;
    expect(m).not.toContain('\n');
    return m;
  }
  throw new Error('expected a UserError');
}
async function userErrorAsync(f: () => Promise<unknown>): Promise<string> {
  try {
    await f();
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    const m = (e as Error).message;
    expect(m).not.toContain('\n');
    return m;
  }
  throw new Error('expected a UserError');
}

describe('IDX reader', () => {
  it('reads plain and gzipped files', () => {
    const data = Uint8Array.from({ length: 2 * 3 * 4 }, (_, i) => i);
    expect(parseIdx('a', idx([2, 3, 4], data)).dims).toEqual([2, 3, 4]);
    expect(Array.from(parseIdx('a.gz', gzipSync(idx([2, 3, 4], data))).data)).toEqual(Array.from(data));
  });

  it('bad inputs: one clear line each', () => {
    const full = idx([2, 2, 2], new Uint8Array(8));
    expect(userError(() => parseIdx('x.idx', full.subarray(0, full.length - 3)))).toBe(
      'x.idx: truncated IDX file (5 data bytes, dimensions [2, 2, 2] need 8)',
    );
    expect(userError(() => parseIdx('x.idx', full.subarray(0, 6)))).toMatch(/truncated IDX file \(header/);
    expect(userError(() => parseIdx('x.idx', Buffer.from('hello world!')))).toBe(
      'x.idx: not an IDX file (bad magic)',
    );
    expect(userError(() => parseIdx('x.idx', Buffer.concat([full, Buffer.of(1)])))).toMatch(
      /1 bytes after the IDX data/,
    );
    expect(userError(() => parseIdx('x.gz', Buffer.of(0x1f, 0x8b, 1, 2, 3)))).toMatch(
      /^x.gz: broken gzip data/,
    );
  });

  it('an image / label pair must agree', () => {
    const dir = temp('strum-idx-');
    const images = join(dir, 'imgs-idx3-ubyte');
    const labels = join(dir, 'labels-idx1-ubyte');
    writeFileSync(images, idx([3, 2, 2], new Uint8Array(12)));
    writeFileSync(labels, idx([2], Uint8Array.of(0, 1)));
    expect(userError(() => readIdxPair(images, labels))).toBe(
      `${labels}: 2 labels for 3 images in ${images}`,
    );
    writeFileSync(labels, idx([3], Uint8Array.of(0, 1, 12)));
    expect(userError(() => readIdxPair(images, labels, 10))).toBe(
      `${labels}: label 12 of image 2 is not below 10 classes`,
    );
    expect(userError(() => readIdxPair(join(dir, 'nope'), labels))).toBe(
      `${join(dir, 'nope')}: cannot read (no such file)`,
    );
  });
});

describe('OCR pieces', () => {
  it('the renderer is deterministic for a seed', async () => {
    const a = await renderLines(4, 7);
    const b = await renderLines(4, 7);
    const c = await renderLines(4, 8);
    expect(a.map((l) => l.label)).toEqual(b.map((l) => l.label));
    a.forEach((l, i) => {
      expect(l.width).toBe(b[i]!.width);
      expect(Buffer.from(l.gray).equals(Buffer.from(b[i]!.gray))).toBe(true);
      expect(l.gray.length).toBe(l.width * 48);
      expect(l.label).toMatch(/^[A-Za-z0-9]+( [A-Za-z0-9]+)+$/);
    });
    expect(c.map((l) => l.label)).not.toEqual(a.map((l) => l.label));
    // Dark text on a light background: some pixels of each line are dark.
    for (const l of a) expect(Math.min(...l.gray)).toBeLessThan(100);
  });

  it('CTC greedy decoding and edit distance', () => {
    const cs = readCharset(paddleRecognizer().keys);
    const C = cs.chars.length;
    const steps = ['a', 'a', '', 'a', 'b', ' ', 'c'].map((ch) => (ch === '' ? 0 : cs.index.get(ch)!));
    const probs = new Float32Array(steps.length * C);
    steps.forEach((c, t) => {
      probs[t * C + c] = 1;
    });
    expect(ctcGreedy(cs, probs, 0, steps.length, C)).toBe('aab c');
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
  });
});

describe('statistics', () => {
  it('Wilson interval and the paired change', () => {
    const w = wilson(90, 100);
    expect(w.value).toBe(0.9);
    expect(w.lo).toBeCloseTo(0.8256, 3);
    expect(w.hi).toBeCloseTo(0.9448, 3);
    // 3 gained, 7 lost of 1000: -0.4 points, interval straddles 0.
    const n = 1000;
    const ref = new Uint8Array(n).fill(1);
    const s = new Uint8Array(n).fill(1);
    for (let i = 0; i < 7; i++) s[i] = 0;
    for (let i = 10; i < 13; i++) ref[i] = 0;
    const c = pairedChange(s, ref);
    expect(c.value).toBeCloseTo(-0.004, 12);
    expect([c.gained, c.lost]).toEqual([3, 7]);
    expect(c.lo).toBeLessThan(-0.004);
    expect(c.hi).toBeGreaterThan(0);
    expect(c.hi - c.lo).toBeLessThan(0.02);
  });
});

describe('schemes', () => {
  const ctx = { overrides: {}, select: 'magnitude' as const };
  it('names, policies, presets with overrides', async () => {
    const s = await parseSchemes('float,int8,dliq:error,strum-mip2q', {
      ...ctx,
      overrides: { 'pe.block': 4 },
    });
    expect(s.map((x) => x.id)).toEqual(['float', 'int8', 'dliq:error', 'strum-mip2q:magnitude']);
    const dliq = s[2]!;
    expect(dliq.kind === 'config' && [dliq.cfg.pe.low, dliq.cfg.pe.block, dliq.cfg.pe.high]).toEqual([
      'dliq',
      4,
      2,
    ]);
    // 'all': float, the two baselines, and every registered format (the registry's list).
    const all = (await parseSchemes('all', ctx)).map((x) => x.id);
    expect(all.slice(0, 8)).toEqual([
      'float',
      'int8',
      'int4',
      'mip2q:magnitude',
      'mip2q:error',
      'dliq:magnitude',
      'dliq:error',
      'sparse:magnitude',
    ]);
    for (const f of formatSchemes()) {
      // lowint needs lowBits 2 or 3 (the default is 4): named with a --config, not in 'all'.
      if (f === 'lowint') expect(all).not.toContain(`${f}:magnitude`);
      else expect(all).toContain(`${f}:magnitude`);
    }
    expect(await userErrorAsync(() => parseSchemes('int8,bogus', ctx))).toMatch(
      /^--schemes: unknown scheme 'bogus'/,
    );
    expect(await userErrorAsync(() => parseSchemes('mip2q:best', ctx))).toMatch(/magnitude or error/);
  });
});

/**
 * A tiny CNN on 6x6 grey images: conv 1->2 3x3 pad 1, Relu, max-pool 2, Flatten, Gemm 18->2.
 * Channel 0 sums brightness, channel 1 darkness: class 1 = bright image, class 0 = dark.
 */
function tinyCnn(transB: 0 | 1): Uint8Array {
  const conv = new Float32Array(18);
  for (let i = 0; i < 9; i++) {
    conv[i] = 0.1 + 0.01 * i;
    conv[9 + i] = -0.1 - 0.005 * i;
  }
  const fc = new Float32Array(2 * 18); // [N=2, K=18] as stored when transB = 1
  for (let k = 0; k < 18; k++) {
    const ch = Math.floor(k / 9);
    fc[0 * 18 + k] = ch === 1 ? 0.3 : -0.2;
    fc[1 * 18 + k] = ch === 0 ? 0.3 : -0.2;
  }
  const stored = transB
    ? fc
    : Float32Array.from({ length: 36 }, (_, i) => fc[(i % 2) * 18 + Math.floor(i / 2)]!);
  return modelBytes({
    name: 'tiny',
    nodes: [
      node('Conv', ['x', 'cw', 'cb'], ['c'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }),
      node('Relu', ['c'], ['r']),
      node('MaxPool', ['r'], ['p'], { kernel_shape: [2, 2], strides: [2, 2] }),
      node('Flatten', ['p'], ['f'], { axis: 1 }),
      node('Gemm', ['f', 'fw', 'fb'], ['y'], { transB }),
    ],
    initializers: [
      tensor('cw', [2, 1, 3, 3], conv),
      tensor('cb', [2], Float32Array.of(0, 0.5)),
      tensor('fw', transB ? [2, 18] : [18, 2], stored),
      tensor('fb', [2], Float32Array.of(0.01, -0.01)),
    ],
    inputs: [valueInfo('x', DT.FLOAT, ['N', 1, 6, 6])],
    outputs: [valueInfo('y', DT.FLOAT, ['N', 2])],
  });
}

/** n images, alternately dark (label 0) and bright (label 1), with texture; `wrong` labels flipped. */
function tinyImages(n: number, wrong: number[] = []): { pixels: Uint8Array; labels: Uint8Array } {
  const pixels = new Uint8Array(n * 36);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const bright = i % 2 === 1;
    for (let p = 0; p < 36; p++) pixels[i * 36 + p] = bright ? 150 + ((p * 7 + i) % 100) : (p * 5 + i) % 60;
    labels[i] = bright !== wrong.includes(i) ? 1 : 0;
  }
  return { pixels, labels };
}

describe('a user model and data made here', () => {
  it('fake-quantized weights go back into the graph in its own layout (Conv, Gemm with transB 0)', async () => {
    const dir = temp('strum-fq-');
    const file = join(dir, 'tiny.onnx');
    writeFileSync(file, tinyCnn(0));
    const model = await loadModel(file);
    const [scheme] = await parseSchemes('mip2q:error', { overrides: { 'pe.block': 4 }, select: 'magnitude' });
    const q = quantizeModel(model, scheme!);
    const back = await parseOnnx('q.onnx', q.bytes);
    for (const [i, l] of model.layers.entries()) {
      const want = quantizeLayer(l, scheme!).data;
      expect(Array.from(back[i]!.data)).toEqual(Array.from(want));
      expect(Array.from(back[i]!.data)).not.toEqual(Array.from(l.data));
    }
  });

  it('classifier + IDX pair: top-1 exact, integer path equals onnxruntime ConvInteger/MatMulInteger', async () => {
    const dir = temp('strum-user-idx-');
    const model = join(dir, 'tiny.onnx');
    writeFileSync(model, tinyCnn(1));
    const data = join(dir, 'data');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(data);
    const n = 40;
    const { pixels, labels } = tinyImages(n, [3, 10]);
    writeFileSync(join(data, 'test-images-idx3-ubyte.gz'), gzipSync(idx([n, 6, 6], pixels)));
    writeFileSync(join(data, 'test-labels-idx1-ubyte'), idx([n], labels));
    const task = await loadTask(model, { data });
    const { report, runs } = await runAccuracy(task, {
      schemes: 'float,int8,dliq:error',
      context: { overrides: { 'pe.block': 4 }, select: 'magnitude' },
    });
    expect(report.samples).toBe(n);
    expect(report.schemes.map((s) => s.id)).toEqual(['float', 'int8', 'dliq:error']);
    // The two flipped labels are the only errors, under every scheme.
    for (const s of report.schemes) expect(s.right).toBe(n - 2);
    expect(report.schemes[2]!.change!.value).toBe(0);
    const integer = await integerPath(task, runs);
    expect(integer.layers).toEqual(['cw', 'fw']);
    for (const s of integer.schemes) {
      expect(s.onnxLogitsEqual).toBe(n);
      expect(s.accuracy.value).toBe((n - 2) / n);
    }
  });

  it('classifier + image files with labels.txt, and its one-line errors', async () => {
    const dir = temp('strum-user-png-');
    const model = join(dir, 'tiny.onnx');
    writeFileSync(model, tinyCnn(1));
    const n = 6;
    const { pixels, labels } = tinyImages(n, [4]);
    const lines: string[] = ['# image class'];
    for (let i = 0; i < n; i++) {
      const png = await grayPng(6, 6, pixels.subarray(i * 36, (i + 1) * 36));
      writeFileSync(join(dir, `img ${i}.png`), png);
      lines.push(`img ${i}.png ${labels[i]}`);
    }
    writeFileSync(join(dir, 'labels.txt'), `${lines.join('\n')}\n`);
    const task = await loadTask(model, { data: dir });
    const { report } = await runAccuracy(task, {
      schemes: 'int8',
      context: { overrides: {}, select: 'magnitude' },
    });
    expect(report.schemes[0]!.right).toBe(n - 1);
    writeFileSync(join(dir, 'labels.txt'), 'img 0.png 0\nmissing.png 1\n');
    expect(await userErrorAsync(() => loadTask(model, { data: dir }))).toBe(
      `${join(dir, 'labels.txt')}:2: no such image 'missing.png'`,
    );
    writeFileSync(join(dir, 'labels.txt'), 'img 0.png 5\n');
    expect(await userErrorAsync(() => loadTask(model, { data: dir }))).toBe(
      `${join(dir, 'labels.txt')}:1: label '5' is not a class index in 0..1`,
    );
  });

  it('OCR model + line images + labels.txt (the real recognizer), unknown characters refused', async () => {
    const dir = temp('strum-user-ocr-');
    const { model, keys } = paddleRecognizer();
    const lines = await renderLines(3, 11);
    const text: string[] = [];
    for (const [i, l] of lines.entries()) {
      writeFileSync(join(dir, `line${i}.png`), await linePng(l));
      text.push(`line${i}.png\t${l.label}`);
    }
    writeFileSync(join(dir, 'labels.txt'), `${text.join('\n')}\n`);
    const task = await loadTask(model, { data: dir, charset: keys });
    expect(task.data.kind).toBe('ocr');
    const { report } = await runAccuracy(task, {
      schemes: 'int8',
      context: { overrides: {}, select: 'magnitude' },
    });
    const r = report.schemes[0]!;
    expect(r.samples).toBe(3);
    expect(r.cer!.value).toBeLessThan(0.1);
    writeFileSync(join(dir, 'labels.txt'), 'line0.png\tnaive\u2603\n');
    expect(await userErrorAsync(() => loadTask(model, { data: dir, charset: keys }))).toBe(
      `${join(dir, 'labels.txt')}:1: character '\u2603' (U+2603) is not in the recognizer's character list ${keys}`,
    );
  }, 60_000);
});

describe('strumgen accuracy (command line)', () => {
  it('fashion-mnist --schemes int8,strum-dliq with an INT8 exception writes JSON, Markdown and SVG', async () => {
    const { main } = await import('../src/cli/main.ts');
    const { readFileSync } = await import('node:fs');
    const out = join(temp('strum-acc-cli-'), 'report');
    const write = process.stdout.write;
    const err = process.stderr.write;
    let text = '';
    process.stdout.write = ((s: string) => {
      text += s;
      return true;
    }) as never;
    process.stderr.write = (() => true) as never;
    let code: number;
    let bad: number;
    try {
      code = await main([
        'accuracy',
        'fashion-mnist',
        '--schemes',
        'int8,strum-dliq',
        '--limit',
        '300',
        '--keep-int8',
        'first',
        '--out',
        out,
      ]);
      bad = await main(['accuracy', 'fashion-mnist', '--schemes', 'int9', '--limit', '3', '--out', out]);
    } finally {
      process.stdout.write = write;
      process.stderr.write = err;
    }
    expect(code).toBe(0);
    expect(bad).toBe(2);
    const json = JSON.parse(readFileSync(join(out, 'accuracy.json'), 'utf8'));
    expect(json.samples).toBe(300);
    expect(json.schemes.map((s: { id: string }) => s.id)).toEqual(['int8', 'strum-dliq:magnitude']);
    expect(json.schemes[1].keptInt8).toEqual(['conv1.weight']);
    expect(readFileSync(join(out, 'accuracy.md'), 'utf8')).toContain('(INT8: conv1.weight)');
    expect(readFileSync(join(out, 'accuracy.svg'), 'utf8')).toMatch(/^<svg/);
    expect(text).toContain('strum-dliq:magnitude B=16 H=8');
  });
});
