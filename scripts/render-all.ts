// Renders the RTL of many configs into a folder, to check that a change leaves the rendered
// Verilog byte-identical (or changes exactly the designs it means to): every preset, the
// static presets with routeDecode 'column', the 1-3-bit and SDP variants, the tests' toy
// format and 360 seeded random configs over every registered format, each clean and with
// every applicable test-only fault, into OUT/<config>/<clean|fault>/<module>.v. Pure
// rendering, no tools: about 15 s.
//
//   git archive main | tar -x -C /tmp/main && ln -s "$PWD/node_modules" /tmp/main/
//   npx tsx scripts/render-all.ts --root /tmp/main --out /tmp/r-main
//   npx tsx scripts/render-all.ts --out /tmp/r-here && diff -r /tmp/r-main /tmp/r-here
//
// --root renders another checkout's sources (its presets, formats and renderer) with this
// script's config list, so both sides see the same configs.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Rng } from '../src/io/rng.ts';

const { values: args } = parseArgs({
  options: { root: { type: 'string' }, out: { type: 'string' }, random: { type: 'string', default: '360' } },
});
const fail = (line: string): never => {
  process.stderr.write(`${line}\n`);
  process.exit(2);
};
if (!args.out) fail('usage: npx tsx scripts/render-all.ts [--root CHECKOUT] --out DIR');
const root = resolve(args.root ?? fileURLToPath(new URL('..', import.meta.url)));
const out = resolve(args.out!);
// Writes only into a new or empty directory: never over someone's files.
if (existsSync(out) && readdirSync(out).length > 0) fail(`--out ${out}: not empty; give a new directory`);

// biome-ignore lint/suspicious/noExplicitAny: another checkout's modules, typed by their own sources
type Any = any;
const { PRESETS } = (await import(join(root, 'src/config/presets.ts'))) as Any;
const { resolveConfig } = (await import(join(root, 'src/config/resolve.ts'))) as Any;
const { renderRtl, applicableFaults } = (await import(join(root, 'src/rtl/index.ts'))) as Any;
await import(join(root, 'test/fixtures/formats/ternary.ts'));

// The random configs come from this script's own generator (imported statically, never from
// --root), so both checkouts of a comparison render the same list.
const rng = new Rng(12345);
const pick = <T>(xs: readonly T[]): T => rng.pick(xs);
const int = (a: number, b: number) => rng.int(a, b);

const descs: [string, Any][] = [];
for (const [key, p] of Object.entries(PRESETS) as [string, Any][]) {
  const c = p.config;
  descs.push([key, c]);
  if (c.pe.low !== 'none' && c.pe.mode === 'static' && !c.pe.maskScope && c.pe.high !== 0)
    descs.push([`${key}-col`, { ...c, name: `${c.name}_col`, pe: { ...c.pe, routeDecode: 'column' } }]);
}
const tern = PRESETS['tern-bs4']?.config;
if (tern) {
  const all = { ...tern, tern: undefined };
  descs.push(['tern-binary', { ...all, pe: { ...tern.pe, low: 'binary' } }]);
  descs.push([
    'tern-lowint3',
    { ...all, pe: { ...tern.pe, low: 'lowint' }, lowBits: 3, lowint: { compression: 1 } },
  ]);
  descs.push(['tern-lowint2', { ...all, pe: { ...tern.pe, low: 'lowint' }, lowBits: 2 }]);
}
const small = { array: { rows: 2, cols: 2 } };
descs.push(['bin-2x2', { name: 'lowbit_binary', ...small, pe: { block: 4, high: 0, low: 'binary' } }]);
descs.push([
  'int3-2x2',
  {
    name: 'lowbit_int3',
    ...small,
    pe: { block: 4, high: 0, low: 'lowint' },
    lowBits: 3,
    activation: { signed: false },
  },
]);
descs.push([
  'toy',
  { name: 'toy_ternary', array: { rows: 2, cols: 3 }, pe: { block: 8, high: 3, low: 'ternary' } },
]);
descs.push([
  'toy-dyn',
  {
    name: 'toy_ternary_dyn',
    array: { rows: 2, cols: 3 },
    pe: { block: 4, low: 'ternary', mode: 'dynamic' },
    activation: { signed: false },
  },
]);
descs.push(['sdp-g2', { name: 'sdp2', pe: { block: 8, low: 'none', sdp: { group: 2, keep: 3 } } }]);

const lows = ['none', 'mip2q', 'dliq', 'sparse', 'int', 'lp', 'binary', 'tern', 'lowint', 'ternary'];
const fixed = descs.length;
for (let i = 0; descs.length < fixed + Number(args.random) && i < 20000; i++) {
  const low = pick(lows);
  const block = pick([1, 2, 4, 8, 16, 32]);
  const weightBits = pick([4, 6, 8, 8, 8, 10, 12, 16]);
  const lowBits = Math.min(weightBits, pick([2, 3, 4, 4, 5, 8]));
  const mode = pick(['static', 'static', 'dynamic']);
  const scope = pick([undefined, undefined, undefined, { kind: 'layer' }, { kind: 'group', channels: 2 }]);
  const d: Any = {
    name: `r${i}`,
    array: { rows: int(1, 4), cols: pick([1, 2, 3, 4]) },
    pe: {
      block,
      high: low === 'none' ? block : int(0, block),
      low,
      mode,
      ...(scope && mode === 'static' ? { maskScope: scope } : {}),
      ...(mode === 'static' && rng.float() < 0.3 ? { routeDecode: 'column' } : {}),
    },
    activation: { bits: pick([2, 4, 8, 8, 12, 16]), signed: rng.float() < 0.75 },
    weightBits,
    lowBits,
    accumulator: { bits: pick([8, 16, 24, 32, 48]) },
    pipeline: { operands: rng.float() < 0.4, multiply: rng.float() < 0.4, adderTree: rng.float() < 0.4 },
  };
  if (low === 'dliq') d.dliq = { shiftMax: int(0, 7), granularity: pick(['block', 'layer']) };
  if (low === 'mip2q')
    d.mip2q = { maxExponent: int(0, Math.max(0, Math.min(2 ** (lowBits - 1) - 2, weightBits - 2))) };
  if (low === 'none' && rng.float() < 0.3) d.pe.sdp = { group: pick([1, 2, 4]), keep: int(1, 3) };
  try {
    resolveConfig(d);
    descs.push([d.name, d]);
  } catch {
    // an invalid combination: draw again
  }
}

let bundles = 0;
let files = 0;
for (const [key, desc] of descs) {
  let cfg: Any;
  try {
    cfg = resolveConfig(desc, key);
  } catch (e) {
    process.stderr.write(`skip ${key}: ${(e as Error).message}\n`);
    continue;
  }
  for (const fault of [null, ...applicableFaults(cfg)]) {
    const b = renderRtl(cfg, fault ? { fault } : {});
    const dir = join(out, key, fault ?? 'clean');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, '_bundle.json'),
      `${JSON.stringify({ top: b.top, pe: b.pe, modules: b.modules })}\n`,
    );
    for (const f of b.files) writeFileSync(join(dir, f.name), f.content);
    bundles++;
    files += b.files.length;
  }
}
process.stdout.write(`${descs.length} configs, ${bundles} bundles, ${files} files -> ${out}\n`);
