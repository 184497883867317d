// Text and Markdown of a power report (strumgen power, and the power lines of the flow).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type OutputMarker, replaceOutputDir } from '../config/atomic.ts';
import { isBaselineFormat } from '../format/registry.ts';
import type { OutputOptions } from '../io/output.ts';
import type { PowerReport } from '../power/index.ts';
import { fmtPct } from './synth.ts';

export const mW = (w: number) => `${(w * 1e3).toFixed(3)} mW`;

export const POWER_OUTPUT: OutputMarker = {
  kind: 'power',
  file: 'power.json',
  owns: (j) => j.schema === 'strumgen.power/1',
  label: 'a strumgen power output',
};

/** Roles in the order a reader expects them. */
const ROLE_ORDER = ['lane', 'route', 'adder_tree', 'accumulator', 'pe', 'other'];
const roleRank = (r: string) => (ROLE_ORDER.indexOf(r) < 0 ? 99 : ROLE_ORDER.indexOf(r));

export function peKind(r: PowerReport): string {
  const pe = r.design.pe;
  const kind = isBaselineFormat(pe.low) ? 'INT8 baseline' : `${pe.low} ${pe.mode}`;
  const pipe = [
    r.design.pipeline.multiply && 'registered products',
    r.design.pipeline.adderTree && 'registered sum',
  ]
    .filter(Boolean)
    .join(', ');
  return `B=${pe.block} H=${pe.high}, ${kind}${pipe ? `, ${pipe}` : ''}`;
}

/** Per-module lines (lanes by kind), largest first within role order. */
function moduleRows(r: PowerReport): [string, PowerReport['power']['byModule'][string]][] {
  return Object.entries(r.power.byModule).sort(
    ([, a], [, b]) => roleRank(a.role) - roleRank(b.role) || b.totalW - a.totalW,
  );
}

export function powerSummaryLines(r: PowerReport): string[] {
  const p = r.power;
  const a = r.activity;
  const lines = [
    `${r.design.top}: ${peKind(r)}`,
    `  power         ${mW(p.totalW)} at ${r.clock.mhz.toFixed(0)} MHz (internal ${mW(p.internalW)}, switching ${mW(p.switchingW)}, leakage ${mW(p.leakageW)}; idle ${mW(p.idleW)})`,
    `  by module     ${moduleRows(r)
      .map(([m, v]) => `${m} ${mW(v.totalW)}`)
      .join(', ')}`,
    `  input nets    ${mW(p.inputNetsW)} (not in the total)`,
    `  activity      ${a.source}, ${a.cycles} cycles, ${a.tilesChecked} tiles all equal to the golden model; mean toggle rate ${a.meanToggleRate.toFixed(3)}`,
    `  stimulus      ${a.stimulus}`,
  ];
  const c = r.comparison;
  if (c) {
    lines.push(
      `  vs INT8       power ${fmtPct(c.powerChangePct)} (baseline ${mW(c.baseline.power.totalW)}); uniform-activity estimate ${fmtPct(c.uniformChangePct)}; area ${fmtPct(c.areaChangePct)}`,
      `  role change   ${Object.entries(c.roleDeltaW)
        .sort(([x], [y]) => roleRank(x) - roleRank(y))
        .map(([k, v]) => `${k} ${v >= 0 ? '+' : ''}${(v * 1e3).toFixed(3)} mW`)
        .join(', ')}`,
    );
  }
  const t = r.timed;
  if (t) {
    lines.push(
      `  timed         ${mW(t.power.totalW)} from glitch-aware activity (Icarus + SDF, ${t.cycles} cycles at ${t.clockNs} ns, ${t.resultsChecked} cycles' results equal to the zero-delay run); zero-delay over the same cycles ${mW(t.zeroDelayTotalW)}` +
        (c?.timedPowerChangePct !== undefined ? `; vs INT8 ${fmtPct(c.timedPowerChangePct)}` : ''),
      `  timed by module ${Object.entries(t.power.byModule)
        .map(([m, v]) => `${m} ${mW(v.totalW)}`)
        .join(', ')}`,
    );
  }
  lines.push(
    `  self-check    per-instance model at a = ${r.selfCheck.activity}: ${mW(r.selfCheck.modelTotalW)} vs OpenSTA ${mW(r.selfCheck.staTotalW)} (rel. error ${r.selfCheck.relError.toExponential(1)})`,
  );
  return lines;
}

