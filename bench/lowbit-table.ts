// The 1-3-bit + block-sparsity table of docs/LOWBIT.md: for binary, ternary and INT3 weights
// at 1x, 4x and 8x block compression, next to INT8 and StruM, on a 4x4 array at B = 16:
// weight memory of the Fashion-MNIST CNN, array cycles and energy per inference, PE and array
// area and fmax (`strumgen synth`, osu018, cached), PE power (`strumgen power`, 100 MHz,
// activity on the default real layer, only kept blocks streamed), and Fashion-MNIST top-1
// post-training quantized and after constrained training (scripts/train-fashion-cnn.ts
// --config ... --init models/fashion-mnist-cnn.onnx; the trained models are cached in
// rtl-out/lowbit/, keyed on the config hash and the training flags).
// Usage: npx tsx bench/lowbit-table.ts [--epochs 1] [--no-train] [--no-array] [--array-timeout S] [--write]
//        [--train-only tern,binary,lowint] (train and cache the constrained models only)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runAccuracy } from '../src/accuracy/index.ts';
import { inferenceCost, inferenceEnergyUj } from '../src/accuracy/inference.ts';
import { integerGraph } from '../src/accuracy/integer.ts';
import { loadModel } from '../src/accuracy/model.ts';
import {
  FASHION_MNIST_DIR,
  FASHION_MNIST_MODEL,
  fashionMnistTask,
} from '../src/accuracy/tasks/fashion-mnist.ts';
import { loadConfig } from '../src/config/load.ts';
import type { ResolvedDpu } from '../src/config/resolve.ts';
import { compressLayer, SCALE_BITS } from '../src/format/blocksparse.ts';
import { formatOf, isBaselineFormat } from '../src/format/registry.ts';
import { quantizeForConfig } from '../src/quant/index.ts';

const { values } = parseArgs({
  options: {
    epochs: { type: 'string', default: '1' },
    'no-train': { type: 'boolean', default: false },
    'no-array': { type: 'boolean', default: false },
    write: { type: 'boolean', default: false },
    // Yosys time limit of each array synthesis (s); a run that does not finish is n/a in the table.
    'array-timeout': { type: 'string', default: '3000' },
    // Only train (and cache) the constrained models of these formats (comma list), nothing else.
    'train-only': { type: 'string' },
  },
});
const CLOCK_MHZ = 100;

interface Design {
  readonly label: string;
  readonly preset: string;
  readonly set: Readonly<Record<string, string | number>>;
}
const DESIGNS: Design[] = [
  { label: 'INT8 (int8)', preset: 'int8', set: {} },
  { label: 'StruM MIP2Q (strum-mip2q)', preset: 'strum-mip2q', set: {} },
  { label: 'StruM DLIQ (strum-dliq)', preset: 'strum-dliq', set: {} },
];
for (const [label, low, extra] of [
  ['binary (1 bit)', 'binary', {}],
  ['ternary (2-bit code)', 'tern', {}],
  ['INT3 (3 bits)', 'lowint', { lowBits: 3 }],
] as const) {
  for (const r of [1, 4, 8]) {
    DESIGNS.push({
      label: `${label}, ${r}x`,
      preset: 'tern-bs4',
      set: { 'pe.low': low, ...extra, [`${low}.compression`]: r },
    });
  }
}

