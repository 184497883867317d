// The accuracy line of `strumgen flow`: Fashion-MNIST top-1 of the design's weights (its
// config exactly, fake quantization, onnxruntime) against INT8 on the same 10,000 images.
// Cached by config hash and model, so a re-run of the flow costs nothing.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../config/errors.ts';
import type { ResolvedDpu } from '../config/resolve.ts';
import { isBaselineFormat } from '../format/registry.ts';
import { structureOf } from '../format/structure.ts';
import { cacheRoot } from '../sim/index.ts';
import { evaluateScheme } from './evaluate.ts';
import { integerPath } from './integer-run.ts';
import { loadModel } from './model.ts';
import { summarizeSchemes, type Verdict, verdictOf } from './report.ts';
import { parseSchemes, type Scheme } from './schemes.ts';
import { type Interval, pairedChange } from './stats.ts';
import { fashionMnistTask } from './tasks/fashion-mnist.ts';

export interface FlowAccuracy {
  readonly task: 'fashion-mnist';
  readonly samples: number;
  readonly design: Interval;
  readonly int8: Interval;
  /** Paired change against INT8 (null when the design is the INT8 baseline). */
  readonly change: Interval | null;
  readonly verdict: Verdict | null;
  readonly cached: boolean;
  /**
   * 'integer' for an SDP design (structureOf(cfg).integerAccuracy): its precision is in the activations (or in weight parts the
   * PE reads from the stored entries), so both top-1s are the integer path's (int8 activations,
   * golden integer model); absent: fake-quantized weights.
   */
  readonly path?: 'integer';
}

export async function designAccuracy(cfg: ResolvedDpu): Promise<FlowAccuracy> {
  const task = fashionMnistTask();
  const model = await loadModel(task.model);
  const sha = createHash('sha256').update(model.bytes).digest('hex').slice(0, 16);
  const dir = join(cacheRoot(), 'accuracy');
  const file = join(dir, `flow-${cfg.shortHash}-${sha}.json`);
  try {
    return { ...(JSON.parse(readFileSync(file, 'utf8')) as FlowAccuracy), cached: true };
  } catch {
    // not cached yet
  }
  const design: Scheme = { kind: 'config', id: cfg.name, cfg, select: 'magnitude' };
  const [int8] = await parseSchemes('int8', { overrides: { 'pe.block': cfg.pe.block }, select: 'magnitude' });
  const runs = [await evaluateScheme(task, model, int8!, [], () => {})];
  // A PE structure (SDP) is measured on the integer path, where its activations are the PE's.
  const integer = structureOf(cfg).integerAccuracy;
  if (!isBaselineFormat(cfg.pe.low) || integer)
    runs.push(await evaluateScheme(task, model, design, [], () => {}));
  const { results } = summarizeSchemes(runs);
  const mine = results.at(-1)!;
  if (integer) {
    // SDP drops activation parts: only the integer path (int8 activations) sees it; static SDP
    // (weights) runs the same path, so every SDP design is measured the same way.
    const r = await integerPath(task, runs, { keepCorrect: true });
    const [base, ours] = r.correct!;
    const change = pairedChange(ours!, base!);
    const out: FlowAccuracy = {
      task: 'fashion-mnist',
      samples: ours!.length,
      design: r.schemes[1]!.accuracy,
      int8: r.schemes[0]!.accuracy,
      change,
      verdict: verdictOf(change),
      cached: false,
      path: 'integer',
    };
    cacheWrite(dir, file, out);
    return out;
  }
  const out: FlowAccuracy = {
    task: 'fashion-mnist',
    samples: mine.samples,
    design: mine.accuracy,
    int8: results[0]!.accuracy,
    change: mine.change,
    verdict: mine.verdict,
    cached: false,
  };
  cacheWrite(dir, file, out);
  return out;
}

function cacheWrite(dir: string, file: string, out: FlowAccuracy): void {
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${file}.tmp`, JSON.stringify(out));
    renameSync(`${file}.tmp`, file);
  } catch (e) {
    throw new UserError(`${file}: cannot write the accuracy cache (${(e as Error).message})`);
  }
}
