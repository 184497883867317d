// The SDP comparison of docs/FORMATS.md ("SDP against StruM and INT8"): for each design the PE's
// area and fmax (runSynth = `strumgen synth`, osu018), its power from simulated activity
// (runPower = `strumgen power`) on the Fashion-MNIST CNN's fc1 layer with real activations (its
// int8 input activations on test images, from the integer path), throughput in values per cycle,
// and Fashion-MNIST top-1 through the integer path (int8 activations: the only path where SDP's
// dropped activation parts show); then the output SQNR of SDP's dropped parts per layer
// (src/accuracy/sdp-cost.ts) for a range of (G, K). Synthesis and power runs are cached.
// Usage: npx tsx bench/sdp-table.ts [--write] [--images 10000] [--sqnr-images 1000] [--cycles 2000]
// --static: only INT8 and the static SDP rows (weights), no SQNR section; with --write into its
// own block of docs/FORMATS.md (sdp-static-table), so the static PE can be measured on its own.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { evaluateScheme } from '../src/accuracy/evaluate.ts';
import {
  calibrate,
  goldenMatmul,
  integerGraph,
  quantizeInput,
  quantizeNet,
  runInteger,
} from '../src/accuracy/integer.ts';
import { integerPath } from '../src/accuracy/integer-run.ts';
import { loadModel } from '../src/accuracy/model.ts';
import { sdpCost } from '../src/accuracy/sdp-cost.ts';
import { pairedChange } from '../src/accuracy/stats.ts';
import { FASHION_MNIST_MODEL, fashionMnistTask } from '../src/accuracy/tasks/fashion-mnist.ts';
import { loadConfig } from '../src/config/load.ts';
import type { ResolvedDpu } from '../src/config/resolve.ts';
import { runPower } from '../src/power/index.ts';
import { runSynth } from '../src/synth/index.ts';

const { values } = parseArgs({
  options: {
    write: { type: 'boolean', default: false },
    images: { type: 'string', default: '10000' },
    'sqnr-images': { type: 'string', default: '1000' },
    cycles: { type: 'string', default: '2000' },
    static: { type: 'boolean', default: false },
  },
});
const say = (m: string) => process.stderr.write(`${m}\n`);

interface Design {
  readonly label: string;
  readonly preset: string;
  readonly o: Record<string, unknown>;
  /** Lanes: count x multiplier. */
  readonly lanes: string;
}
const sdp = (B: number, G: number, K: number): Design => ({
  label: `SDP B=${B} G=${G} K=${K}`,
  preset: 'sdp',
  o: { 'pe.block': B, 'pe.sdp.group': G, 'pe.sdp.keep': K },
  lanes: `${(B / G) * K} part (5x8)`,
});
// Static SDP (pe.sdp.operand 'weights'): the weights' parts chosen offline and stored, full activations.
const sdpW = (B: number, G: number, K: number): Design => ({
  label: `SDP weights B=${B} G=${G} K=${K}`,
  preset: 'sdp-w',
  o: { 'pe.block': B, 'pe.sdp.group': G, 'pe.sdp.keep': K },
  lanes: `${(B / G) * K} part (8x5)`,
});
const DESIGNS: Design[] = [
  { label: 'INT8 (int8)', preset: 'int8', o: {}, lanes: '16 full (8x8)' },
  { label: 'StruM MIP2Q (strum-mip2q)', preset: 'strum-mip2q', o: {}, lanes: '8 full + 8 shift' },
  { label: 'StruM DLIQ (strum-dliq)', preset: 'strum-dliq', o: {}, lanes: '8 full + 8 (8x4)' },
  { ...sdp(16, 4, 4), label: 'SDP B=16 G=4 K=4 (sdp)' },
  sdp(16, 2, 2),
  sdp(16, 8, 8),
  sdp(16, 4, 3),
  sdp(16, 4, 5),
  sdp(32, 4, 2),
  sdp(32, 8, 4),
  { ...sdpW(16, 4, 4), label: 'SDP weights B=16 G=4 K=4 (sdp-w)' },
  sdpW(16, 4, 5),
  sdpW(16, 4, 6),
  sdpW(16, 2, 2),
];

const STATIC_ONLY = values.static === true;
const designs = STATIC_ONLY ? DESIGNS.filter((d) => d.preset === 'int8' || d.preset === 'sdp-w') : DESIGNS;

