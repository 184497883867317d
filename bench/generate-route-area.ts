// Area of the static StruM router against B and H, of whole PEs (both pe.routeDecode
// modes) and of 4x4 arrays: Yosys 0.23 (synth + ABC) on osu018, the flow of the design
// brief section 5. One Yosys at a time (shared 2-core machines); progress on stderr.
// Run: npx tsx bench/generate-route-area.ts [--route] [--pe] [--array] [--array-flat16]
//   --route         router alone, B = 4..64 (default when no flag is given; ~1 min)
//   --pe            PEs at B = 16, H = 8 and B = 4, H = 2, flat, routeDecode 'pe' and 'column',
//                   the column decoder alone, and the DLIQ lane/tree parts (~3 min)
//   --array         4x4 arrays, 'pe' vs 'column': flat and hierarchical at B = 4, hierarchical at
//                   B = 16 (~4 min)
//   --array-flat16  also the flat 4x4 arrays at B = 16, static MIP2Q (~4 min)
// Numbers are recorded in docs/ARCHITECTURE.md.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { type ResolvedDpu, resolveConfig } from '../src/config/resolve.ts';
import type { DpuInput } from '../src/config/schema.ts';
import { requireTool } from '../src/config/toolchain.ts';
import { type RtlBundle, renderRtl, routePlan } from '../src/rtl/index.ts';

const yosys = requireTool('yosys');
const lib = requireTool('osu018');
const args = process.argv.slice(2);
const want = (flag: string) => args.includes(flag) || (flag === '--route' && args.length === 0);

/**
 * Chip area of `top` with everything under it. flat: `synth -flatten` (logic shared across
 * module boundaries, e.g. identical decoders of one column, is merged); hier: each module
 * synthesized once and counted per instance.
 */
