// Verilator co-simulation of a generated array against the golden model:
// build (cached) -> seeded stimulus -> harness run -> bulk check -> report.
// docs/SIMULATION.md describes the stream, the harness formats and the reports.

import { closeSync, openSync, readSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { UserError } from '../config/errors.ts';
import { configOf, type ResolvedDpu, resolveConfig } from '../config/resolve.ts';
import { cacheDir } from '../io/cache.ts';
import { fsStep, makeDirs } from '../io/fs-errors.ts';
import { checkOutputFile } from '../io/output.ts';
import { registerTemp, removeTemp } from '../io/process.ts';
import { Rng } from '../io/rng.ts';
import { layerMatrix, loadLayers, quantizeForConfig } from '../quant/index.ts';
import type { FaultKind, RtlBundle } from '../rtl/index.ts';
import { type BuildMode, buildModel, type TraceFormat } from './build.ts';
import { Checker, type MismatchReport } from './check.ts';
import { blockDotKernel } from './dot.ts';
import { runHarness } from './run.ts';
import {
  activationPool,
  encodeChunk,
  type LayerWeights,
  layerPool,
  peActivationPool,
  portGeometry,
  randomLayerMeta,
  StimulusStream,
  streamHeader,
  weightPool,
} from './stimulus.ts';

export {
  BUILD_MODES,
  type BuildMode,
  buildModel,
  cacheRoot,
  DEFAULT_BUILD_MODE,
  defaultBuildMode,
  PE_MODELS_FROM,
  type SimBuild,
  verilatorFlags,
} from './build.ts';
export type { MismatchKind, MismatchReport, PartialSum } from './check.ts';

export const DEFAULT_VECTORS = 100_000;
export const DEFAULT_SEED = 1;
/** Random blocks per pool (plus the edge blocks). */
const POOL_BLOCKS = 2048;
/** Cycles per chunk handed to the harness. */
const CHUNK_CYCLES = 8192;
/** Largest waveform window, in cycles. */
export const WAVES_WINDOW = 20_000;

export interface SimOptions {
  /** Valid array cycles (vectors) to simulate; default 100000. */
  readonly vectors?: number;
  readonly seed?: number;
  /** Real weights: a model file and one of its tensors (default: the first). */
  readonly weights?: { readonly path: string; readonly layer?: string };
  /** Write waveforms here (.fst, or .vcd), around the first mismatch when there is one. */
  readonly waves?: string;
  /** Test-only deliberate RTL bug. */
  readonly fault?: FaultKind;
  /**
   * Test-only wrong weights: 'per-pe-masks' draws (or quantizes) them with a mask per PE, as
   * pe.maskScope 'pe' would, whatever the config's scope: with 'group' a column group's masks
   * then differ (a wrong shared mask), with 'layer' the blocks are not in lane order (a wrong
   * permutation). The checker must flag the result.
   */
  readonly stimulusFault?: 'per-pe-masks';
  /** Simulate this RTL instead of the config's generated RTL (hand-edited RTL, tests). */
  readonly rtl?: RtlBundle;
  /** How Verilator builds the array (default: the PE as one module; bench/sim-scale.ts). */
  readonly buildMode?: BuildMode;
  /** Re-run: the same stream up to this tile, checking only it. */
  readonly tile?: number;
  /** Begin with the edge-case tiles (default true; ignored with weights). */
  readonly edges?: boolean;
  /** Kill the simulation after this long (default 60 s + 50 us per vector). */
  readonly timeoutMs?: number;
  /** Command prefix for re-run hints, e.g. "npx strumgen sim strum-mip2q --rows 2". */
  readonly rerunBase?: string;
  readonly onProgress?: (msg: string) => void;
  /** Overwrite an existing --waves file that is not a waveform. */
  readonly force?: boolean;
}

/** An earlier waveform (VCD text starts with a $ keyword; an FST starts with its header block, type 0). */
function looksLikeWaves(file: string): boolean {
  const head = Buffer.alloc(64);
  let n = 0;
  try {
    const fd = openSync(file, 'r');
    try {
      n = readSync(fd, head, 0, 64, 0);
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
  if (n === 0) return true;
  if (/\.vcd$/i.test(file)) return /^\s*\$[a-z]+/.test(head.subarray(0, n).toString('latin1'));
  return head[0] === 0;
}

export interface SimResult {
  readonly pass: boolean;
  /** Valid cycles (one activation block per row and one weight block per column each). */
  readonly vectors: number;
  readonly tiles: number;
  /** Tiles whose results were compared (all, or the one --tile names). */
  readonly tilesChecked: number;
  /** Clock cycles simulated (vectors, idle cycles and the final drain). */
  readonly cycles: number;
  /** Mismatching result values, plus tiles with a wrong or missing out_valid. */
  readonly mismatches: number;
  readonly firstMismatches: readonly MismatchReport[];
  /** PEs with at least one wrong value, "row,col". */
  readonly badPes: readonly string[];
  /** Whole path (stimulus, simulation, checking), build excluded. */
  readonly arrayCyclesPerSec: number;
  /** Multiply-accumulates checked per second: vectors * rows * cols * B / seconds. */
  readonly macsPerSec: number;
  readonly macs: number;
  readonly simSeconds: number;
  /** The model's own clock loop (harness eval time only): the raw speed of the model. */
  readonly modelCyclesPerSec: number;
  /** CPU time of the run: this Node process (stimulus, checking) and the harness (model). */
  readonly cpuSeconds: { readonly node: number; readonly harness: number };
  readonly buildSeconds: number;
  readonly cached: boolean;
  readonly seed: number;
  readonly config: { readonly name: string; readonly hash: string };
  readonly verilator: string;
  readonly buildCommand: string;
  /** Which bulk dot-product kernel checked the run ('wasm-simd' or 'js'). */
  readonly kernel: string;
  readonly weights?: {
    readonly path: string;
    readonly layer: string;
    readonly N: number;
    readonly K: number;
  };
  readonly waves?: string;
}

/** Writes the normalized config where a re-run command can name it. */
function configFile(cfg: ResolvedDpu): string {
  const dir = cacheDir('configs');
  const file = join(dir, `${cfg.name}-${cfg.shortHash}.json`);
  const tmp = registerTemp(`${file}.${process.pid}.tmp`);
  fsStep('write', file, () => {
    writeFileSync(tmp, `${JSON.stringify(configOf(cfg), null, 2)}\n`);
    renameSync(tmp, file);
  });
  removeTemp(tmp);
  const rel = relative(process.cwd(), file);
  return rel.startsWith('..') ? file : rel;
}

/** The config with one mask per PE (pe.maskScope 'pe'): the test-only stimulus fault. */
function perPeMaskTwin(cfg: ResolvedDpu): ResolvedDpu {
  const c = configOf(cfg);
  const { maskScope: _scope, ...pe } = c.pe;
  return resolveConfig({ ...c, pe }, `${cfg.name} with per-PE masks`);
}

async function loadLayer(
  cfg: ResolvedDpu,
  w: { path: string; layer?: string },
  progress: (m: string) => void,
) {
  const layers = await loadLayers(w.path, w.layer === undefined ? {} : { layer: w.layer });
  const layer = layers[0]!;
  if (w.layer === undefined && layers.length > 1) {
    progress(`${w.path}: ${layers.length} tensors, using the first (${layer.name}); pick one with --layer`);
  }
  const m = layerMatrix(layer);
  const q = quantizeForConfig(cfg, m.data, m.N, m.K, { channels: m.channels });
  const weights: LayerWeights = {
    name: layer.name,
    N: m.N,
    K: q.K,
    blocks: q.blocks,
    layerMeta: q.layerMeta,
  };
  return weights;
}

/**
 * Write the harness input of a run (header and every cycle record) to a file, for running
 * the harness by hand (`Vdut --in FILE --out OUT`) and for the raw-model benchmark.
 */
export function writeStimulus(
  cfg: ResolvedDpu,
  path: string,
  opts: { vectors?: number; seed?: number; edges?: boolean } = {},
): { cycles: number; vectors: number; tiles: number; bytes: number } {
  const rng = new Rng(opts.seed ?? DEFAULT_SEED);
  const layerMeta = randomLayerMeta(cfg, rng);
  const act = activationPool(cfg, rng, POOL_BLOCKS);
  const wgt = weightPool(cfg, rng, POOL_BLOCKS, layerMeta);
  const vectors = opts.vectors ?? DEFAULT_VECTORS;
  const stream = new StimulusStream(cfg, act, wgt, rng, { vectors, edges: opts.edges });
  const geometry = portGeometry(cfg);
  const tmp = registerTemp(`${path}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w');
  let bytes = 0;
  let cycles = 0;
  try {
    const put = (w: Uint32Array) => {
      writeSync(fd, new Uint8Array(w.buffer, w.byteOffset, w.byteLength));
      bytes += w.byteLength;
    };
    put(streamHeader(geometry, cfg.derived.latency + 4));
    for (let c = stream.next(CHUNK_CYCLES); c; c = stream.next(CHUNK_CYCLES)) {
      put(encodeChunk(cfg, geometry, act, wgt, c, layerMeta));
      cycles += c.n;
    }
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  removeTemp(tmp);
  return { cycles, vectors, tiles: stream.tiles, bytes };
}

export async function runSim(cfg: ResolvedDpu, opts: SimOptions = {}): Promise<SimResult> {
  const vectors = opts.vectors ?? DEFAULT_VECTORS;
  const seed = opts.seed ?? DEFAULT_SEED;
  if (!Number.isInteger(vectors) || vectors < 1 || vectors > 2 ** 31) {
    throw new UserError(`--vectors: ${vectors} is not an integer in 1..${2 ** 31}`);
  }
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new UserError(`--seed: ${seed} is not an integer in 0..4294967295`);
  }
  if (opts.tile !== undefined && (!Number.isInteger(opts.tile) || opts.tile < 0)) {
    throw new UserError(`--tile: ${opts.tile} is not a tile index`);
  }
  let trace: TraceFormat | undefined;
  if (opts.waves) {
    if (/\.fst$/i.test(opts.waves)) trace = 'fst';
    else if (/\.vcd$/i.test(opts.waves)) trace = 'vcd';
    else throw new UserError(`--waves ${opts.waves}: name a .fst or .vcd file`);
    // Checked before the (traced) build: a path we cannot or must not write fails at once.
    checkOutputFile(opts.waves, {
      flag: '--waves',
      force: opts.force,
      ours: looksLikeWaves,
      label: 'a waveform file',
    });
  }
  const progress = opts.onProgress ?? (() => {});
  const stimCfg = opts.stimulusFault ? perPeMaskTwin(cfg) : cfg;
  const layer = opts.weights ? await loadLayer(stimCfg, opts.weights, progress) : undefined;

  const build = await buildModel(cfg, {
    fault: opts.fault,
    rtl: opts.rtl,
    mode: opts.buildMode,
    onProgress: progress,
  });
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const { rows, cols } = cfg.array;
  const B = cfg.pe.block;
  const geometry = portGeometry(cfg);
  const outputDelay = cfg.derived.latency - 1;
  const drainCycles = cfg.derived.latency + 4;
  // 50 us per vector of an 8x8 array (about 10x the model's time), more for larger arrays;
  // 5x that for pe-models, whose model runs 2-7x slower (docs/PERFORMANCE.md).
  const perVector = build.mode === 'pe-models' ? 0.25 : 0.05;
  const timeoutMs = opts.timeoutMs ?? 60_000 + vectors * perVector * Math.max(1, (rows * cols) / 64);
  const base = opts.rerunBase ?? `npx strumgen sim ${configFile(cfg)}`;
  const weightArgs = opts.weights
    ? ` --weights ${opts.weights.path}${layer ? ` --layer ${layer.name}` : ''}`
    : '';
  const rerun = (tile: number) => `${base} --vectors ${vectors} --seed ${seed}${weightArgs} --tile ${tile}`;

  // The same seed gives the same pools and stream, so every pass below replays one stream.
  const makeStream = () => {
    const rng = new Rng(seed);
    const layerMeta = layer ? layer.layerMeta : randomLayerMeta(cfg, rng);
    const act = activationPool(cfg, rng, POOL_BLOCKS);
    const wgt = layer ? layerPool(cfg, layer) : weightPool(stimCfg, rng, POOL_BLOCKS, layerMeta);
    const stream = new StimulusStream(
      stimCfg,
      act,
      wgt,
      rng,
      { vectors, edges: opts.edges, lastTile: opts.tile },
      layer,
    );
    return { act, wgt, stream, layerMeta };
  };

  const { act, wgt, stream, layerMeta } = makeStream();
  const kernel = blockDotKernel(rows, cols, B, peActivationPool(cfg, act), wgt, cfg.derived.blockSumBits);
  const checker = new Checker(cfg, geometry, act, wgt, kernel, {
    outputDelay,
    layerMeta,
    onlyTile: opts.tile,
    labels: stream.labels,
    rerun,
  });
  let done = 0;
  let lastNote = performance.now();
  const run = await runHarness({
    binary: build.binary,
    geometry,
    next: () => stream.next(CHUNK_CYCLES),
    encode: (chunk) => encodeChunk(cfg, geometry, act, wgt, chunk, layerMeta),
    checker,
    drainCycles,
    timeoutMs,
    what: cfg.name,
    onChunk: (chunk) => {
      done += chunk.vectors;
      const now = performance.now();
      if (now - lastNote > 1000) {
        lastNote = now;
        const rate = chunk.start / ((now - t0) / 1000);
        progress(
          `simulating: ${((100 * done) / vectors).toFixed(0)}% (${done}/${vectors} vectors, ${rate >= 1e5 ? `${(rate / 1e6).toFixed(2)} M` : `${(rate / 1e3).toPrecision(3)} k`} cycles/s)`,
        );
      }
    },
  });
  const simSeconds = (performance.now() - t0) / 1000;
  const nodeCpu = process.cpuUsage(cpu0);
  const macs = done * rows * cols * B;
  if (opts.tile !== undefined && checker.tilesChecked === 0) {
    throw new UserError(
      `--tile ${opts.tile}: this stream has only ${stream.tiles} tiles (0..${stream.tiles - 1})`,
    );
  }

  let wavesFile: string | undefined;
  if (opts.waves && trace) {
    const file = resolve(opts.waves);
    wavesFile = file;
    const first = checker.reports.find((r) => r.tile >= 0);
    const to = first
      ? (first.outCycle ?? first.cycle + outputDelay) + 8
      : Math.min(run.cycles, WAVES_WINDOW) - 1;
    const from = first ? Math.max(0, Math.min(first.firstCycle - 16, to - WAVES_WINDOW)) : 0;
    progress(`waves: cycles ${from}..${to} -> ${file}`);
    const traced = await buildModel(cfg, {
      fault: opts.fault,
      rtl: opts.rtl,
      trace,
      mode: opts.buildMode,
      onProgress: progress,
    });
    const replay = makeStream();
    const tmp = registerTemp(`${file}.${process.pid}.tmp.${trace}`);
    fsStep('create directory', dirname(file), () => makeDirs(dirname(file)));
    await runHarness({
      binary: traced.binary,
      geometry,
      next: () => {
        const c = replay.stream.next(CHUNK_CYCLES);
        return c && c.start <= to ? c : null;
      },
      encode: (chunk) => encodeChunk(cfg, geometry, replay.act, replay.wgt, chunk, replay.layerMeta),
      checker: null,
      drainCycles,
      timeoutMs: timeoutMs * 4,
      what: `${cfg.name} (waves)`,
      args: ['--waves', tmp, '--from', String(from), '--to', String(to)],
    });
    fsStep('write', file, () => renameSync(tmp, file));
    removeTemp(tmp);
  }

  return {
    pass: checker.mismatches === 0 && checker.tilesChecked > 0,
    vectors: done,
    tiles: stream.tiles,
    tilesChecked: checker.tilesChecked,
    cycles: run.cycles,
    mismatches: checker.mismatches,
    firstMismatches: checker.reports,
    badPes: [...checker.badPes],
    arrayCyclesPerSec: run.cycles / simSeconds,
    macsPerSec: macs / simSeconds,
    macs,
    simSeconds,
    modelCyclesPerSec: run.cycles / run.evalSeconds,
    cpuSeconds: { node: (nodeCpu.user + nodeCpu.system) / 1e6, harness: run.harnessCpuSeconds },
    buildSeconds: build.seconds,
    cached: build.cached,
    seed,
    config: { name: cfg.name, hash: cfg.hash },
    verilator: build.verilatorVersion,
    buildCommand: build.command,
    kernel: kernel.kind,
    ...(layer && opts.weights
      ? { weights: { path: opts.weights.path, layer: layer.name, N: layer.N, K: layer.K } }
      : {}),
    ...(wavesFile ? { waves: wavesFile } : {}),
  };
}
export { type MatmulResult, simulateMatmul } from './matmul.ts';
export { matmulCycles, matmulTiles } from './schedule.ts';
export type { LayerWeights } from './stimulus.ts';
