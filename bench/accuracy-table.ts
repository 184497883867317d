// Regenerates the accuracy tables of docs/ACCURACY.md: both tasks (Fashion-MNIST on the 10,000
// test images, the PaddleOCR v4 recognizer on 1,000 rendered lines) x float, INT8, INT4 and
// every StruM format x policy at B/H = 16/8, 4/2 and 2/1. Usage:
//   npx tsx bench/accuracy-table.ts [--task fashion-mnist|ocr|all] [--write]
// Each scheme's per-sample scores are cached in .cache/strumgen/accuracy-table/ (an interrupted
// run resumes; --only-cached assembles what is there), each task's summary in <task>.json; --write puts
// the tables of every task measured so far between the accuracy-table markers of
// docs/ACCURACY.md (and the charts in docs/accuracy-<task>.svg).
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { evaluateScheme, type SchemeScores } from '../src/accuracy/evaluate.ts';
import { accuracyReport, loadTask } from '../src/accuracy/index.ts';
import { loadModel } from '../src/accuracy/model.ts';
import { type AccuracyReport, CLAIM_POINTS, renderSvg, schemeTable } from '../src/accuracy/report.ts';
import { parseSchemes, type Scheme, schemeLabel } from '../src/accuracy/schemes.ts';
import { sampleCount } from '../src/accuracy/task.ts';
import { cacheRoot } from '../src/sim/index.ts';

const { values } = parseArgs({
  options: {
    task: { type: 'string', default: 'all' },
    write: { type: 'boolean', default: false },
    limit: { type: 'string' },
    'only-cached': { type: 'boolean', default: false },
  },
});
const TASK_NAMES = values.task === 'all' ? ['fashion-mnist', 'ocr'] : [values.task!];
const BLOCKS = [16, 4, 2];
const STRUM = ['mip2q:magnitude', 'mip2q:error', 'dliq:magnitude', 'dliq:error', 'sparse:magnitude'];
const dir = join(cacheRoot(), 'accuracy-table');
mkdirSync(dir, { recursive: true });

/** INT8 first (the reference), then B = 16, 4, 2, then the INT4 and float yardsticks. */
async function schemesFor(): Promise<Scheme[]> {
  const ctx = (block: number) => ({ overrides: { 'pe.block': block }, select: 'magnitude' as const });
  const out = await parseSchemes('int8', ctx(16));
  for (const b of BLOCKS) out.push(...(await parseSchemes(STRUM.join(','), ctx(b))));
  out.push(...(await parseSchemes('int4,float', ctx(16))));
  return out;
}

interface Cached {
  readonly model: string;
  readonly samples: number;
  readonly seconds: number;
  readonly scores: {
    correct: number[];
    edits?: number[];
    refLength?: number[];
    predictions?: number[];
    examples?: { label: string; read: string }[];
  };
}

function cacheFile(task: string, samples: number, s: Scheme): string {
  const label = schemeLabel(s).replace(/[^A-Za-z0-9=.-]+/g, '_');
  return join(dir, `${task}-${samples}-${label}.json`);
}

function loadCached(
  file: string,
  model: string,
  samples: number,
): (SchemeScores['scores'] & { seconds: number }) | null {
  try {
    const c = JSON.parse(readFileSync(file, 'utf8')) as Cached;
    if (c.model !== model || c.samples !== samples) return null;
    return {
      correct: Uint8Array.from(c.scores.correct),
      ...(c.scores.edits
        ? { edits: Int32Array.from(c.scores.edits), refLength: Int32Array.from(c.scores.refLength!) }
        : {}),
      ...(c.scores.predictions ? { predictions: Int32Array.from(c.scores.predictions) } : {}),
      ...(c.scores.examples ? { examples: c.scores.examples } : {}),
      seconds: c.seconds,
    };
  } catch {
    return null;
  }
}

