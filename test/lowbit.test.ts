// 1-3-bit weights with block sparsity (docs/LOWBIT.md): the quantizer, the compressed storage,
// the schedule's skipped blocks, and the array co-simulated with zero-block skipping
// (Verilator, one 2x2 B=8 build): bit-exact against the dense product, a wrong block index caught.
import { describe, expect, it } from 'vitest';
import { goldenMatmul } from '../src/accuracy/integer.ts';
import { FASHION_MNIST_MODEL } from '../src/accuracy/tasks/fashion-mnist.ts';
import { loadConfig } from '../src/config/load.ts';
import { bitsPerWeight, compressLayer, decompressLayer } from '../src/format/blocksparse.ts';
import { keptBlocks, keptIndices } from '../src/format/lowbit.ts';
import { formatOf } from '../src/format/registry.ts';
import { Rng } from '../src/io/rng.ts';
import { layerMatrix, loadLayers, quantizeForConfig, quantizeMatrix } from '../src/quant/index.ts';
import { channelScale } from '../src/quant/lowbit.ts';
import { matmulCycles, matmulTiles, simulateMatmul } from '../src/sim/index.ts';

const SMALL = { 'array.rows': 2, 'array.cols': 2, 'pe.block': 8 };

function randomMatrix(N: number, K: number, seed: number): Float32Array {
  const r = new Rng(seed);
  return Float32Array.from({ length: N * K }, () => (r.float() - 0.5) * (1 + Math.floor(3 * r.float())));
}

describe('1-3-bit formats and block sparsity', () => {
  it('config errors name the field', async () => {
    await expect(loadConfig('tern-bs4', { 'pe.high': 4 })).rejects.toThrow(/pe\.high/);
    await expect(loadConfig('tern-bs4', { 'tern.compression': 0 })).rejects.toThrow(/tern\.compression/);
    await expect(
      loadConfig('tern-bs4', { 'pe.low': 'lowint', lowBits: 4, 'lowint.compression': 1 }),
    ).rejects.toThrow(/lowBits/);
  });

  it('quantizer: kept blocks per group, codes decode to the values, least-squares scale', async () => {
    for (const [low, extra] of [
      ['binary', {}],
      ['tern', {}],
      ['lowint', { lowBits: 3 }],
    ] as const) {
      for (const compression of [1, 4, 8]) {
        const cfg = await loadConfig('tern-bs4', {
          ...SMALL,
          'pe.low': low,
          ...extra,
          [`${low}.compression`]: compression,
        });
        const fmt = formatOf(cfg);
        const N = 6;
        const K = 75; // Kp = 80: 10 blocks of 8, the last one padded
        const W = randomMatrix(N, K, 7 + compression);
        const q = quantizeMatrix(cfg, W, N, K);
        const keep = q.blockKeep!;
        expect(keep.group).toBe(2);
        for (let g = 0; g < 3; g++) expect(keptIndices(keep, g).length).toBe(keptBlocks(10, compression));
        for (let n = 0; n < N; n++) {
          for (let k = 0; k < q.Kp; k++) {
            const kept = keep.keep[Math.floor(n / 2) * 10 + Math.floor(k / 8)] === 1;
            const v = q.values[n * q.Kp + k]!;
            if (kept) expect(fmt.decode(q.codes[n * q.Kp + k]!, [])).toBe(v);
            else expect(v).toBe(0);
          }
        }
      }
    }
    // Binary's least-squares scale is mean |w|; ternary's error is below binary's at its own best.
    const xs = Float64Array.from([0.5, -1, 2, -0.25, 0.75]);
    expect(channelScale(xs, -1, 1, false)).toBeCloseTo(0.9, 12);
  });

  it('compressed storage round-trips and reports its size', async () => {
    const cfg = await loadConfig('tern-bs4', SMALL);
    const N = 5;
    const K = 64;
    const q = quantizeForConfig(cfg, randomMatrix(N, K, 3), N, K);
    const c = compressLayer(q.blocks, q.blockKeep!, 8, 2);
    // 3 groups x 8 blocks of index, 2 kept blocks per group x 5 channels x 8 codes x 2 bits, 5 scales.
    expect(c.bits).toEqual({ index: 24, codes: 2 * 5 * 8 * 2, scales: 5 * 16, total: 24 + 160 + 80 });
    expect(bitsPerWeight(c, K)).toBeCloseTo(264 / 320, 12);
    const back = decompressLayer(c);
    expect(Array.from(back.keep.keep)).toEqual(Array.from(q.blockKeep!.keep));
    for (let n = 0; n < N; n++) {
      for (let j = 0; j < 8; j++) {
        const kept = q.blockKeep!.keep[Math.floor(n / 2) * 8 + j] === 1;
        expect(back.blocks[n]![j]).toEqual(kept ? q.blocks[n]![j] : null);
      }
    }
    // A flipped index bit is a different layer: the round trip is not vacuous.
    c.index[0] = c.index[0]! ^ 1;
    expect(Array.from(decompressLayer(c).keep.keep)).not.toEqual(Array.from(q.blockKeep!.keep));
  });

  it('schedule: skipping cuts tiles x (blocks - kept) cycles', async () => {
    const dense = await loadConfig('tern-bs4', { ...SMALL, 'tern.compression': 1 });
    for (const r of [4, 8]) {
      const cfg = await loadConfig('tern-bs4', { ...SMALL, 'tern.compression': r });
      const tiles = matmulTiles(cfg, 5, 32);
      const saved = matmulCycles(dense, 5, 32, 784) - matmulCycles(cfg, 5, 32, 784);
      expect(saved).toBe(tiles * (98 - Math.ceil(98 / r)));
    }
  });

  it('co-simulation with zero-block skipping (tern, 4x, 2x2 B=8, Fashion-MNIST fc1): bit-exact; a wrong block index is caught', async () => {
    const cfg = await loadConfig('tern-bs4', SMALL);
    const [layer0] = await loadLayers(FASHION_MNIST_MODEL, { layer: 'fc1.weight' });
    const m = layerMatrix(layer0!);
    const q = quantizeForConfig(cfg, m.data, m.N, m.K);
    const qm = quantizeMatrix(cfg, m.data, m.N, m.K);
    const layer = {
      name: 'fc1',
      N: m.N,
      K: q.K,
      blocks: q.blocks,
      layerMeta: q.layerMeta,
      blockKeep: q.blockKeep!,
    };
    const rows = 3;
    const r = new Rng(11);
    const A = Int8Array.from({ length: rows * q.K }, () => Math.floor(256 * r.float()) - 128);
    const golden = goldenMatmul(A, rows, qm, cfg.accumulator.bits);
    const good = await simulateMatmul(cfg, A, rows, layer);
    expect(good.mismatches).toBe(0);
    expect(Array.from(good.out)).toEqual(Array.from(golden));
    // The streamed cycles: every tile streams only its kept blocks (98 -> 25).
    const tiles = matmulTiles(cfg, rows, m.N);
    expect(good.vectors).toBe(tiles * 25);
    expect(good.vectors).toBe(matmulCycles(cfg, rows, m.N, q.K) - cfg.derived.latency);
    const bad = await simulateMatmul(cfg, A, rows, layer, { indexFault: true });
    expect(bad.mismatches).toBeGreaterThan(0);
    expect(Array.from(bad.out)).not.toEqual(Array.from(golden));
  }, 300_000);
});
