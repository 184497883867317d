// The StruM-vs-INT8 results tables of docs/RESULTS.md, from synthesis reports that carry
// a comparison (scripts/results.ts makes them). Every figure here comes from the reports.
import type { SynthReport } from '../synth/index.ts';
import { fmtArea, fmtPct } from './synth.ts';

export interface ResultRow {
  /** e.g. 'static MIP2Q'. */
  readonly label: string;
  /** Default flow (hier run, flat run too), with comparison against the INT8 baseline. */
  readonly report: SynthReport;
  /** The same design through the other Yosys (no Booth), with its comparison; optional. */
  readonly alt?: SynthReport;
}

/** The paper's PE area change for static StruM (Wu et al. 2025): -23% to -26%. */
export const PAPER_STATIC_AREA_PCT: readonly [number, number] = [-26, -23];

const cmp = (r: SynthReport) => {
  if (!r.comparison) throw new Error(`${r.design.name}: no comparison against the baseline`);
  return r.comparison;
};
const bh = (r: SynthReport) => `${r.design.pe.block} / ${r.design.pe.high}`;
const lanes = (r: SynthReport) => `${r.design.lanes.full} + ${r.design.lanes.low}`;
const mhz = (x: number) => x.toFixed(1);
const role = (r: SynthReport, name: string) => r.area.byRole[name] ?? 0;

function table(head: string[], rows: string[][]): string[] {
  const sep = head.map((_, i) => (i === 0 ? '---' : '---:'));
  return [`| ${head.join(' | ')} |`, `| ${sep.join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

/** Baselines, one per block size, in the order the rows first use them. */
function baselines(rows: readonly ResultRow[]): SynthReport[] {
  const seen = new Map<string, SynthReport>();
  for (const r of rows) {
    const b = cmp(r.report).baseline;
    if (!seen.has(b.design.configHash)) seen.set(b.design.configHash, b);
  }
  return [...seen.values()];
}

export function renderResultsTables(rows: readonly ResultRow[]): string {
  const out: string[] = [];
  const bases = baselines(rows);

  out.push('### PE area and maximum clock against the INT8 baseline', '');
  const main: string[][] = [];
  for (const base of bases) {
    main.push([
      '**INT8 baseline**',
      bh(base),
      lanes(base),
      fmtArea(base.area.total),
      '',
      mhz(base.timing.fmaxMhz),
      '',
      '0',
      '',
    ]);
    for (const r of rows.filter((x) => cmp(x.report).baseline.design.configHash === base.design.configHash)) {
      const c = cmp(r.report);
      const route = role(r.report, 'route');
      main.push([
        r.label,
        bh(r.report),
        lanes(r.report),
        fmtArea(r.report.area.total),
        `**${fmtPct(c.areaChangePct)}**`,
        mhz(r.report.timing.fmaxMhz),
        fmtPct(c.fmaxChangePct),
        fmtArea(route),
        fmtPct((100 * (r.report.area.total - route - base.area.total)) / base.area.total),
      ]);
    }
  }
  out.push(
    ...table(
      [
        'PE',
        'B / H',
        'lanes full + low',
        'area',
        'area change',
        'fmax (MHz)',
        'fmax change',
        'route area',
        'change without route',
      ],
      main,
    ),
    '',
  );

  out.push('### Where the area goes (per role, hierarchical run)', '');
  const roleRows: string[][] = [];
  for (const base of bases) {
    const mine = rows.filter((x) => cmp(x.report).baseline.design.configHash === base.design.configHash);
    for (const [label, r] of [
      ['INT8 baseline', base] as const,
      ...mine.map((m) => [m.label, m.report] as const),
    ]) {
      roleRows.push([
        label,
        bh(r),
        ...['lane', 'route', 'adder_tree', 'accumulator'].map((k) => fmtArea(role(r, k))),
        fmtArea(r.area.sequential),
        fmtArea(r.area.total),
      ]);
    }
  }
  out.push(
    ...table(
      ['PE', 'B / H', 'lanes', 'route', 'adder tree', 'accumulator', 'of which flip-flops', 'total'],
      roleRows,
    ),
    '',
  );

  const flat = rows.filter((r) => r.report.area.totalsByKind.flat !== undefined);
  if (flat.length) {
    out.push('### Hierarchical against flattened synthesis', '');
    const flatRows: string[][] = [];
    for (const base of bases) {
      const bf = base.area.totalsByKind.flat;
      if (bf === undefined) continue;
      flatRows.push([
        'INT8 baseline',
        bh(base),
        fmtArea(base.area.total),
        fmtArea(bf),
        fmtPct(pct(bf, base.area.total)),
        '',
      ]);
      for (const r of flat.filter(
        (x) => cmp(x.report).baseline.design.configHash === base.design.configHash,
      )) {
        const f = r.report.area.totalsByKind.flat!;
        flatRows.push([
          r.label,
          bh(r.report),
          fmtArea(r.report.area.total),
          fmtArea(f),
          fmtPct(pct(f, r.report.area.total)),
          fmtPct(pct(f, bf)),
        ]);
      }
    }
    out.push(
      ...table(
        ['PE', 'B / H', 'hier area', 'flat area', 'flat vs hier', 'area change (flat vs flat INT8)'],
        flatRows,
      ),
      '',
    );
  }

  const alt = rows.filter((r) => r.alt);
  if (alt.length) {
    const a0 = alt[0]!.alt!;
    out.push(
      `### The same designs through ${a0.tools.yosys.version.split(' (')[0]} (${a0.tools.yosys.impl}, no Booth)`,
      '',
    );
    const altRows: string[][] = [];
    const altBases = baselines(alt.map((r) => ({ label: r.label, report: r.alt! })));
    for (const base of altBases) {
      altRows.push(['INT8 baseline', bh(base), fmtArea(base.area.total), '', mhz(base.timing.fmaxMhz), '']);
      for (const r of alt.filter((x) => cmp(x.alt!).baseline.design.configHash === base.design.configHash)) {
        const c = cmp(r.alt!);
        altRows.push([
          r.label,
          bh(r.alt!),
          fmtArea(r.alt!.area.total),
          fmtPct(c.areaChangePct),
          mhz(r.alt!.timing.fmaxMhz),
          fmtPct(c.fmaxChangePct),
        ]);
      }
    }
    out.push(...table(['PE', 'B / H', 'area', 'area change', 'fmax (MHz)', 'fmax change'], altRows), '');
  }
  return out.join('\n');
}

