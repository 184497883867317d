// The co-simulation's TypeScript side without Verilator: the bulk dot kernel, the stimulus
// stream and port images, and the checker against the golden model.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.ts';
import type { ResolvedDpu } from '../src/config/resolve.ts';
import { toUnsigned } from '../src/format/index.ts';
import {
  readBits,
  unpackActivationBlock,
  unpackWeightBlock,
  wordsFor,
  writeBits,
} from '../src/format/pack.ts';
import { Rng } from '../src/io/rng.ts';
import { blockDot, GoldenArray } from '../src/quant/golden.ts';
import { Checker } from '../src/sim/check.ts';
import { blockDotKernel } from '../src/sim/dot.ts';
import {
  activationPool,
  type Chunk,
  CTL_CLEAR,
  CTL_LAST,
  CTL_VALID,
  encodeChunk,
  portGeometry,
  StimulusStream,
  weightPool,
} from '../src/sim/stimulus.ts';
import { layerMetaAt } from './quant-arbitraries.ts';

const config = (preset: string, o: Record<string, unknown> = {}) => loadConfig(preset, o);

function setup(cfg: ResolvedDpu, seed: number, vectors: number, layerMeta: readonly number[] = []) {
  const rng = new Rng(seed);
  const act = activationPool(cfg, rng, 64);
  const wgt = weightPool(cfg, rng, 64, layerMeta);
  const stream = new StimulusStream(cfg, act, wgt, rng, { vectors, maxBlocks: 8 });
  return { act, wgt, stream };
}

function chunks(stream: StimulusStream, target: number): Chunk[] {
  const out: Chunk[] = [];
  for (let c = stream.next(target); c; c = stream.next(target)) out.push(c);
  return out;
}

describe('block dot kernel', () => {
  const pool = (B: number, values: number[]) => ({
    count: values.length / B,
    values: Float64Array.from(values),
  });
  it.each([1, 2, 4, 8, 16, 64])('wasm and js paths equal golden blockDot (B=%i, extremes included)', (B) => {
    const rng = new Rng(B);
    const extremes = [-32768, 32767, -1, 0, 1];
    const mk = (n: number) =>
      pool(
        B,
        Array.from({ length: n * B }, (_, i) => (i < B ? extremes[i % 5]! : rng.int(-32768, 32767))),
      );
    const act = mk(20);
    const wgt = mk(30);
    const rows = 3;
    const cols = 2;
    const n = 50;
    const aIdx = Uint32Array.from({ length: n * rows }, () => rng.below(act.count));
    const wIdx = Uint32Array.from({ length: n * cols }, () => rng.below(wgt.count));
    const kernels = [blockDotKernel(rows, cols, B, act, wgt, 32, 'js')];
    // 16-bit by 16-bit products over 64 lanes need 37 bits: only B <= 2 fits the 32-bit kernel.
    if (B <= 2) kernels.push(blockDotKernel(rows, cols, B, act, wgt, 32, 'wasm-simd'));
    for (const k of kernels) {
      const sums = k.sums(aIdx, wIdx, n);
      for (let t = 0; t < n; t++) {
        for (let r = 0; r < rows; r++) {
          for (let c = 0; c < cols; c++) {
            const want = blockDot(
              act.values,
              wgt.values,
              aIdx[t * rows + r]! * B,
              wIdx[t * cols + c]! * B,
              B,
            );
            expect(sums[(t * rows + r) * cols + c], `${k.kind} t=${t} r=${r} c=${c}`).toBe(want);
          }
        }
      }
    }
  });

  it('uses wasm for 8-bit StruM, and refuses it when the block sum can exceed 32 bits', async () => {
    const cfg = await config('strum-mip2q');
    const rng = new Rng(1);
    const k = blockDotKernel(4, 4, 16, activationPool(cfg, rng, 8), weightPool(cfg, rng, 8), 19);
    expect(k.kind).toBe('wasm-simd');
    const big = { count: 1, values: new Float64Array(16).fill(30000) };
    expect(blockDotKernel(1, 1, 16, big, big, 35).kind).toBe('js');
    expect(() => blockDotKernel(1, 1, 16, big, big, 35, 'wasm-simd')).toThrow();
  });
});