const task = fashionMnistTask();
const model = await loadModel(task.model);
const graph = integerGraph(model);
const net = await calibrate(model, graph, task.calibration!().data);
const data = task.data;
if (data.kind !== 'classify') throw new Error('fashion-mnist is a classifier');
const per = data.sampleDims.reduce((a, b) => a * b, 1);
const inputsOf = (n: number) => {
  const x = new Float32Array(per);
  const out = new Int8Array(n * per);
  for (let i = 0; i < n; i++) {
    data.sample(i, x, 0);
    quantizeInput(x, out, i * per);
  }
  return out;
};

// Real activations for power: the int8 input of fc1 (784 per image) on the first 256 test images.
const FC1 = net.layers.findIndex((l) => l.name === 'fc1.weight');
const int8Cfg = await loadConfig('int8', {});
const w8 = quantizeNet(net, int8Cfg, 'magnitude');
const actImages = 256;
const captured: number[] = [];
await runInteger(net, w8, inputsOf(actImages), actImages, (i, A, rows) => {
  if (i === FC1) for (const a of A) captured.push(a);
  return goldenMatmul(A, rows, w8.q[i]!, int8Cfg.accumulator.bits);
});
mkdirSync('rtl-out', { recursive: true });
const actsFile = 'rtl-out/sdp-fc1-acts.json';
writeFileSync(actsFile, JSON.stringify({ name: 'fc1-input', shape: [captured.length], data: captured }));
const nonzero = captured.filter((x) => x !== 0).length / captured.length;
say(
  `power activations: ${captured.length} int8 fc1 inputs (${(100 * nonzero).toFixed(1)}% nonzero) -> ${actsFile}`,
);

// biome-ignore lint/suspicious/noExplicitAny: reports are read as plain JSON
type Json = Record<string, any>;
const rows: { d: Design; cfg: ResolvedDpu; synth: Json; power: Json }[] = [];
for (const d of designs) {
  const cfg = await loadConfig(d.preset, d.o);
  say(`${d.label}: synth`);
  const synth = (await runSynth(cfg, { target: 'pe', onProgress: say })) as unknown as Json;
  say(`${d.label}: power`);
  const power = (await runPower(cfg, {
    weights: { path: FASHION_MNIST_MODEL, layer: 'fc1.weight' },
    acts: { file: actsFile },
    cycles: Number(values.cycles),
    onProgress: say,
  })) as unknown as Json;
  rows.push({ d, cfg, synth, power });
}

// Accuracy: the integer path on the test images (int8 first: the paired reference).
const images = Number(values.images);
const accTask = fashionMnistTask(undefined, images);
const runs = [];
for (const r of rows) {
  say(`${r.d.label}: fake-quantized run (the integer path's reference)`);
  runs.push(
    await evaluateScheme(
      accTask,
      model,
      { kind: 'config', id: r.cfg.name, cfg: r.cfg, select: 'magnitude' },
      [],
      () => {},
    ),
  );
}
const integer = await integerPath(accTask, runs, { keepCorrect: true, onProgress: say });
const correct = integer.correct!;

const base = rows[0]!;
const ch = (a: number, b: number) => `${a >= b ? '+' : ''}${((100 * (a - b)) / b).toFixed(1)}%`;
const lines = [
  '| design | lanes | values / cycle | weight bits / value | PE area | vs INT8 | selector + gather area | fmax MHz | values/ns at fmax per mm² | PE power mW (100 MHz) | vs INT8 | pJ per value (100 MHz) | Fashion-MNIST top-1 (integer path), vs INT8 points [95% CI] |',
  '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
];
rows.forEach((r, i) => {
  const area = r.synth.area.total as number;
  const route = (r.synth.area.byRole.route as number | undefined) ?? 0;
  const fmax = r.synth.timing.fmaxMhz as number;
  const B = r.cfg.pe.block;
  const mw = 1000 * (r.power.power.totalW as number);
  // area is in um^2 (osu018): values per ns at fmax per mm^2.
  const density = (B * fmax * 1e-3) / (area * 1e-6);
  // Energy per value at 100 MHz: P / (B x 100 MHz); mW / (values per us) = nJ -> x 1000 pJ.
  const pj = (1000 * mw) / (B * 100);
  const acc = integer.schemes[i]!.accuracy;
  const change = i === 0 ? null : pairedChange(correct[i]!, correct[0]!);
  const pct = (x: number) => (100 * x).toFixed(2);
  const pts = (x: number) => `${x >= 0 ? '+' : ''}${pct(x)}`;
  lines.push(
    `| ${r.d.label} | ${r.d.lanes} | ${B} | ${+(r.cfg.derived.weightBlockBits / B).toFixed(3)} | ${area.toLocaleString('en-US')} | ${ch(area, base.synth.area.total)} | ` +
      `${route ? route.toLocaleString('en-US') : '-'} | ${fmax.toFixed(1)} | ${density.toFixed(2)} | ${mw.toFixed(2)} | ` +
      `${ch(mw, 1000 * base.power.power.totalW)} | ${pj.toFixed(2)} | ${pct(acc.value)}%` +
      `${change ? ` (${pts(change.value)} [${pts(change.lo)}, ${pts(change.hi)}])` : ''} |`,
  );
});
// Where the power goes: per role (selector + gather / router = route, lanes, tree, accumulator).
const roles = ['route', 'lane', 'adder_tree', 'accumulator'];
const rolePower = [
  `| design | ${roles.map((r) => `${r} mW`).join(' | ')} | total mW |`,
  `|---|${roles.map(() => '---:').join('|')}|---:|`,
  ...rows.map(
    (r) =>
      `| ${r.d.label} | ${roles.map((k) => (1000 * ((r.power.power.byRole[k]?.totalW as number | undefined) ?? 0)).toFixed(2)).join(' | ')} | ${(1000 * r.power.power.totalW).toFixed(2)} |`,
  ),
].join('\n');
const hw = `${lines.join('\n')}\n\nPE power by part (same runs):\n\n${rolePower}`;