const pct = (value: number, base: number) => (100 * (value - base)) / base;

/** Plain statements computed from the rows: closest to the paper, and the cost of routing. */
export function resultsFindings(rows: readonly ResultRow[]): string[] {
  const [lo, hi] = PAPER_STATIC_AREA_PCT;
  const mid = (lo + hi) / 2;
  const statics = rows.filter(
    (r) => r.report.design.pe.mode === 'static' && r.report.design.pe.low !== 'none',
  );
  const byDistance = [...statics].sort(
    (a, b) => Math.abs(cmp(a.report).areaChangePct - mid) - Math.abs(cmp(b.report).areaChangePct - mid),
  );
  const describe = (r: ResultRow) =>
    `${r.label} at B = ${r.report.design.pe.block} (${fmtPct(cmp(r.report).areaChangePct)})`;
  const out: string[] = [];
  const inRange = statics.filter(
    (r) => cmp(r.report).areaChangePct >= lo && cmp(r.report).areaChangePct <= hi,
  );
  out.push(
    inRange.length
      ? `In the paper's range (${lo}% to ${hi}%): ${inRange.map(describe).join('; ')}.`
      : `No static configuration lands in the paper's range (${lo}% to ${hi}%); closest: ${byDistance.slice(0, 3).map(describe).join('; ')}.`,
  );
  for (const base of baselines(rows)) {
    const mine = statics.filter(
      (r) =>
        cmp(r.report).baseline.design.configHash === base.design.configHash && role(r.report, 'route') > 0,
    );
    if (!mine.length) continue;
    const route = mine.map((r) => (100 * role(r.report, 'route')) / base.area.total);
    const saved = mine.map((r) => (100 * -cmp(r.report).roleDelta.lane!) / base.area.total);
    out.push(
      `B = ${base.design.pe.block}: the router costs ${Math.min(...route).toFixed(1)}-${Math.max(...route).toFixed(1)}% of the INT8 PE's area, ` +
        `against ${Math.min(...saved).toFixed(1)}-${Math.max(...saved).toFixed(1)}% saved in the lanes.`,
    );
  }
  return out;
}
