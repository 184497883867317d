// Synthesis reports: the Markdown page for one SynthReport, and writing the JSON, the
// Markdown and each run's scripts and logs to an output directory atomically.

import { existsSync } from 'node:fs';
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type OutputMarker, replaceOutputDir } from '../config/atomic.ts';
import { lowFormatSpec } from '../format/registry.ts';
import { makeDirs } from '../io/fs-errors.ts';
import type { OutputOptions } from '../io/output.ts';
import type { SynthReport, SynthRun } from '../synth/index.ts';

/** Area with thousands separators (one decimal only when the library has fractional areas). */
export function fmtArea(a: number): string {
  return a.toLocaleString('en-US', { maximumFractionDigits: Number.isInteger(a) ? 0 : 1 });
}

/** A change in percent with its sign, e.g. '-4.3%' or '+0.2%'. */
export function fmtPct(p: number): string {
  const r = Math.round(p * 10) / 10;
  return `${r > 0 ? '+' : r === 0 ? '±' : ''}${r.toFixed(1)}%`;
}

const fmtNum = (x: number, digits: number) => x.toFixed(digits);

const ROLE_ORDER = ['lane', 'route', 'adder_tree', 'accumulator', 'pe', 'array', 'other'];
const roleRank = (r: string) => (ROLE_ORDER.includes(r) ? ROLE_ORDER.indexOf(r) : ROLE_ORDER.length);

/** One-line description of the design, e.g. 'PE, B=16 H=8, mip2q static'. */
export function designSummary(r: SynthReport): string {
  const { pe, array, target } = r.design;
  const what = target === 'pe' ? 'PE' : `${array.rows}x${array.cols} array`;
  const kind = lowFormatSpec(pe.low).hasLow ? `${pe.low} ${pe.mode}` : 'INT8 baseline';
  return `${what}, B=${pe.block} H=${pe.high}, ${kind}`;
}

