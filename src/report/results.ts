// The StruM-vs-INT8 results tables of docs/RESULTS.md, from synthesis reports that carry
// a comparison (scripts/results.ts makes them). Every figure here comes from the reports.
import { lowFormatSpec } from '../format/registry.ts';
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
const MAIN_ROLES = ['lane', 'route', 'adder_tree', 'accumulator'];

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
        ...MAIN_ROLES.map((k) => fmtArea(role(r, k))),
        // The PE's own cells and anything else (e.g. a DLIQ block shifter), so the row sums up.
        fmtArea(r.area.total - MAIN_ROLES.reduce((s, k) => s + role(r, k), 0)),
        fmtArea(r.area.total),
        fmtArea(r.area.sequential),
      ]);
    }
  }
  out.push(
    ...table(
      ['PE', 'B / H', 'lanes', 'route', 'adder tree', 'accumulator', 'other', 'total', 'of which flip-flops'],
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

/** Static StruM with low lanes (a router and two kinds of lane). */
const isStaticStrum = (r: SynthReport) => r.design.pe.mode === 'static' && r.design.lanes.low > 0;
const range = (xs: number[]) => {
  const [a, b] = [fmtPct(Math.min(...xs)), fmtPct(Math.max(...xs))];
  return a === b ? a : `${a} to ${b}`;
};
const withoutRoute = (r: SynthReport) => {
  const base = cmp(r).baseline.area.total;
  return pct(r.area.total - role(r, 'route'), base);
};

/**
 * Plain statements computed from the rows: which static StruM configurations come closest to
 * the paper, what the router costs against what the lanes save, and the other PE kinds.
 */
export function resultsFindings(rows: readonly ResultRow[]): string[] {
  const [lo, hi] = PAPER_STATIC_AREA_PCT;
  const mid = (lo + hi) / 2;
  const inPaper = (x: number) => x >= lo && x <= hi;
  const at = (r: SynthReport) => `B = ${r.design.pe.block}, H = ${r.design.pe.high}`;
  const strum = rows.filter((r) => isStaticStrum(r.report));
  const out: string[] = [];
  if (strum.length) {
    const byDistance = [...strum].sort(
      (a, b) => Math.abs(cmp(a.report).areaChangePct - mid) - Math.abs(cmp(b.report).areaChangePct - mid),
    );
    const describe = (r: ResultRow) =>
      `${r.label} at ${at(r.report)} (${fmtPct(cmp(r.report).areaChangePct)})`;
    const hits = strum.filter((r) => inPaper(cmp(r.report).areaChangePct));
    out.push(
      hits.length
        ? `Static StruM in the paper's range of PE area (${lo}% to ${hi}%): ${hits.map(describe).join('; ')}.`
        : `No static StruM PE lands in the paper's range of PE area (${lo}% to ${hi}%). Closest: ` +
            `${byDistance.slice(0, 3).map(describe).join('; ')}.`,
    );
    const freeRoute = strum.filter((r) => inPaper(withoutRoute(r.report)));
    if (freeRoute.length) {
      out.push(
        `Without its router the saving would be in the paper's range for ` +
          `${freeRoute.map((r) => `${r.label} at ${at(r.report)} (${fmtPct(withoutRoute(r.report))})`).join('; ')}: ` +
          'the lanes save what the paper reports, and the router takes it back.',
      );
    }
  }
  for (const base of baselines(rows)) {
    const mine = strum.filter((r) => cmp(r.report).baseline.design.configHash === base.design.configHash);
    if (!mine.length) continue;
    const route = mine.map((r) => (100 * role(r.report, 'route')) / base.area.total);
    const saved = mine.map((r) => (100 * -(cmp(r.report).roleDelta.lane ?? 0)) / base.area.total);
    const fmax = mine.map((r) => cmp(r.report).fmaxChangePct);
    const f = (xs: number[]) => {
      const [a, b] = [Math.min(...xs).toFixed(1), Math.max(...xs).toFixed(1)];
      return a === b ? `${a}%` : `${a}-${b}%`;
    };
    out.push(
      `B = ${base.design.pe.block}: the router of static MIP2Q/DLIQ costs ${f(route)} of the INT8 PE's area, ` +
        `against ${f(saved)} saved in the lanes; fmax changes by ${range(fmax)} (the router is on the critical path).`,
    );
  }
  const accShare = baselines(rows).map(
    (b) => `${((100 * role(b, 'accumulator')) / b.area.total).toFixed(0)}% at B = ${b.design.pe.block}`,
  );
  out.push(
    `The accumulator (adder and ${rows[0]!.report.area.sequential > 0 ? 'flip-flops' : 'register'}) is a fixed cost that no ` +
      `low-precision lane removes: ${accShare.join(', ')} of the INT8 PE, which caps the relative saving at small B.`,
  );
  const sparse = rows.filter(
    (r) =>
      r.report.design.pe.mode === 'static' &&
      lowFormatSpec(r.report.design.pe.low).hasLow &&
      r.report.design.lanes.low === 0,
  );
  if (sparse.length) {
    out.push(
      `N:M sparse PEs (H full lanes, no low lanes, still a router) change the area by ` +
        `${range(sparse.map((r) => cmp(r.report).areaChangePct))}: the upper bound of what dropping the low lanes can give.`,
    );
  }
  const dynamic = rows.filter((r) => r.report.design.pe.mode === 'dynamic');
  if (dynamic.length) {
    out.push(
      `Dynamic StruM PEs (B lanes that each hold a multiplier and a shifter) change the area by ` +
        `${range(dynamic.map((r) => cmp(r.report).areaChangePct))}, as the paper says: dynamic StruM saves no area.`,
    );
  }
  const alt = strum.filter((r) => r.alt);
  if (alt.length) {
    const v = alt[0]!.alt!.tools.yosys.version.split(' (')[0];
    out.push(
      `Without Booth multipliers (${v}) the INT8 baseline is larger and static StruM saves more: ` +
        `${range(alt.map((r) => cmp(r.alt!).areaChangePct))} instead of ${range(alt.map((r) => cmp(r.report).areaChangePct))}.`,
    );
  }
  return out;
}
