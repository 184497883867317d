// What operand isolation saves in a dynamic StruM PE: the same PE built with and without
// isolation (RtlOptions.isolation = false: both lane paths see the operands, a mux picks
// the product), both against the INT8 PE, zero-delay activity on the default real layer.
// Run: npx tsx bench/power-isolation.ts [B] [preset]   (B = 16, strum-dynamic by default)
// Numbers are recorded in docs/POWER.md.
import { loadConfig } from '../src/config/load.ts';
import { runPower } from '../src/power/index.ts';

const B = Number(process.argv[2] ?? 16);
const preset = process.argv[3] ?? 'strum-dynamic';
const cfg = await loadConfig(preset, { 'pe.block': B, 'pe.high': B / 2 });
const say = (m: string) => process.stderr.write(`${m}\n`);
const iso = await runPower(cfg, { baseline: true, onProgress: say });
const noIso = await runPower(cfg, { rtl: { isolation: false }, onProgress: say });
const base = iso.comparison!.baseline;
const mw = (w: number) => (w * 1e3).toFixed(2);
const pct = (v: number, b: number) => `${v > b ? '+' : ''}${((100 * (v - b)) / b).toFixed(1)}%`;
const mods = (r: typeof iso) =>
  Object.entries(r.power.byModule)
    .map(([m, v]) => `${m} ${mw(v.totalW)}`)
    .join(', ');
process.stdout.write(
  [
    `${preset}, B=${B} H=${B / 2}; ${iso.activity.stimulus}; ${iso.activity.cycles} cycles, zero delay`,
    '',
    '| PE | power mW | vs INT8 | area vs INT8 | by module (mW) |',
    '|---|---:|---:|---:|---|',
    `| INT8 | ${mw(base.power.totalW)} | | | ${mods(base)} |`,
    `| dynamic, operand isolation | ${mw(iso.power.totalW)} | ${pct(iso.power.totalW, base.power.totalW)} | ${pct(iso.area.total, base.area.total)} | ${mods(iso)} |`,
    `| dynamic, no isolation | ${mw(noIso.power.totalW)} | ${pct(noIso.power.totalW, base.power.totalW)} | ${pct(noIso.area.total, base.area.total)} | ${mods(noIso)} |`,
    '',
    `Isolation saves ${mw(noIso.power.totalW - iso.power.totalW)} mW (${pct(iso.power.totalW, noIso.power.totalW)} of the PE without it).`,
    '',
  ].join('\n'),
);