function table(head: string[], rows: string[][], align?: ('l' | 'r')[]): string[] {
  const sep = head.map((_, i) => ((align?.[i] ?? 'l') === 'r' ? '---:' : '---'));
  return [`| ${head.join(' | ')} |`, `| ${sep.join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

export function renderSynthMarkdown(r: SynthReport): string {
  const a = r.area;
  const t = r.timing;
  const c = r.comparison;
  const out: string[] = [`# Synthesis of ${r.design.top}`, ''];
  out.push(
    `${designSummary(r)}; config \`${r.design.name}\` hash \`${r.design.configHash.slice(0, 12)}\`. ` +
      `Area in the liberty's unit (µm² for osu018); ${r.design.macsPerCycle} MACs per cycle.`,
    '',
  );
  const rows: string[][] = [
    ['area', fmtArea(a.total), c ? fmtArea(c.baseline.area.total) : '', c ? fmtPct(c.areaChangePct) : ''],
    ['combinational', fmtArea(a.combinational), c ? fmtArea(c.baseline.area.combinational) : '', ''],
    ['sequential', fmtArea(a.sequential), c ? fmtArea(c.baseline.area.sequential) : '', ''],
    ['area per MAC', fmtArea(Math.round(a.perMac)), c ? fmtArea(Math.round(c.baseline.area.perMac)) : '', ''],
    [
      'critical path (ns)',
      fmtNum(t.criticalPathNs, 3),
      c ? fmtNum(c.baseline.timing.criticalPathNs, 3) : '',
      '',
    ],
    [
      'max clock (MHz)',
      fmtNum(t.fmaxMhz, 1),
      c ? fmtNum(c.baseline.timing.fmaxMhz, 1) : '',
      c ? fmtPct(c.fmaxChangePct) : '',
    ],
  ];
  if (r.power) {
    const p = r.power;
    rows.push([
      `power at ${fmtNum(p.clockMhz, 0)} MHz, activity ${p.activity} (mW)`,
      fmtNum(p.totalW * 1000, 3),
      c?.baseline.power ? fmtNum(c.baseline.power.totalW * 1000, 3) : '',
      c?.baseline.power ? fmtPct((100 * (p.totalW - c.baseline.power.totalW)) / c.baseline.power.totalW) : '',
    ]);
  }
  const head = c
    ? ['', r.design.name, `INT8 baseline (${c.baseline.design.name})`, 'change']
    : ['', r.design.name];
  out.push(...table(head, c ? rows : rows.map((x) => x.slice(0, 2)), ['l', 'r', 'r', 'r']), '');
  out.push(
    `Critical path: from \`${t.startpoint}\` to \`${t.endpoint}\`, ${t.stages} cells ` +
      `(slack ${fmtNum(t.slackNs, 3)} ns against a ${t.clockPeriodNs} ns clock; setup included).`,
    '',
  );
  const kinds = Object.entries(a.totalsByKind);
  if (kinds.length > 1) {
    const list = kinds.map(([k, v]) => `${k} ${fmtArea(v)}`).join(', ');
    out.push(`Totals by run: ${list}. The report uses the ${a.basis} run.`, '');
  }

  out.push(`## Area by role (${a.breakdownBasis} run)`, '');
  const roles = [...new Set([...Object.keys(a.byRole), ...Object.keys(c?.baseline.area.byRole ?? {})])]
    .filter((role) => (a.byRole[role] ?? 0) !== 0 || (c?.baseline.area.byRole[role] ?? 0) !== 0)
    .sort((x, y) => roleRank(x) - roleRank(y));
  const roleRows = roles.map((role) => {
    const v = a.byRole[role] ?? 0;
    const row = [role, fmtArea(v), `${fmtNum((100 * v) / a.breakdownTotal, 1)}%`];
    if (c) {
      const b = c.baseline.area.byRole[role] ?? 0;
      row.push(fmtArea(b), `${(c.roleDelta[role] ?? 0) > 0 ? '+' : ''}${fmtArea(c.roleDelta[role] ?? 0)}`);
    }
    return row;
  });
  out.push(
    ...table(c ? ['role', 'area', 'share', 'baseline', 'change'] : ['role', 'area', 'share'], roleRows, [
      'l',
      'r',
      'r',
      'r',
      'r',
    ]),
    '',
  );
  if (c) {
    const base = c.baseline.area.breakdownTotal;
    out.push(
      `Change against the baseline's ${a.breakdownBasis} total (${fmtArea(base)}), by role: ` +
        roles
          .filter((role) => (c.roleDelta[role] ?? 0) !== 0)
          .map((role) => `${role} ${fmtPct((100 * (c.roleDelta[role] ?? 0)) / base)}`)
          .join(', ') +
        '.',
      '',
    );
  }

  out.push('## Area by module', '');
  out.push(
    ...table(
      ['module', 'role', 'instances', 'area each', 'own cells', 'total'],
      a.modules.map((m) => [
        `\`${m.module}\``,
        m.role,
        String(m.instances),
        fmtArea(m.area),
        fmtArea(m.ownArea),
        fmtArea(m.ownArea * m.instances),
      ]),
      ['l', 'l', 'r', 'r', 'r', 'r'],
    ),
    '',
    '"own cells" excludes submodules; "total" is own cells times instances (the role table sums these).',
    '',
  );

  out.push(`## Cells (${a.basis} run, ${a.cellCount} cells)`, '');
  const cells = Object.entries(a.cells).sort(([, x], [, y]) => y.area - x.area);
  out.push(
    ...table(
      ['cell', 'kind', 'count', 'area'],
      cells.map(([name, u]) => [name, u.sequential ? 'seq' : 'comb', String(u.count), fmtArea(u.area)]),
      ['l', 'l', 'r', 'r'],
    ),
    '',
  );

  const tl = r.tools;
  out.push(
    '## How it was made',
    '',
    `- ${tl.yosys.version} (${tl.yosys.impl}${tl.yosys.impl === 'system' ? `, ${tl.yosys.path}` : ''}); ` +
      `Booth multipliers: ${tl.flags.includes('booth=true') ? 'on (`synth -booth`)' : 'off'}`,
    `- OpenSTA: ${tl.opensta.version} (${tl.opensta.path})`,
    `- Liberty: \`${tl.liberty.name}\` from ${tl.liberty.path}${tl.liberty.gzipped ? ' (gzipped)' : ''}, sha256 \`${tl.liberty.sha256}\``,
    `- Flags: ${tl.flags.join(', ')}`,
    `- Runs: ${r.runs.map((x) => `${x.top} ${x.kind} (Yosys ${fmtNum(x.yosysSeconds, 1)} s, OpenSTA ${fmtNum(x.staSeconds, 1)} s${x.cached ? ', from cache' : ''})`).join('; ')}`,
    '- Timing: OpenSTA `report_checks -path_delay max` on the mapped netlist with ideal clock, ' +
      'input and output delays 0, no wire load; fmax = 1 / (clock period - worst slack).',
    '',
  );
  for (const w of r.warnings) out.push(`> warning: ${w}`, '');
  for (const [kind, s] of Object.entries(tl.scripts)) {
    if (!s) continue;
    out.push(`Yosys script (${kind}):`, '', '```', s.yosys.trimEnd(), '```', '');
    out.push(`OpenSTA script (${kind}):`, '', '```', s.sta.trimEnd(), '```', '');
  }
  return `${out.join('\n').trimEnd()}\n`;
}

/** Files of a run copied next to the report (when the run left them). */
const RUN_FILES = ['synth.ys', 'yosys.log', 'stat.txt', 'stat.json', 'netlist.v', 'sta.tcl', 'sta.log'];

export const SYNTH_OUTPUT: OutputMarker = {
  kind: 'synth',
  file: 'synth.json',
  owns: (j) => j.schema === 'strumgen.synth/1',
  label: 'a strumgen synth output',
};

/**
 * Write synth.json, synth.md and runs/<top>-<kind>/ (scripts, logs, statistics, netlist of
 * every run, the baseline's included) into `outDir`, replacing an earlier synth output there:
 * built in a temporary directory beside it and swapped in by rename.
 */
export async function writeSynthReport(
  report: SynthReport,
  outDir: string,
  opts: OutputOptions = {},
): Promise<string> {
  return replaceOutputDir(
    outDir,
    SYNTH_OUTPUT,
    async (tmp) => {
      await writeFile(join(tmp, 'synth.json'), `${JSON.stringify(report, null, 2)}\n`);
      await writeFile(join(tmp, 'synth.md'), renderSynthMarkdown(report));
      // The baseline's runs get their own folder: a design may share its top's name (a design named int8_base).
      const runs: [SynthRun, string][] = [
        ...report.runs.map((r): [SynthRun, string] => [r, join(tmp, 'runs', `${r.top}-${r.kind}`)]),
        ...(report.comparison?.baseline.runs ?? []).map((r): [SynthRun, string] => [
          r,
          join(tmp, 'runs', 'baseline', `${r.top}-${r.kind}`),
        ]),
      ];
      for (const [run, to] of runs) {
        makeDirs(to);
        for (const f of RUN_FILES)
          if (existsSync(join(run.dir, f))) await copyFile(join(run.dir, f), join(to, f));
      }
    },
    opts,
  );
}