async function area(
  files: RtlBundle['files'],
  top: string,
  flat = true,
  params: Record<string, number> = {},
): Promise<{ area: number; s: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'strumgen-route-area-'));
  try {
    for (const f of files) writeFileSync(join(dir, f.name), f.content);
    // A library module alone is synthesized with the parameters given (chparam).
    const set = Object.entries(params).map(([k, v]) => `-set ${k} ${v}`);
    const script =
      `read_verilog ${files.map((f) => f.name).join(' ')}; ` +
      (set.length ? `chparam ${set.join(' ')} ${top}; ` : '') +
      `synth ${flat ? '-flatten ' : ''}-top ${top}; ` +
      `dfflibmap -liberty ${lib}; abc -liberty ${lib}; opt_clean; stat -liberty ${lib} -top ${top}`;
    process.stderr.write(`yosys: ${top} (${flat ? 'flat' : 'hier'}) ...\n`);
    const t = performance.now();
    const r = await execa(yosys, ['-p', script], { cwd: dir, maxBuffer: 1 << 28 });
    // Hierarchical: the design-hierarchy total ("top module"); flat: the one module.
    const all = [...r.stdout.matchAll(/Chip area for (top )?module '\\?([^']+)': ([\d.]+)/g)];
    const m = all.find((x) => x[1]) ?? all.find((x) => x[2] === top);
    if (!m) throw new Error(`no chip area in yosys output for ${top}`);
    return { area: Number(m[3]), s: (performance.now() - t) / 1000 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Areas of library module instances inside `top`, synthesized hierarchically (each derived
 * module once, as when synthesized alone): `cells` are instance names at the top level
 * (their derived module is read from Yosys' `dump`), `modules` library module names that
 * have exactly one parametrisation under `top`.
 */
async function partAreas(
  files: RtlBundle['files'],
  top: string,
  cells: readonly string[],
  modules: readonly string[],
): Promise<Map<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'strumgen-route-area-'));
  try {
    for (const f of files) writeFileSync(join(dir, f.name), f.content);
    const script =
      `read_verilog ${files.map((f) => f.name).join(' ')}; hierarchy -top ${top}; ` +
      cells.map((c) => `dump ${top}/${c}; `).join('') +
      `synth -top ${top}; dfflibmap -liberty ${lib}; abc -liberty ${lib}; opt_clean; stat -liberty ${lib}`;
    process.stderr.write(`yosys: parts of ${top} (hier) ...\n`);
    const r = await execa(yosys, ['-p', script], { cwd: dir, maxBuffer: 1 << 28 });
    const areaOf = new Map(
      [...r.stdout.matchAll(/Chip area for module '\\?([^']+)': ([\d.]+)/g)].map((m) => [m[1], Number(m[2])]),
    );
    const found = new Map<string, number>();
    for (const c of cells) {
      const type = new RegExp(`cell (\\S+) \\\\?${c}\\s`).exec(r.stdout)?.[1]?.replace(/^\\\\/, '');
      const a = type === undefined ? undefined : areaOf.get(type);
      if (a === undefined) throw new Error(`no area for instance ${c} of ${top}`);
      found.set(c, a);
    }
    for (const m of modules) {
      const hits = [...areaOf].filter(([name]) => name === m || name.endsWith(`\\${m}`));
      if (hits.length !== 1) throw new Error(`${hits.length} parametrisations of ${m} under ${top}`);
      found.set(m, hits[0]![1]);
    }
    return found;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
const pct = (x: number, ref: number) => `${x >= ref ? '+' : ''}${((100 * (x - ref)) / ref).toFixed(1)}%`;
const out = (s: string) => process.stdout.write(s);
const cfgOf = (pe: DpuInput['pe'], extra: Partial<DpuInput> = {}, rows = 1, cols = 1): ResolvedDpu =>
  resolveConfig({ name: 'p', pe, array: { rows, cols }, ...extra });
const fileOf = (b: RtlBundle, module: string) => b.files.filter((f) => f.name === `${module}.v`);
/** The PE and the modules under it (everything but the array, which comes last). */
const peFiles = (b: RtlBundle) => b.files.filter((f) => f.name !== `${b.top}.v`);

const version = (await execa(yosys, ['-V'])).stdout.trim();
out(`${version}, ${lib}, synth [-flatten]; dfflibmap; abc -liberty; stat -liberty\n`);

if (want('--route')) {
  out('\n| B | H | L | mux inputs H(L+1)+L(H+1) | router area | area / mux input | yosys s |\n');
  out('| - | - | - | ------------------------ | ----------- | ---------------- | ------- |\n');
  for (const [B, H] of [
    [4, 2],
    [8, 4],
    [16, 4],
    [16, 8],
    [16, 12],
    [32, 16],
    [64, 32],
  ] as const) {
    const bundle = renderRtl(cfgOf({ block: B, high: H, low: 'mip2q' }));
    const files = [...fileOf(bundle, 'strum_gather'), ...fileOf(bundle, 'strum_router')];
    const { area: a, s } = await area(files, 'strum_router', true, { B, H, A: 8, LOW: 1 });
    const mux = routePlan(B, H, true)!.muxInputs;
    out(`| ${B} | ${H} | ${B - H} | ${mux} | ${fmt(a)} | ${(a / mux).toFixed(0)} | ${s.toFixed(1)} |\n`);
  }
}

if (want('--pe')) {
  for (const [B, H] of [
    [16, 8],
    [4, 2],
  ] as const) {
    out(`\nPE, B = ${B}, H = ${H}, 32-bit accumulator, flat. 'column': PE without the column decoder.\n\n`);
    out("| PE | routeDecode 'pe' | vs INT8 | 'column' (PE only) | vs INT8 | column decoder | yosys s |\n");
    out('| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n');
    const base = (await area(peFiles(renderRtl(cfgOf({ block: B, low: 'none' }))), 'p_pe')).area;
    out(`| INT8 baseline, ${B} full lanes | ${fmt(base)} | | | | | |\n`);
    for (const [label, low, extra] of [
      ['static MIP2Q', 'mip2q', {}],
      ['static DLIQ (block shift)', 'dliq', {}],
      ['static DLIQ (layer shift)', 'dliq', { dliq: { granularity: 'layer' } }],
      ['static sparse', 'sparse', {}],
    ] as const) {
      const pe = (await area(peFiles(renderRtl(cfgOf({ block: B, high: H, low }, extra))), 'p_pe')).area;
      const t = performance.now();
      const col = renderRtl(cfgOf({ block: B, high: H, low, routeDecode: 'column' }, extra));
      const peCol = (
        await area(
          peFiles(col).filter((f) => f.name !== 'strum_route_decode.v'),
          'p_pe',
        )
      ).area;
      const decFiles = [...fileOf(col, 'strum_gather'), ...fileOf(col, 'strum_route_decode')];
      const dec = (await area(decFiles, 'strum_route_decode', true, { B, H, LOW: low === 'sparse' ? 0 : 1 }))
        .area;
      const s = (performance.now() - t) / 1000;
      out(
        `| ${label}, H = ${H} | ${fmt(pe)} | ${pct(pe, base)} | ${fmt(peCol)} | ${pct(peCol, base)} | ` +
          `${fmt(dec)} | ${s.toFixed(1)} |\n`,
      );
    }
  }
  // The parts of the DLIQ change: a lane with its own shifter against a plain lane, and the
  // low lanes' tree that replaces the per-lane shifters (also what a dynamic PE would need).
  out('\nDLIQ parts (B = 16, flat):\n\n| module | area |\n| --- | ---: |\n');
  const dyn = renderRtl(cfgOf({ block: 16, low: 'dliq', mode: 'dynamic' }));
  const stat = renderRtl(cfgOf({ block: 16, high: 8, low: 'dliq' }));
  const allLow = renderRtl(cfgOf({ block: 16, high: 0, low: 'dliq' }));
  const dynParts = await partAreas(peFiles(dyn), 'p_pe', [], ['strum_lane_dliq']);
  const statParts = await partAreas(peFiles(stat), 'p_pe', ['u_tree_lo'], ['strum_lane_dliq']);
  const allLowParts = await partAreas(peFiles(allLow), 'p_pe', ['u_tree_lo'], []);
  for (const [label, a] of [
    ['DLIQ lane with its shifter, (a * q) << t (dynamic PEs)', dynParts.get('strum_lane_dliq')],
    ['DLIQ lane without shifter, a * q (static PEs)', statParts.get('strum_lane_dliq')],
    ['low lanes tree, 8 leaves (static, H = 8)', statParts.get('u_tree_lo')],
    [
      'low lanes tree, 16 leaves (what a shared shift in a dynamic PE would add)',
      allLowParts.get('u_tree_lo'),
    ],
  ] as const) {
    out(`| ${label} | ${fmt(a ?? Number.NaN)} |\n`);
  }
}

/** 4x4 arrays, 'pe' against 'column', each as a whole (array glue, PEs and any decoders). */
async function arrays(B: number, H: number, lows: readonly ('mip2q' | 'dliq' | 'sparse')[], flat: boolean) {
  out(`\n4x4 array, B = ${B}, H = ${H}, ${flat ? 'flat' : 'hierarchical'}:\n\n`);
  out("| array | routeDecode 'pe' | 'column' | change | yosys s |\n| --- | ---: | ---: | ---: | ---: |\n");
  for (const low of lows) {
    const t = performance.now();
    const a = (await area(renderRtl(cfgOf({ block: B, high: H, low }, {}, 4, 4)).files, 'p_array', flat))
      .area;
    const c = (
      await area(
        renderRtl(cfgOf({ block: B, high: H, low, routeDecode: 'column' }, {}, 4, 4)).files,
        'p_array',
        flat,
      )
    ).area;
    const s = (performance.now() - t) / 1000;
    out(`| static ${low} | ${fmt(a)} | ${fmt(c)} | ${pct(c, a)} | ${s.toFixed(1)} |\n`);
  }
}

if (want('--array')) {
  await arrays(4, 2, ['mip2q', 'dliq', 'sparse'], true);
  await arrays(4, 2, ['mip2q', 'dliq', 'sparse'], false);
  await arrays(16, 8, ['mip2q', 'dliq', 'sparse'], false);
}
if (want('--array-flat16')) await arrays(16, 8, ['mip2q'], true);
