// Area of the static StruM router against B and H, and of whole B = 16 PEs for scale:
// Yosys (flat synth + ABC) on osu018, the flow of the design brief section 5.
// Run: npx tsx bench/generate-route-area.ts [--pe]   (about a minute; --pe adds ~2 min)
// Numbers are recorded in docs/ARCHITECTURE.md. Runs one Yosys at a time.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { resolveConfig } from '../src/config/resolve.ts';
import { requireTool } from '../src/config/toolchain.ts';
import { renderRtl, routePlan } from '../src/rtl/index.ts';

const yosys = requireTool('yosys');
const lib = requireTool('osu018');

async function area(
  files: { name: string; content: string }[],
  top: string,
): Promise<{ area: number; s: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'strumgen-route-area-'));
  try {
    for (const f of files) writeFileSync(join(dir, f.name), f.content);
    const script =
      `read_verilog ${files.map((f) => f.name).join(' ')}; synth -flatten -top ${top}; ` +
      `dfflibmap -liberty ${lib}; abc -liberty ${lib}; opt_clean; stat -liberty ${lib}`;
    const t = performance.now();
    const r = await execa(yosys, ['-p', script], { cwd: dir });
    const m = /Chip area for (?:top )?module '\\?[^']+': ([\d.]+)/.exec(r.stdout);
    if (!m) throw new Error(`no chip area in yosys output for ${top}`);
    return { area: Number(m[1]), s: (performance.now() - t) / 1000 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const version = (await execa(yosys, ['-V'])).stdout.trim();
process.stdout.write(`${version}, ${lib}, synth -flatten; dfflibmap; abc -liberty; stat -liberty\n\n`);
process.stdout.write('| B | H | L | mux inputs H(L+1)+L(H+1) | router area | area / mux input | yosys s |\n');
process.stdout.write('| - | - | - | ------------------------ | ----------- | ---------------- | ------- |\n');
const points = [
  [4, 2],
  [8, 4],
  [16, 4],
  [16, 8],
  [16, 12],
  [32, 16],
  [64, 32],
];
for (const [B, H] of points) {
  const cfg = resolveConfig({
    name: 'r',
    pe: { block: B, high: H, low: 'mip2q' },
    array: { rows: 1, cols: 1 },
  });
  const bundle = renderRtl(cfg);
  const route = bundle.files.find((f) => f.name === 'r_route.v')!;
  const { area: a, s } = await area([route], 'r_route');
  const mux = routePlan(B!, H!, true)!.muxInputs;
  process.stdout.write(
    `| ${B} | ${H} | ${B! - H!} | ${mux} | ${a.toFixed(0)} | ${(a / mux).toFixed(0)} | ${s.toFixed(1)} |\n`,
  );
}
if (process.argv.includes('--pe')) {
  process.stdout.write('\n| PE (B = 16, 32-bit accumulator) | area | yosys s |\n| --- | ---: | ---: |\n');
  for (const [label, pe] of [
    ['int8 baseline, 16 full lanes', { block: 16, low: 'none' }],
    ['static MIP2Q, H = 8 (with router)', { block: 16, low: 'mip2q' }],
    ['static DLIQ, H = 8 (with router)', { block: 16, low: 'dliq' }],
    ['static sparse, H = 8 (with router)', { block: 16, low: 'sparse' }],
    ['dynamic MIP2Q', { block: 16, low: 'mip2q', mode: 'dynamic' }],
  ] as const) {
    const cfg = resolveConfig({ name: 'p', pe, array: { rows: 1, cols: 1 } });
    const bundle = renderRtl(cfg);
    const { area: a, s } = await area(bundle.files.slice(0, -1), bundle.pe);
    process.stdout.write(`| ${label} | ${a.toFixed(0)} | ${s.toFixed(1)} |\n`);
  }
}
