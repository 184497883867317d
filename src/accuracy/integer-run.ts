// The integer path of `strumgen accuracy --integer` / `--rtl`: for each hardware scheme the
// golden integer network (integer.ts) on every sample, the same network as an onnxruntime
// ConvInteger/MatMulInteger graph (must agree logit for logit), the change against the
// weight-only fake quantization, and with --rtl the conv/FC layers on the generated array
// in Verilator (must give the golden model's predictions image for image).

import { UserError } from '../config/errors.ts';
import { maskScopeOf } from '../config/mask-scope.ts';
import type { ResolvedDpu } from '../config/resolve.ts';
import { structureOf } from '../format/structure.ts';
import { quantizeForConfig } from '../quant/index.ts';
import { type LayerWeights, simulateMatmul } from '../sim/index.ts';
import type { SchemeScores } from './evaluate.ts';
import {
  argmax,
  calibrate,
  goldenMatmul,
  type IntegerNet,
  type IntWeights,
  integerGraph,
  integerOnnx,
  quantizeInput,
  quantizeNet,
  runInteger,
  runIntegerOnnx,
} from './integer.ts';
import { loadModel } from './model.ts';
import type { Interval } from './stats.ts';
import { type PairedChange, pairedChange, wilson } from './stats.ts';
import type { ClassifyData, Task } from './task.ts';

/** Images per golden / onnxruntime / RTL batch. */
export const INTEGER_BATCH = 500;

export interface IntegerSchemeResult {
  readonly id: string;
  /** Golden integer model top-1. */
  readonly accuracy: Interval;
  /** Integer path minus weight-only fake quantization, same samples. */
  readonly changeVsFakeQuant: PairedChange;
  /** Samples whose prediction differs between the two. */
  readonly predictionsDifferFromFakeQuant: number;
  /**
   * onnxruntime integer graph: samples whose logits all equal the golden model's, and equal
   * predictions; null for an SDP design on the activations (ConvInteger cannot select parts per activation group).
   */
  readonly onnxLogitsEqual: number | null;
  readonly onnxPredictionsEqual: number | null;
  readonly rtl?: RtlResult;
  readonly seconds: number;
}

export interface RtlResult {
  readonly config: {
    readonly name: string;
    readonly hash: string;
    readonly rows: number;
    readonly cols: number;
  };
  readonly images: number;
  readonly accuracy: Interval;
  /** Images whose RTL logits equal the golden integer model's exactly / same prediction. */
  readonly logitsEqual: number;
  readonly predictionsEqual: number;
  /** Array results that differ from the golden model (the co-simulation checker). */
  readonly mismatches: number;
  readonly tiles: number;
  readonly cycles: number;
  readonly macs: number;
  readonly simSeconds: number;
  readonly buildSeconds: number;
}

export interface IntegerReport {
  readonly calibration: string;
  readonly activationScales: readonly number[];
  readonly layers: readonly string[];
  readonly schemes: readonly IntegerSchemeResult[];
  /** With keepCorrect: 1 where scheme i's golden integer prediction is right. */
  readonly correct?: readonly Uint8Array[];
}

function inputsOf(d: ClassifyData, count: number): Int8Array {
  const per = d.sampleDims.reduce((a, b) => a * b, 1);
  const x = new Float32Array(per);
  const out = new Int8Array(count * per);
  for (let i = 0; i < count; i++) {
    d.sample(i, x, 0);
    quantizeInput(x, out, i * per);
  }
  return out;
}

/** The layers' weight blocks for the array (the same quantizer, as packed for the config). */
function layerBlocks(net: IntegerNet, cfg: ResolvedDpu, select: 'magnitude' | 'error'): LayerWeights[] {
  if (maskScopeOf(cfg).kind === 'layer') {
    throw new UserError(
      `--rtl: ${cfg.name}: pe.maskScope 'layer' runs only as fake quantization (leave out --rtl)`,
    );
  }
  return net.layers.map((l) => {
    const q = quantizeForConfig(cfg, l.weights, l.N, l.K, { select });
    return {
      name: l.name,
      N: l.N,
      K: q.K,
      blocks: q.blocks,
      layerMeta: q.layerMeta,
      ...(q.blockKeep ? { blockKeep: q.blockKeep } : {}),
    };
  });
}