if (STATIC_ONLY) {
  process.stdout.write(`${hw}\n`);
  writeFileSync(
    'rtl-out/sdp-static-table.json',
    JSON.stringify(
      {
        rows: rows.map((r) => ({ label: r.d.label, synth: r.synth, power: r.power.power })),
        integer: integer.schemes,
      },
      null,
      1,
    ),
  );
  if (values.write) writeBlock('sdp-static-table', hw);
  process.exit(0);
}

/** Replace the text between `<!-- name:begin (bench/sdp-table.ts) -->` and `<!-- name:end -->` in docs/FORMATS.md. */
function writeBlock(name: string, body: string): void {
  const doc = 'docs/FORMATS.md';
  const text = readFileSync(doc, 'utf8');
  const [b, e] = [`<!-- ${name}:begin (bench/sdp-table.ts) -->`, `<!-- ${name}:end -->`];
  const i = text.indexOf(b);
  const j = text.indexOf(e);
  if (i < 0 || j < i) throw new Error(`${doc} has no ${name} markers`);
  writeFileSync(doc, `${text.slice(0, i + b.length)}\n${body}\n${text.slice(j)}`);
}

// What the dropped parts cost, per layer and pooled (real activations of the integer network).
const sqnrImages = Number(values['sqnr-images']);
const sqnrInput = inputsOf(sqnrImages);
const shapes: [number, number][] = [
  [2, 1],
  [2, 2],
  [2, 3],
  [4, 2],
  [4, 3],
  [4, 4],
  [4, 5],
  [4, 6],
  [8, 4],
  [8, 6],
  [8, 8],
];
const costs = [];
for (const [G, K] of shapes) {
  say(`SDP cost G=${G} K=${K}`);
  costs.push(await sdpCost(net, w8, sqnrInput, sqnrImages, G, K));
}
const layerNames = costs[0]!.layers.map((l) => l.layer);
const f = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : 'exact');
const sq = [
  `| G | K | parts kept | activations (dynamic rule): pooled dB | ${layerNames.map((n) => `${n} dB (groups clipped)`).join(' | ')} | weights, static least-error: pooled dB | weights, importance rule: pooled dB |`,
  `|---:|---:|---:|---:|${layerNames.map(() => '---:').join('|')}|---:|---:|`,
  ...costs.map(
    (c) =>
      `| ${c.G} | ${c.K} | ${((100 * c.K) / (2 * c.G)).toFixed(0)}% | ${f(c.pooled.activationsDb)} | ` +
      `${c.layers.map((l) => `${f(l.activationsDb)} (${(100 * l.groupsClipped).toFixed(1)}%)`).join(' | ')} | ` +
      `${f(c.pooled.weightsErrorDb)} | ${f(c.pooled.weightsImportanceDb)} |`,
  ),
].join('\n');

const table = `${hw}\n\nOutput SQNR of the dropped parts (Fashion-MNIST CNN, ${sqnrImages} test images, int8 integer path; each layer on the exact int8 activations of the one before):\n\n${sq}`;
process.stdout.write(`${table}\n`);
writeFileSync(
  'rtl-out/sdp-table.json',
  JSON.stringify(
    {
      rows: rows.map((r) => ({ label: r.d.label, synth: r.synth, power: r.power.power })),
      integer: integer.schemes,
      costs,
    },
    null,
    1,
  ),
);
if (values.write) writeBlock('sdp-table', table);