function roleTable(r: PowerReport): string[] {
  const rows = moduleRows(r).map(
    ([m, v]) =>
      `| ${m} | ${v.role} | ${v.cells} | ${v.activity.toFixed(3)} | ${(v.internalW * 1e3).toFixed(3)} | ${(v.switchingW * 1e3).toFixed(3)} | ${(v.leakageW * 1e6).toFixed(3)} | ${(v.totalW * 1e3).toFixed(3)} |`,
  );
  return [
    '| module | role | cells | toggles/cycle | internal mW | switching mW | leakage µW | total mW |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
    ...rows,
    `| **total** | | ${Object.values(r.power.byModule).reduce((s, v) => s + v.cells, 0)} | ${r.activity.meanToggleRate.toFixed(3)} | ${(r.power.internalW * 1e3).toFixed(3)} | ${(r.power.switchingW * 1e3).toFixed(3)} | ${(r.power.leakageW * 1e6).toFixed(3)} | ${(r.power.totalW * 1e3).toFixed(3)} |`,
  ];
}

export function renderPowerMarkdown(r: PowerReport): string {
  const out = [
    `# Power of ${r.design.top}`,
    '',
    `${peKind(r)}; config hash \`${r.design.configHash}\`. Power from simulated switching activity (${r.activity.source}, ${r.activity.cycles} cycles after ${r.activity.resetCycles} reset cycles, every one of ${r.activity.tilesChecked} tiles equal to the golden model) with OpenSTA's per-instance power at activity 0 and 1: P = P0 + a (P1 - P0), a = the cell's output toggles per cycle (docs/POWER.md). Clock ${r.clock.periodNs} ns (${r.clock.mhz.toFixed(1)} MHz).`,
    '',
    `Stimulus: ${r.activity.stimulus}.`,
    '',
    ...roleTable(r),
    '',
    `Idle (leakage and flip-flop clock pins): ${mW(r.power.idleW)}. Nets driven by the PE's input ports (not in the total): ${mW(r.power.inputNetsW)} (${Object.entries(
      r.power.inputNetsByPort,
    )
      .map(([k, v]) => `${k} ${mW(v)}`)
      .join(', ')}).`,
    '',
  ];
  const c = r.comparison;
  if (c) {
    out.push(
      `## Against the INT8 baseline`,
      '',
      `Power ${fmtPct(c.powerChangePct)} (${mW(r.power.totalW)} vs ${mW(c.baseline.power.totalW)}); OpenSTA's uniform-activity estimate of the same two netlists: ${fmtPct(c.uniformChangePct)}; area ${fmtPct(c.areaChangePct)}.`,
      '',
      ...roleTable(c.baseline),
      '',
    );
  }
  const t = r.timed;
  if (t) {
    out.push(
      '## Glitch-aware activity (--timed)',
      '',
      `Icarus Verilog with OpenSTA's SDF cell delays, ${t.cycles} cycles at a ${t.clockNs} ns test-bench clock (slower than the worst path), the settled result of ${t.resultsChecked} cycles equal to the golden-checked zero-delay run: ${mW(t.power.totalW)} (zero delay over the same cycles: ${mW(t.zeroDelayTotalW)})` +
        (c?.timedPowerChangePct !== undefined ? `; against INT8 ${fmtPct(c.timedPowerChangePct)}.` : '.'),
      '',
      ...roleTable({ ...r, power: t.power, activity: { ...r.activity, meanToggleRate: t.meanToggleRate } }),
      '',
    );
  }
  out.push(
    '## Provenance',
    '',
    `- self-check: the model at a = ${r.selfCheck.activity} on every cell gives ${r.selfCheck.modelTotalW} W, OpenSTA's uniform report ${r.selfCheck.staTotalW} W (relative error ${r.selfCheck.relError.toExponential(2)})`,
    `- OpenSTA ${r.tools.opensta}; Yosys ${r.tools.yosys}`,
    `- liberty ${r.tools.liberty.name} (${r.tools.liberty.path}), sha256 \`${r.tools.liberty.sha256}\``,
    `- synthesis run ${r.tools.synthDir}; power table ${r.tools.powerDir}`,
    `- simulator: ${r.activity.simulator}; seed ${r.activity.seed}`,
    '',
    '```tcl',
    r.tools.staScript.trimEnd(),
    '```',
    '',
  );
  for (const w of r.warnings) out.push(`warning: ${w}`, '');
  return `${out.join('\n')}`;
}

export async function writePowerReport(
  r: PowerReport,
  outDir: string,
  opts: OutputOptions = {},
): Promise<string> {
  return replaceOutputDir(
    outDir,
    POWER_OUTPUT,
    async (tmp) => {
      await writeFile(join(tmp, 'power.json'), `${JSON.stringify(r, null, 2)}\n`);
      await writeFile(join(tmp, 'power.md'), renderPowerMarkdown(r));
    },
    opts,
  );
}