export interface IntegerOptions {
  readonly rtl?: boolean;
  /** Images for --rtl (default: all of the task's samples). */
  readonly rtlLimit?: number;
  readonly onProgress?: (m: string) => void;
  /** Also return each scheme's per-sample correctness (IntegerReport.correct; not for JSON). */
  readonly keepCorrect?: boolean;
}

/** Refuses, before any work, a task the integer path cannot run (one line naming why). */
export async function checkIntegerTask(task: Task): Promise<void> {
  if (task.data.kind !== 'classify' || !task.calibration) {
    throw new UserError(`--integer/--rtl: the integer path runs CNN classifiers (not ${task.name})`);
  }
  integerGraph(await loadModel(task.model));
}

export async function integerPath(
  task: Task,
  runs: readonly SchemeScores[],
  o: IntegerOptions = {},
): Promise<IntegerReport> {
  if (task.data.kind !== 'classify' || !task.calibration) {
    throw new UserError(`--integer/--rtl: the integer path runs CNN classifiers (not ${task.name})`);
  }
  const say = o.onProgress ?? (() => {});
  const data = task.data;
  const model = await loadModel(task.model);
  const graph = integerGraph(model);
  const calib = task.calibration();
  const net = await calibrate(model, graph, calib.data);
  const n = data.count;
  const inputs = inputsOf(data, n);
  const per = data.sampleDims.reduce((a, b) => a * b, 1);
  const results: IntegerSchemeResult[] = [];
  const corrects: Uint8Array[] = [];
  for (const run of runs) {
    const s = run.scheme;
    if (s.kind !== 'config') continue;
    const t0 = performance.now();
    const w: IntWeights = quantizeNet(net, s.cfg, s.select);
    const golden = new Int32Array(n);
    const goldenLogits: Float64Array[] = [];
    let onnxEqual = 0;
    let onnxPred = 0;
    // A PE that selects activation parts (SDP on the activations): the golden matmul multiplies
    // what the PE does (each group's kept parts), which ConvInteger cannot; SDP on the weights
    // keeps parts of the weights, and those are w.q itself.
    const structure = structureOf(s.cfg);
    const onnxGraph = structure.activationSelection ? null : integerOnnx(net, w);
    for (let at = 0; at < n; at += INTEGER_BATCH) {
      const m = Math.min(INTEGER_BATCH, n - at);
      const x = inputs.subarray(at * per, (at + m) * per);
      const gl = await runInteger(net, w, x, m, (i, A, rows) =>
        goldenMatmul(structure.peActivations(A), rows, w.q[i]!, s.cfg.accumulator.bits),
      );
      const ol = onnxGraph ? await runIntegerOnnx(onnxGraph, x, [m, ...data.sampleDims]) : null;
      const N = gl.length / m;
      const gp = argmax(gl, m);
      const op = ol ? argmax(ol, m) : null;
      for (let i = 0; i < m; i++) {
        golden[at + i] = gp[i]!;
        if (!ol || !op) continue;
        let same = true;
        for (let c = 0; c < N; c++) if (gl[i * N + c] !== ol[i * N + c]) same = false;
        if (same) onnxEqual++;
        if (gp[i] === op[i]) onnxPred++;
      }
      goldenLogits.push(gl);
      say(`integer ${s.id}: ${at + m}/${n}`);
    }
    const correct = Uint8Array.from(golden, (p, i) => (p === data.labels[i] ? 1 : 0));
    corrects.push(correct);
    let right = 0;
    let differ = 0;
    for (let i = 0; i < n; i++) {
      right += correct[i]!;
      if (golden[i] !== run.scores.predictions?.[i]) differ++;
    }
    let rtl: RtlResult | undefined;
    if (o.rtl)
      rtl = await rtlRun(net, w, s.cfg, s.select, inputs, per, goldenLogits, data, o.rtlLimit ?? n, say);
    results.push({
      id: s.id,
      accuracy: wilson(right, n),
      changeVsFakeQuant: pairedChange(correct, run.scores.correct),
      predictionsDifferFromFakeQuant: differ,
      onnxLogitsEqual: onnxGraph ? onnxEqual : null,
      onnxPredictionsEqual: onnxGraph ? onnxPred : null,
      ...(rtl ? { rtl } : {}),
      seconds: (performance.now() - t0) / 1000,
    });
  }
  return {
    calibration: calib.source,
    activationScales: net.actScales,
    layers: net.layers.map((l) => l.name),
    schemes: results,
    ...(o.keepCorrect ? { correct: corrects } : {}),
  };
}