for (const name of TASK_NAMES) {
  const t0 = performance.now();
  const task = await loadTask(name, values.limit ? { limit: Number(values.limit) } : {});
  const model = await loadModel(task.model);
  const runs: SchemeScores[] = [];
  const schemes = await schemesFor();
  const modelSha = createHash('sha256').update(model.bytes).digest('hex');
  const samples = sampleCount(task);
  let seconds = 0;
  const missing: string[] = [];
  for (const [i, s] of schemes.entries()) {
    const file = cacheFile(name, samples, s);
    const hit = loadCached(file, modelSha, samples);
    if (hit) {
      const { seconds: sec, ...scores } = hit;
      runs.push({ scheme: s, scores, keptInt8: [], seconds: sec });
      seconds += sec;
      continue;
    }
    if (values['only-cached']) {
      missing.push(schemeLabel(s));
      continue;
    }
    const r = await evaluateScheme(task, model, s, [], () => {});
    runs.push(r);
    seconds += r.seconds;
    const plain = (a?: ArrayLike<number>) => (a ? Array.from(a) : undefined);
    const sc = r.scores;
    const cached: Cached = {
      model: modelSha,
      samples,
      seconds: r.seconds,
      scores: {
        correct: Array.from(sc.correct),
        edits: plain(sc.edits),
        refLength: plain(sc.refLength),
        predictions: plain(sc.predictions),
        examples: sc.examples ? [...sc.examples] : undefined,
      },
    };
    writeFileSync(`${file}.tmp`, JSON.stringify(cached));
    renameSync(`${file}.tmp`, file);
    process.stderr.write(
      `accuracy-table: ${name} [${i + 1}/${schemes.length}] ${schemeLabel(s)} ${r.seconds.toFixed(0)} s\n`,
    );
  }
  const report: AccuracyReport = {
    ...accuracyReport(task, model.bytes, runs, `npx tsx bench/accuracy-table.ts --task ${name}`),
    // The table names the model by its place in the package, not this machine's path.
    model: task.model.replace(/^.*\/(node_modules|models)\//, '$1/'),
  };
  void t0;
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify({ report, seconds, missing }, null, 2)}\n`);
  process.stderr.write(`accuracy-table: ${name} done in ${seconds.toFixed(0)} s\n`);
}

if (values.write) {
  const parts: string[] = ['Generated by `npx tsx bench/accuracy-table.ts --write`.', ''];
  for (const name of ['fashion-mnist', 'ocr']) {
    let saved: { report: AccuracyReport; seconds: number; missing?: string[] };
    try {
      saved = JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8'));
    } catch {
      continue;
    }
    const r = saved.report;
    const meets = r.schemes.filter((s) => s.verdict === 'meets').map((s) => s.label);
    const fails = r.schemes.filter((s) => s.verdict === 'fails').map((s) => s.label);
    const open = r.schemes.filter((s) => s.verdict === 'undecided').map((s) => s.label);
    parts.push(
      `**${r.task}**: \`${r.model}\`, ${r.metric} on ${r.samples} samples from ${r.source} ` +
        `(onnxruntime-node ${r.tools.onnxruntime}, ${(saved.seconds / 60).toFixed(0)} min).`,
      '',
      schemeTable(r),
      '',
      `Within ${CLAIM_POINTS} point of INT8 (whole 95% interval of the change above -${CLAIM_POINTS}): ` +
        `${meets.join('; ') || 'none'}. ` +
        `More than ${CLAIM_POINTS} point below INT8 (whole interval below -${CLAIM_POINTS}): ${fails.join('; ') || 'none'}. ` +
        `Undecided at this sample size: ${open.join('; ') || 'none'}.`,
      '',
      ...(saved.missing?.length
        ? [
            `Not measured yet (the run did not finish in the session's time): ${saved.missing.join('; ')}.`,
            '',
          ]
        : []),
      `![${r.task} accuracy per scheme](accuracy-${r.task}.svg)`,
      '',
    );
    writeFileSync(`docs/accuracy-${r.task}.svg`, renderSvg(r));
  }
  const file = 'docs/ACCURACY.md';
  const doc = readFileSync(file, 'utf8');
  const begin = '<!-- accuracy-table:begin -->';
  const end = '<!-- accuracy-table:end -->';
  const a = doc.indexOf(begin);
  const b = doc.indexOf(end);
  if (a < 0 || b < a) throw new Error(`${file}: no ${begin} ... ${end} markers`);
  const next = `${doc.slice(0, a + begin.length)}\n${parts.join('\n')}${doc.slice(b)}`;
  writeFileSync(`${file}.tmp`, next);
  renameSync(`${file}.tmp`, file);
  process.stderr.write(`accuracy-table: wrote ${file}\n`);
}
