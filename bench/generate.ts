// In-process time to render the Verilog of an array (renderRtl), for a few sizes and PE
// kinds. Run: npx tsx bench/generate.ts   (numbers go to docs/PERFORMANCE.md)
import { resolveConfig } from '../src/config/resolve.ts';
import { renderRtl } from '../src/rtl/index.ts';

const cases = [
  { name: 'int8', pe: { block: 16, low: 'none' as const } },
  { name: 'strum_mip2q', pe: { block: 16, low: 'mip2q' as const } },
  { name: 'strum_dynamic', pe: { block: 16, low: 'mip2q' as const, mode: 'dynamic' as const } },
  { name: 'strum_b64', pe: { block: 64, low: 'dliq' as const } },
];
const sizes = [4, 16, 64, 128];
const REPEAT = 20;

process.stderr.write(
  `renderRtl, median of ${REPEAT} runs after a warm-up (templates compiled once per process)\n`,
);
const first = performance.now();
renderRtl(resolveConfig({ name: 'warm', array: { rows: 64, cols: 64 } }));
const cold = performance.now() - first;
const rows: string[] = [];
for (const c of cases) {
  for (const n of sizes) {
    const cfg = resolveConfig({ name: c.name, array: { rows: n, cols: n }, pe: c.pe });
    const times: number[] = [];
    let bytes = 0;
    for (let i = 0; i < REPEAT; i++) {
      const t = performance.now();
      const b = renderRtl(cfg);
      times.push(performance.now() - t);
      bytes = b.files.reduce((s, f) => s + f.content.length, 0);
    }
    times.sort((a, b) => a - b);
    const line = `| ${c.name} (B=${cfg.pe.block}, ${cfg.pe.mode}) | ${n}x${n} | ${times[REPEAT >> 1]!.toFixed(2)} | ${times.at(-1)!.toFixed(2)} | ${bytes} |`;
    rows.push(line);
    process.stderr.write(`${line}\n`);
  }
}
process.stdout.write(
  [
    `First call in a fresh process (64x64 strum_mip2q, includes compiling the templates): ${cold.toFixed(1)} ms`,
    '',
    '| config | array | median ms | max ms | Verilog bytes |',
    '| ------ | ----- | --------- | ------ | ------------- |',
    ...rows,
    '',
  ].join('\n'),
);
