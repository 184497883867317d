// The measurements behind each sweep job, through the stages' own library entry points:
// synthesis (runSynth, PE target, its own cache), power from simulated activity (runPower),
// accuracy of the config's weights on a task (evaluateScheme), weight SQNR (quantizeMatrix).
import type { InferenceCost } from '../accuracy/inference.ts';
import type { ResolvedDpu } from '../config/resolve.ts';
import { DEFAULT_LAYER, DEFAULT_MODEL, modelFile } from '../power/stimulus.ts';
import type { AccuracyResult, Job, JobValue, PowerResult, SqnrResult, SynthResult } from './jobs.ts';
import type { SweepPoint, SweepSpec } from './spec.ts';

/** The bundled PP-OCRv4 detector and its 384 x 384 1x1 conv: power's and SQNR's default layer. */
export function defaultWeights(): { path: string; layer: string } {
  return { path: modelFile(DEFAULT_MODEL), layer: DEFAULT_LAYER };
}

/** The ONNX model a task runs (its sha256 is part of the accuracy key). */
export async function taskModelFile(task: string): Promise<string> {
  if (task === 'ocr') return (await import('../accuracy/tasks/ocr.ts')).paddleRecognizer().model;
  return (await import('../accuracy/tasks/fashion-mnist.ts')).FASHION_MNIST_MODEL;
}

export async function measureJob(
  job: Job,
  cfg: ResolvedDpu,
  spec: SweepSpec,
  onProgress: (msg: string) => void,
): Promise<JobValue> {
  if (job === 'synth') return synthJob(cfg, onProgress);
  if (job === 'power') return powerJob(cfg, spec, onProgress);
  if (job === 'accuracy') return accuracyJob(cfg, spec);
  return sqnrJob(cfg, spec);
}

async function synthJob(cfg: ResolvedDpu, onProgress: (msg: string) => void): Promise<SynthResult> {
  const { runSynth } = await import('../synth/index.ts');
  const r = await runSynth(cfg, { target: 'pe', onProgress });
  return {
    areaUm2: r.area.total,
    areaPerMacUm2: r.area.perMac,
    fmaxMhz: r.timing.fmaxMhz,
    cells: r.area.cellCount,
    byRoleUm2: r.area.byRole,
  };
}

async function powerJob(
  cfg: ResolvedDpu,
  spec: SweepSpec,
  onProgress: (msg: string) => void,
): Promise<PowerResult> {
  const { runPower } = await import('../power/index.ts');
  const p = spec.power;
  const weights = p.weights
    ? { path: p.weights, layer: p.layer }
    : { path: defaultWeights().path, layer: p.layer ?? defaultWeights().layer };
  const r = await runPower(cfg, { weights, cycles: p.cycles, seed: p.seed, onProgress });
  const mhz = r.clock.mhz;
  return {
    powerMw: r.power.totalW * 1e3,
    idleMw: r.power.idleW * 1e3,
    clockMhz: mhz,
    meanToggleRate: r.activity.meanToggleRate,
    energyPerMacPj: (r.power.totalW / (mhz * 1e6) / cfg.pe.block) * 1e12,
    byRoleMw: Object.fromEntries(Object.entries(r.power.byRole).map(([k, v]) => [k, v.totalW * 1e3])),
  };
}

async function accuracyJob(cfg: ResolvedDpu, spec: SweepSpec): Promise<AccuracyResult> {
  const { evaluateScheme } = await import('../accuracy/evaluate.ts');
  const { loadModel } = await import('../accuracy/model.ts');
  const { wilson } = await import('../accuracy/stats.ts');
  const { task: name, limit } = spec.accuracy;
  const task =
    name === 'ocr'
      ? await (await import('../accuracy/tasks/ocr.ts')).ocrTask(limit)
      : (await import('../accuracy/tasks/fashion-mnist.ts')).fashionMnistTask(undefined, limit);
  const model = await loadModel(task.model);
  const run = await evaluateScheme(
    task,
    model,
    { kind: 'config', id: cfg.name, cfg, select: 'magnitude' },
    [],
    () => {},
  );
  const c = run.scores.correct;
  let k = 0;
  const bits = new Uint8Array(Math.ceil(c.length / 8));
  for (let i = 0; i < c.length; i++) {
    if (c[i]) {
      k++;
      bits[i >> 3]! |= 1 << (i & 7);
    }
  }
  const w = wilson(k, c.length);
  return {
    task: name,
    samples: c.length,
    top1: k / c.length,
    lo: w.lo,
    hi: w.hi,
    correct: Buffer.from(bits).toString('base64'),
  };
}

/** Per-sample correctness back from its base64 bits. */
export function correctOf(r: AccuracyResult): Uint8Array {
  const bits = Buffer.from(r.correct, 'base64');
  const out = new Uint8Array(r.samples);
  for (let i = 0; i < r.samples; i++) out[i] = (bits[i >> 3]! >> (i & 7)) & 1;
  return out;
}

async function sqnrJob(cfg: ResolvedDpu, spec: SweepSpec): Promise<SqnrResult> {
  const { loadLayers, sqnrDb } = await import('../quant/index.ts');
  const { evaluateLayer } = await import('../quant/evaluate.ts');
  const path = spec.sqnr.weights ?? defaultWeights().path;
  const layerName = spec.sqnr.layer ?? (spec.sqnr.weights ? undefined : defaultWeights().layer);
  const layers = await loadLayers(path, layerName === undefined ? {} : { layer: layerName });
  // Every layer of the file (or the one named): SQNR of the pooled weight error, measured by the
  // quantizer's own evaluation (in the layer's order under scope 'layer'; unpermutable layers on H lanes).
  const scheme = { low: cfg.pe.low, select: 'magnitude', cfg, block: cfg.pe.block } as const;
  let signal = 0;
  let error = 0;
  for (const layer of layers) {
    const { sums } = evaluateLayer(layer, scheme as Parameters<typeof evaluateLayer>[1], { rows: 1 });
    signal += sums.signal;
    error += sums.error;
  }
  return { layer: layerName ?? `${layers.length} layers`, weightSqnrDb: sqnrDb(signal, error) };
}

/**
 * Metric 'inference': one inference of the accuracy task's network on each point's array
 * (cycles from the array's schedule; the report turns them into energy with the measured
 * power). Derived, not measured: no cache record. A string says why a point has none.
 */
export async function inferenceCosts(
  spec: SweepSpec,
  points: readonly SweepPoint[],
): Promise<Map<string, InferenceCost | string>> {
  const out = new Map<string, InferenceCost | string>();
  if (!spec.metrics.includes('inference')) return out;
  const { inferenceCost } = await import('../accuracy/inference.ts');
  const { loadModel } = await import('../accuracy/model.ts');
  const model = await loadModel(await taskModelFile(spec.accuracy.task));
  for (const p of points) {
    try {
      out.set(p.cfg.hash, inferenceCost(model, p.cfg));
    } catch (e) {
      out.set(p.cfg.hash, e instanceof Error ? e.message.split('\n')[0]! : String(e));
    }
  }
  return out;
}