describe('stimulus stream', () => {
  it('is deterministic per seed, emits exactly the vectors asked, and ends every tile with last', async () => {
    const cfg = await config('strum-dynamic', { 'array.rows': 2, 'array.cols': 3 });
    const a = chunks(setup(cfg, 7, 3000).stream, 256);
    const b = chunks(setup(cfg, 7, 3000).stream, 256);
    const c = chunks(setup(cfg, 8, 3000).stream, 256);
    expect(a.map((x) => Array.from(x.aIdx))).toEqual(b.map((x) => Array.from(x.aIdx)));
    expect(a.map((x) => Array.from(x.wIdx))).not.toEqual(c.map((x) => Array.from(x.wIdx)));
    let valid = 0;
    let cycle = 0;
    for (const ch of a) {
      expect(ch.start).toBe(cycle);
      cycle += ch.n;
      for (let t = 0; t < ch.n; t++) if (ch.ctl[t]! & CTL_VALID) valid++;
      for (const tile of ch.tiles) {
        expect(ch.ctl[tile.last - ch.start]! & (CTL_VALID | CTL_LAST)).toBe(CTL_VALID | CTL_LAST);
        expect(ch.ctl[tile.first - ch.start]! & CTL_VALID).toBe(CTL_VALID);
      }
    }
    expect(valid).toBe(3000);
    // The edge cases are there: idle cycles with junk clear/last, a mid-tile clear, a tile without clear.
    const all = a.flatMap((ch) => Array.from(ch.ctl));
    expect(all.some((b) => !(b & CTL_VALID) && b & (CTL_CLEAR | CTL_LAST))).toBe(true);
    const tiles = a.flatMap((ch) => ch.tiles.map((t) => ({ t, ch })));
    expect(tiles.some(({ t, ch }) => !(ch.ctl[t.first - ch.start]! & CTL_CLEAR))).toBe(true);
  });

  it('adds an accumulator-wrap tile when the accumulator can overflow within the run', async () => {
    const small = await config('int8', { 'array.rows': 2, 'array.cols': 2, 'accumulator.bits': 16 });
    const { stream } = setup(small, 1, 2000);
    chunks(stream, 4096);
    expect([...stream.labels.values()]).toContain('accumulator wrap');
    const wide = await config('int8', { 'array.rows': 2, 'array.cols': 2 });
    const w = setup(wide, 1, 2000).stream;
    chunks(w, 4096);
    expect([...w.labels.values()]).not.toContain('accumulator wrap');
  });

  it('packs every row and column block into the port images at its bit offset', async () => {
    for (const preset of ['strum-mip2q', 'strum-dliq', 'strum-sparse', 'strum-dynamic', 'int8']) {
      const cfg = await config(preset, { 'array.rows': 3, 'array.cols': 3, 'activation.bits': 7 });
      const { act, wgt, stream } = setup(cfg, 3, 40);
      const g = portGeometry(cfg);
      const ch = stream.next(64)!;
      const rec = encodeChunk(cfg, g, act, wgt, ch, []);
      expect(rec.length).toBe(ch.n * g.recordWords);
      for (let t = 0; t < ch.n; t++) {
        const image = rec.subarray(t * g.recordWords + 1, (t + 1) * g.recordWords);
        const actImg = image.subarray(0, g.actWords);
        const wgtImg = image.subarray(g.actWords);
        for (let r = 0; r < 3; r++) {
          const words = new Uint32Array(wordsFor(cfg.derived.activationBlockBits));
          for (let b = 0; b < cfg.derived.activationBlockBits; b++) {
            writeBits(words, b, 1, readBits(actImg, r * cfg.derived.activationBlockBits + b, 1));
          }
          const k = ch.aIdx[t * 3 + r]!;
          expect(unpackActivationBlock(cfg, words)).toEqual(
            Array.from(act.values.subarray(k * 16, k * 16 + 16)),
          );
        }
        for (let c = 0; c < 3; c++) {
          const words = new Uint32Array(wordsFor(cfg.derived.weightBlockBits));
          for (let b = 0; b < cfg.derived.weightBlockBits; b++) {
            writeBits(words, b, 1, readBits(wgtImg, c * cfg.derived.weightBlockBits + b, 1));
          }
          expect(unpackWeightBlock(cfg, words), preset).toEqual(wgt.blocks[ch.wIdx[t * 3 + c]!]);
        }
      }
    }
  });
});