const setArgs = (d: Design) => Object.entries(d.set).flatMap(([k, v]) => ['--set', `${k}=${v}`]);
// biome-ignore lint/suspicious/noExplicitAny: the CLI reports are read as plain JSON
type Json = Record<string, any>;
const cli = (args: readonly string[]): Json => {
  process.stderr.write(`strumgen ${args.join(' ')}\n`);
  return JSON.parse(
    execFileSync('node', ['bin/strumgen.js', ...args], {
      encoding: 'utf8',
      maxBuffer: 1 << 28,
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
};

/** Weight memory of the CNN for the config: bits (codes, index, scales) and per weight. */
async function weightMemory(cfg: ResolvedDpu): Promise<{ bits: number; perWeight: number }> {
  const net = integerGraph(await loadModel(FASHION_MNIST_MODEL));
  let bits = 0;
  let weights = 0;
  for (const l of net.layers) {
    const q = quantizeForConfig(cfg, l.weights, l.N, l.K);
    weights += l.N * l.K;
    if (q.blockKeep)
      bits += compressLayer(q.blocks, q.blockKeep, cfg.pe.block, formatOf(cfg).codeBits).bits.total;
    else bits += l.N * (q.K / cfg.pe.block) * cfg.derived.weightBlockBits + l.N * SCALE_BITS;
  }
  return { bits, perWeight: bits / weights };
}

/** Top-1 of the config's scheme on the 10,000 test images, with this model. */
async function top1(d: Design, model: string): Promise<number> {
  const task = fashionMnistTask(FASHION_MNIST_DIR, undefined, model);
  const { report } = await runAccuracy(task, {
    schemes: 'config',
    context: { config: d.preset, overrides: d.set, select: 'magnitude' },
  });
  const s = report.schemes.find((x) => x.config && !isBaselineFormat(x.config.low)) ?? report.schemes[0]!;
  return s.accuracy.value;
}

/** The constrained-trained model of a design (trained once, cached under rtl-out/lowbit/). */
function trained(d: Design, cfg: ResolvedDpu): string | null {
  if (!cfg.pe.low.match(/^(binary|tern|lowint)$/) || values['no-train']) return null;
  const file = `rtl-out/lowbit/train-${cfg.name}-${cfg.shortHash}-e${values.epochs}.onnx`;
  if (!existsSync(file)) {
    mkdirSync('rtl-out/lowbit', { recursive: true });
    const args = ['scripts/train-fashion-cnn.ts', '--epochs', values.epochs!, '--lr', '0.001'];
    args.push('--config', d.preset, ...setArgs(d), '--init', 'models/fashion-mnist-cnn.onnx', '--out', file);
    process.stderr.write(`npx tsx ${args.join(' ')}\n`);
    execFileSync('npx', ['tsx', ...args], { stdio: 'inherit' });
  }
  return file;
}

if (values['train-only'] !== undefined) {
  const lows = values['train-only'].split(',');
  for (const d of DESIGNS) {
    const cfg = await loadConfig(d.preset, d.set);
    if (lows.includes(cfg.pe.low)) process.stdout.write(`${trained(d, cfg)}\n`);
  }
  process.exit(0);
}

const rows: Json[] = [];
const model = await loadModel(FASHION_MNIST_MODEL);
for (const d of DESIGNS) {
  const cfg = await loadConfig(d.preset, d.set);
  // The hardware measurements of a config (synthesis is cached by strumgen; power and the
  // rest here, per config hash: remove rtl-out/lowbit/ to measure again).
  const file = `rtl-out/lowbit/measure-${cfg.name}-${cfg.shortHash}.json`;
  let m: Json;
  if (existsSync(file)) m = JSON.parse(readFileSync(file, 'utf8'));
  else {
    const synth = cli(['synth', d.preset, ...setArgs(d), '--json']);
    const power = cli(['power', d.preset, ...setArgs(d), '--json']);
    const mw = 1000 * (power.power.totalW as number);
    const cost = inferenceCost(model, cfg);
    m = {
      config: { preset: d.preset, set: d.set, hash: cfg.hash },
      memory: await weightMemory(cfg),
      cycles: cost.cycles,
      peArea: synth.area.total,
      fmaxMhz: synth.timing.fmaxMhz,
      powerMw: mw,
      energyNj: 1000 * inferenceEnergyUj(cost, mw, CLOCK_MHZ),
      ptq: await top1(d, FASHION_MNIST_MODEL),
    };
    mkdirSync('rtl-out/lowbit', { recursive: true });
    writeFileSync(file, JSON.stringify(m, null, 1));
  }
  // The array's area (strumgen caches the synthesis: the same RTL for every compression).
  let array: Json | null = null;
  if (!values['no-array']) {
    try {
      array = cli([
        'synth',
        d.preset,
        ...setArgs(d),
        '--target',
        'array',
        '--timeout',
        values['array-timeout']!,
        '--json',
      ]);
    } catch {
      process.stderr.write(`array synthesis of ${d.label}: not within ${values['array-timeout']} s (n/a)\n`);
    }
  }
  const t = trained(d, cfg);
  rows.push({
    ...m,
    label: d.label,
    arrayArea: array?.area.total ?? null,
    constrained: t ? await top1(d, t) : null,
    trainedModel: t,
  });
}

const base = rows[0]!;
const ch = (a: number, b: number) => `${a >= b ? '+' : ''}${((100 * (a - b)) / b).toFixed(1)}%`;
const pct = (x: number | null) => (x === null ? 'n/a' : `${(100 * x).toFixed(2)}%`);
const lines = [
  '| design | weight memory KiB (bits/weight) | cycles / inference | PE area | vs INT8 | array area | fmax MHz | PE power mW | energy nJ / inference | vs INT8 | top-1 PTQ | top-1 constrained |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
];
for (const r of rows) {
  lines.push(
    `| ${r.label} | ${(r.memory.bits / 8192).toFixed(2)} (${r.memory.perWeight.toFixed(2)}) | ${r.cycles.toLocaleString('en-US')} | ${Math.round(r.peArea).toLocaleString('en-US')} | ${ch(r.peArea, base.peArea)} | ${r.arrayArea === null ? 'n/a' : Math.round(r.arrayArea).toLocaleString('en-US')} | ${(r.fmaxMhz as number).toFixed(1)} | ${r.powerMw.toFixed(2)} | ${r.energyNj.toFixed(1)} | ${ch(r.energyNj, base.energyNj)} | ${pct(r.ptq)} | ${pct(r.constrained)} |`,
  );
}
const table = lines.join('\n');
process.stdout.write(`${table}\n`);
mkdirSync('rtl-out', { recursive: true });
writeFileSync('rtl-out/lowbit-table.json', JSON.stringify(rows, null, 1));
if (values.write) {
  const doc = 'docs/LOWBIT.md';
  const text = readFileSync(doc, 'utf8');
  const [b, e] = ['<!-- lowbit-table:begin (bench/lowbit-table.ts) -->', '<!-- lowbit-table:end -->'];
  const i = text.indexOf(b);
  const j = text.indexOf(e);
  if (i < 0 || j < i) throw new Error(`${doc} has no lowbit-table markers`);
  writeFileSync(doc, `${text.slice(0, i + b.length)}\n${table}\n${text.slice(j)}`);
}