async function rtlRun(
  net: IntegerNet,
  w: IntWeights,
  cfg: ResolvedDpu,
  select: 'magnitude' | 'error',
  inputs: Int8Array,
  per: number,
  goldenLogits: readonly Float64Array[],
  data: ClassifyData,
  limit: number,
  say: (m: string) => void,
): Promise<RtlResult> {
  const blocks = layerBlocks(net, cfg, select);
  const images = Math.min(limit, data.count);
  let mismatches = 0;
  let tiles = 0;
  let cycles = 0;
  let macs = 0;
  let simSeconds = 0;
  let buildSeconds = 0;
  let logitsEqual = 0;
  let predictionsEqual = 0;
  let right = 0;
  for (let at = 0, batch = 0; at < images; at += INTEGER_BATCH, batch++) {
    const m = Math.min(INTEGER_BATCH, images - at);
    const x = inputs.subarray(at * per, (at + m) * per);
    const logits = await runInteger(net, w, x, m, async (i, A, rows) => {
      const r = await simulateMatmul(cfg, A, rows, blocks[i]!, { onProgress: say });
      mismatches += r.mismatches;
      tiles += r.tiles;
      cycles += r.cycles;
      macs += rows * blocks[i]!.N * blocks[i]!.K;
      simSeconds += r.seconds;
      buildSeconds += r.buildSeconds;
      return r.out;
    });
    const gl = goldenLogits[batch]!;
    const N = logits.length / m;
    const rp = argmax(logits, m);
    const gp = argmax(gl, m);
    for (let i = 0; i < m; i++) {
      let same = true;
      for (let c = 0; c < N; c++) if (logits[i * N + c] !== gl[i * N + c]) same = false;
      if (same) logitsEqual++;
      if (rp[i] === gp[i]) predictionsEqual++;
      if (rp[i] === data.labels[at + i]) right++;
    }
    say(`rtl ${cfg.name}: ${at + m}/${images} images, ${mismatches} mismatches`);
  }
  return {
    config: { name: cfg.name, hash: cfg.hash, rows: cfg.array.rows, cols: cfg.array.cols },
    images,
    accuracy: wilson(right, images),
    logitsEqual,
    predictionsEqual,
    mismatches,
    tiles,
    cycles,
    macs,
    simSeconds,
    buildSeconds,
  };
}

const pct = (x: number) => (100 * x).toFixed(2);
const pts = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(2)}`;

/** The integer-path section of the Markdown report. */
export function integerMarkdown(r: IntegerReport, samples: number): string {
  const lines = [
    '## Integer path',
    '',
    `int8 activations, requantized between layers (docs/ACCURACY.md, "Integer path"); activation scales calibrated ` +
      `on ${r.calibration}: ${r.activationScales.map((s) => s.toPrecision(4)).join(', ')}.`,
    '',
    '| scheme | integer top-1 % [95% CI] | change vs fake quantization, points [95% CI] | predictions differing | onnxruntime ConvInteger/MatMulInteger: equal logits / predictions |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...r.schemes.map(
      (s) =>
        `| ${s.id} | ${pct(s.accuracy.value)} [${pct(s.accuracy.lo)}, ${pct(s.accuracy.hi)}] | ` +
        `${pts(s.changeVsFakeQuant.value)} [${pts(s.changeVsFakeQuant.lo)}, ${pts(s.changeVsFakeQuant.hi)}] | ` +
        `${s.predictionsDifferFromFakeQuant} of ${samples} | ${s.onnxLogitsEqual === null ? 'n/a (SDP activations)' : `${s.onnxLogitsEqual} / ${s.onnxPredictionsEqual} of ${samples}`} |`,
    ),
  ];
  const rtl = r.schemes.filter((s) => s.rtl);
  if (rtl.length) {
    lines.push(
      '',
      '## On the generated array (Verilator)',
      '',
      '| scheme | array | images | RTL top-1 % | equal logits / predictions vs golden | array mismatches | MACs | cycles | sim s |',
      '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...rtl.map((s) => {
        const t = s.rtl!;
        return (
          `| ${s.id} | ${t.config.name} ${t.config.rows}x${t.config.cols} | ${t.images} | ${pct(t.accuracy.value)} | ` +
          `${t.logitsEqual} / ${t.predictionsEqual} | ${t.mismatches} | ${t.macs} | ${t.cycles} | ${t.simSeconds.toFixed(1)} |`
        );
      }),
    );
  }
  return lines.join('\n');
}