/** The harness's output records for a stream, made from GoldenArray (what a correct model returns). */
function goldenOutputs(
  cfg: ResolvedDpu,
  all: Chunk[],
  act: { values: Float64Array },
  wgt: { blocks: readonly unknown[] },
  layerMeta: readonly number[],
) {
  const { rows, cols } = cfg.array;
  const B = cfg.pe.block;
  const g = portGeometry(cfg);
  const golden = new GoldenArray(cfg, layerMeta);
  const records: number[] = [];
  for (const ch of all) {
    for (let t = 0; t < ch.n; t++) {
      const bits = ch.ctl[t]!;
      const tile = golden.step({
        valid: (bits & CTL_VALID) !== 0,
        clear: (bits & CTL_CLEAR) !== 0,
        last: (bits & CTL_LAST) !== 0,
        act: Array.from({ length: rows }, (_, r) => {
          const k = ch.aIdx[t * rows + r]!;
          return Array.from(act.values.subarray(k * B, k * B + B));
        }),
        wgt: Array.from({ length: cols }, (_, c) => wgt.blocks[ch.wIdx[t * cols + c]!] as never),
      });
      if (!tile) continue;
      records.push(ch.start + t + cfg.derived.latency - 1);
      for (let r = 0; r < rows; r++) {
        const words = new Uint32Array(g.outWords);
        for (let c = 0; c < cols; c++) {
          writeBits(
            words,
            c * cfg.accumulator.bits,
            cfg.accumulator.bits,
            toUnsigned(tile[r * cols + c]!, cfg.accumulator.bits),
          );
        }
        records.push(...words);
      }
    }
  }
  return Uint32Array.from(records);
}

describe('checker', () => {
  const cases: [string, Record<string, unknown>][] = [
    ['strum-mip2q', {}],
    ['strum-dliq', { 'dliq.granularity': 'layer', 'pipeline.multiply': true }],
    ['strum-dynamic', { 'accumulator.bits': 20 }],
    ['int8', { 'accumulator.bits': 12, 'activation.signed': false }],
    ['strum-sparse', { 'accumulator.bits': 40, 'pipeline.adderTree': true }],
  ];
  it.each(cases)(
    'agrees with GoldenArray on a whole stream and names a corrupted PE (%s %j)',
    async (preset, o) => {
      const cfg = await config(preset, { 'array.rows': 2, 'array.cols': 3, ...o });
      // Layer metadata, when the format has it: candidate 2 (DLIQ per layer: t = 2).
      const layerMeta = layerMetaAt(cfg, 2);
      const { act, wgt, stream } = setup(cfg, 11, 4000, layerMeta);
      const all = chunks(stream, 500);
      const g = portGeometry(cfg);
      const out = goldenOutputs(cfg, all, act, wgt, layerMeta);
      const rec = 1 + 2 * g.outWords;
      const tiles = out.length / rec;
      const make = () => {
        const k = blockDotKernel(2, 3, cfg.pe.block, act, wgt, cfg.derived.blockSumBits);
        return new Checker(cfg, g, act, wgt, k, {
          outputDelay: cfg.derived.latency - 1,
          layerMeta,
          rerun: (t) => `rerun --tile ${t}`,
        });
      };
      const good = make();
      for (const ch of all) good.feed(ch);
      good.compare(out, 0, tiles);
      good.finish();
      expect(good.mismatches).toBe(0);
      expect(good.tilesChecked).toBe(tiles);

      // One flipped bit in row 1, column 2 of tile 40: exactly that PE and tile are reported.
      const bad = make();
      const broken = out.slice();
      const at = 40 * rec + 1 + g.outWords + Math.floor((2 * cfg.accumulator.bits + 3) / 32);
      broken[at] = broken[at]! ^ (1 << ((2 * cfg.accumulator.bits + 3) % 32));
      for (const ch of all) bad.feed(ch);
      bad.compare(broken, 0, tiles);
      bad.finish();
      expect(bad.mismatches).toBe(1);
      const m = bad.reports[0]!;
      expect([m.kind, m.tile, m.row, m.col]).toEqual(['value', 40, 1, 2]);
      expect(m.rerun).toBe('rerun --tile 40');
      expect(m.partialSums!.at(-1)!.acc).toBe(m.expected);
      expect(m.hint).not.toMatch(/internal/);

      // A missing output and a late one are reported as such.
      const late = make();
      const shifted = out.slice(0, out.length - rec);
      shifted[0] = shifted[0]! + 1;
      for (const ch of all) late.feed(ch);
      late.compare(shifted, 0, tiles - 1);
      late.finish();
      expect(late.reports.map((r) => r.kind)).toContain('timing');
      expect(late.reports.map((r) => r.kind)).toContain('missing');
    },
  );
});
