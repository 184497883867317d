// The power table of docs/POWER.md: every PE kind at B = 16/8, 4/2 and 2/1, with and without
// pipeline.operands (registered router outputs), zero-delay activity on the default real
// layer (PP-OCRv4 detector conv2d_417.w_0) with post-ReLU activations, change against the
// INT8 PE with the same pipeline, per role. Synthesis and power tables are cached
// (.cache/strumgen), so a second run only re-simulates.
// Run: npx tsx scripts/power-table.ts [--blocks 16,4,2] [--cycles 2000] [--json FILE] > table.md
import { writeFileSync } from 'node:fs';
import { loadConfig } from '../src/config/load.ts';
import { type PowerReport, runPower } from '../src/power/index.ts';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : dflt;
};
const blocks = arg('--blocks', '16,4,2').split(',').map(Number);
const cycles = Number(arg('--cycles', '2000'));
const jsonOut = arg('--json', '');
const kinds: { label: string; preset: string; set?: Record<string, unknown> }[] = [
  { label: 'INT8', preset: 'int8' },
  { label: 'static MIP2Q', preset: 'strum-mip2q' },
  { label: 'static DLIQ', preset: 'strum-dliq' },
  { label: 'sparse', preset: 'strum-sparse' },
  { label: 'dynamic MIP2Q', preset: 'strum-dynamic' },
];

const mw = (w: number) => (w * 1e3).toFixed(2);
const pct = (v: number, b: number) => {
  const p = (100 * (v - b)) / b;
  return `${p > 0 ? '+' : ''}${p.toFixed(1)}%`;
};
const roleW = (r: PowerReport, pick: (m: string, role: string) => boolean) =>
  Object.entries(r.power.byModule)
    .filter(([m, v]) => pick(m, v.role))
    .reduce((s, [, v]) => s + v.totalW, 0);

const rows: { B: number; ops: boolean; label: string; r: PowerReport }[] = [];
const say = (m: string) => process.stderr.write(`${m}\n`);
for (const B of blocks) {
  for (const ops of [false, true]) {
    for (const k of kinds) {
      const overrides: Record<string, unknown> = { 'pe.block': B, 'pipeline.operands': ops };
      if (k.preset !== 'int8') overrides['pe.high'] = B / 2;
      const cfg = await loadConfig(k.preset, overrides);
      say(`power table: ${k.label}, B=${B}, operands ${ops ? 'registered' : 'not registered'}`);
      const r = await runPower(cfg, { cycles, onProgress: say });
      rows.push({ B, ops, label: k.label, r });
    }
  }
}
if (jsonOut)
  writeFileSync(
    jsonOut,
    `${JSON.stringify(
      rows.map((x) => ({ ...x, r: { ...x.r } })),
      null,
      1,
    )}\n`,
  );

const first = rows[0]!.r;
const out: string[] = [
  `Zero-delay activity, ${first.activity.cycles} cycles per PE, ${first.activity.stimulus.replace(/; seed.*/, '')}; ` +
    `${first.clock.mhz.toFixed(0)} MHz; OpenSTA ${first.tools.opensta}; ${first.tools.yosys}; ${first.tools.liberty.name} ` +
    `(sha256 ${first.tools.liberty.sha256.slice(0, 12)}…). Power in mW; change against the INT8 PE with the same B and pipeline; ` +
    "'uniform' is OpenSTA's activity-0.1 estimate of the same two netlists.",
  '',
  '| B/H | operands reg. | PE | total | vs INT8 | uniform vs INT8 | full lanes | low lanes | router | tree | acc | PE regs | area vs INT8 | fmax MHz |',
  '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
];
for (const x of rows) {
  const base = rows.find((y) => y.B === x.B && y.ops === x.ops && y.label === 'INT8')!.r;
  const r = x.r;
  const full = roleW(r, (m, role) => role === 'lane' && /lane_full$/.test(m));
  const lanes = roleW(r, (_, role) => role === 'lane');
  out.push(
    `| ${x.B}/${x.label === 'INT8' ? x.B : x.B / 2} | ${x.ops ? 'yes' : 'no'} | ${x.label} | ${mw(r.power.totalW)} | ` +
      `${x.label === 'INT8' ? '' : pct(r.power.totalW, base.power.totalW)} | ` +
      `${x.label === 'INT8' ? '' : pct(r.selfCheck.staTotalW, base.selfCheck.staTotalW)} | ` +
      `${mw(full)} | ${mw(lanes - full)} | ${mw(roleW(r, (_, role) => role === 'route'))} | ` +
      `${mw(roleW(r, (_, role) => role === 'adder_tree'))} | ${mw(roleW(r, (_, role) => role === 'accumulator'))} | ` +
      `${mw(roleW(r, (_, role) => role === 'pe'))} | ${x.label === 'INT8' ? '' : pct(r.area.total, base.area.total)} | ` +
      `${r.area.fmaxMhz.toFixed(1)} |`,
  );
}
process.stdout.write(`${out.join('\n')}\n`);
