// The sweep report: every point's figures (absolute and against the INT8 PE of the same B and
// pipeline, which the sweep measures as a point of its own), the Pareto fronts of (area,
// accuracy), (power, accuracy) and (area, power), written as CSV, JSON, Markdown, SVG plots
// and one self-contained HTML page.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InferenceCost } from '../accuracy/inference.ts';
import { inferenceEnergyUj } from '../accuracy/inference.ts';
import { pairedChange } from '../accuracy/stats.ts';
import { type OutputMarker, replaceOutputDir } from '../config/atomic.ts';
import { groupChannelsOf, maskScopeOf } from '../config/mask-scope.ts';
import { configOf, type ResolvedDpu, resolveConfig } from '../config/resolve.ts';
import type { OutputOptions } from '../io/output.ts';
import { baselineConfig } from '../synth/baseline.ts';
import type {
  AccuracyResult,
  Job,
  JobValue,
  PointJobs,
  PowerResult,
  SqnrResult,
  SynthResult,
} from './jobs.ts';
import { correctOf } from './measure.ts';
import { FRONTS, type FrontName, paretoFront } from './pareto.ts';
import { type SkippedPoint, type SweepSpec, scopeName, sweptFields } from './spec.ts';

export const SWEEP_OUTPUT: OutputMarker = {
  kind: 'sweep',
  file: 'points.json',
  owns: (j) => j.schema === 'strumgen.sweep/1',
  label: 'a strumgen sweep report',
};

/** The paper's claim (StruM against INT8): PE area -23..-26 %, PE power -31..-34 %, < 1 point top-1 loss. */
export const CLAIM = { areaPct: [-26, -23], powerPct: [-34, -31], maxLossPp: 1 } as const;

export type PointStatus = 'ok' | 'failed' | 'missing';

export interface PointRow {
  readonly index: number;
  readonly label: string;
  readonly kind: 'design' | 'int8';
  readonly status: PointStatus;
  readonly configHash: string;
  readonly low: string;
  readonly mode: string;
  readonly block: number;
  readonly high: number;
  readonly pipeline: string;
  /** pe.maskScope in short: 'pe' (router in every PE), 'g4' (one mask per 4 output channels, router at the array edge), 'layer' (no router). */
  readonly scope: string;
  /** Every swept field's value in this point's resolved config. */
  readonly fields: Readonly<Record<string, unknown>>;
  /** The PE's own area (synthesized alone). */
  readonly areaUm2: number | null;
  /**
   * Scope 'group': the PE's share of the edge router it shares with G-1 other columns (the
   * router's area in the same PE with scope 'pe', / G); 0 for other scopes; null when unknown.
   * The edge registers are not in it.
   */
  readonly edgeAreaUm2: number | null;
  /** Scope 'group': likewise the power of 1/G of the router (its power in the 'pe' twin, at the twin's activity). */
  readonly edgePowerMw: number | null;
  readonly areaPerMacUm2: number | null;
  readonly fmaxMhz: number | null;
  readonly powerMw: number | null;
  /** P / (f B); scope 'group': with the edge share of the power. */
  readonly energyPerMacPj: number | null;
  /** Metric 'inference': cycles of one inference of the task's network on the config's array, and its energy (µJ). */
  readonly inferenceCycles: number | null;
  readonly energyPerInferenceUj: number | null;
  readonly weightSqnrDb: number | null;
  /** Top-1 in percent and its 95% Wilson interval. */
  readonly top1Pct: number | null;
  readonly top1LoPct: number | null;
  readonly top1HiPct: number | null;
  /** The INT8 point this one is compared with (same B and pipeline), or null. */
  readonly int8Index: number | null;
  /** Area change against INT8 counts the PE and its edge share (edgeAreaUm2). */
  readonly areaChangePct: number | null;
  readonly fmaxChangePct: number | null;
  readonly powerChangePct: number | null;
  readonly energyChangePct: number | null;
  readonly energyPerInferenceChangePct: number | null;
  /** Paired change of top-1 against the INT8 point on the same samples, in points, with its 95% interval. */
  readonly top1ChangePp: number | null;
  readonly top1ChangeLoPp: number | null;
  readonly top1ChangeHiPp: number | null;
  /** Inside the paper's claimed region on every axis measured (null: nothing to compare). */
  readonly inClaim: boolean | null;
  readonly errors: readonly string[];
  /** Seconds the jobs took when they were measured. */
  readonly seconds: number;
}

export interface SweepReport {
  readonly schema: 'strumgen.sweep/1';
  readonly spec: {
    readonly name: string;
    readonly file: string;
    readonly hash: string;
    readonly metrics: readonly string[];
  };
  readonly generated: string;
  readonly tools: Readonly<Record<string, unknown>>;
  readonly accuracyTask: string | null;
  /** Metric 'inference': the network counted, or null. */
  readonly inferenceTask: string | null;
  readonly claim: typeof CLAIM;
  readonly points: readonly PointRow[];
  readonly skipped: readonly {
    readonly settings: Readonly<Record<string, unknown>>;
    readonly reason: string;
  }[];
  /** Point indices on each Pareto front, in front order. */
  readonly fronts: Readonly<Record<FrontName, readonly number[]>>;
}

const jobValue = <T extends JobValue>(p: PointJobs, job: Job): T | null => {
  const r = p.jobs.find((j) => j.job === job)?.record;
  return r?.ok ? (r.value as T) : null;
};

const pct = (v: number | null | undefined, base: number | null | undefined) =>
  v == null || base == null || base === 0 ? null : (100 * (v - base)) / base;

function getPath(obj: unknown, path: string): unknown {
  let node = obj;
  for (const k of path.split('.'))
    node = node && typeof node === 'object' ? (node as Record<string, unknown>)[k] : undefined;
  return node;
}

const round = (v: number | null, digits: number) =>
  v === null || !Number.isFinite(v) ? v : Number(v.toFixed(digits));

/** The same config with a mask per PE (scope 'pe'): where a 'group' PE's router area is measured. */
function perPeScopeHash(cfg: ResolvedDpu): string | null {
  const c = configOf(cfg);
  const { maskScope: _scope, ...pe } = c.pe;
  try {
    return resolveConfig({ ...c, pe }).hash;
  } catch {
    return null;
  }
}

export function buildReport(
  spec: SweepSpec,
  plan: readonly PointJobs[],
  skipped: readonly SkippedPoint[],
  /** Metric 'inference': each config's (by hash) cost of one inference, or why there is none. */
  inference: ReadonlyMap<string, InferenceCost | string> = new Map(),
): SweepReport {
  const byHash = new Map(plan.map((p) => [p.point.cfg.hash, p]));
  const fields = sweptFields(spec);
  const energyOf = (cfg: ResolvedDpu, w: PowerResult | null, powerMw: number | null) => {
    const c = inference.get(cfg.hash);
    return typeof c === 'object' && w && powerMw !== null ? inferenceEnergyUj(c, powerMw, w.clockMhz) : null;
  };
  const cyclesOf = (cfg: ResolvedDpu) => {
    const c = inference.get(cfg.hash);
    return typeof c === 'object' ? c.cycles : null;
  };
  const rows: PointRow[] = plan.map((p) => {
    const cfg = p.point.cfg;
    const s = jobValue<SynthResult>(p, 'synth');
    const w = jobValue<PowerResult>(p, 'power');
    const a = jobValue<AccuracyResult>(p, 'accuracy');
    const q = jobValue<SqnrResult>(p, 'sqnr');
    const baseP = p.point.kind === 'int8' ? p : byHash.get(baselineConfig(cfg).hash);
    const bs = baseP ? jobValue<SynthResult>(baseP, 'synth') : null;
    const bw = baseP ? jobValue<PowerResult>(baseP, 'power') : null;
    const ba = baseP ? jobValue<AccuracyResult>(baseP, 'accuracy') : null;
    const change = a && ba && a.samples === ba.samples ? pairedChange(correctOf(a), correctOf(ba)) : null;
    const records = p.jobs.map((j) => j.record);
    const errors = p.jobs.filter((j) => j.record && !j.record.ok).map((j) => `${j.job}: ${j.record!.error}`);
    // 'group': the edge router (the 'pe' PE's router) is shared by G columns.
    let edgeAreaUm2: number | null = 0;
    let edgePowerMw: number | null = 0;
    if (maskScopeOf(cfg).kind === 'group') {
      const twinHash = perPeScopeHash(cfg);
      const twin = twinHash ? byHash.get(twinHash) : undefined;
      const ts = twin ? jobValue<SynthResult>(twin, 'synth') : null;
      const tw = twin ? jobValue<PowerResult>(twin, 'power') : null;
      const G = groupChannelsOf(cfg);
      edgeAreaUm2 = ts?.byRoleUm2 ? (ts.byRoleUm2.route ?? 0) / G : null;
      edgePowerMw = tw?.byRoleMw ? (tw.byRoleMw.route ?? 0) / G : null;
    }
    const inferenceWhy = inference.get(cfg.hash);
    if (typeof inferenceWhy === 'string') errors.push(`inference: ${inferenceWhy}`);
    const status: PointStatus = errors.length ? 'failed' : records.every((r) => r?.ok) ? 'ok' : 'missing';
    const areaChangePct = pct(s && edgeAreaUm2 !== null ? s.areaUm2 + edgeAreaUm2 : null, bs?.areaUm2);
    // 'group': the PE and its share of the edge router.
    const powerMw = w && edgePowerMw !== null ? w.powerMw + edgePowerMw : null;
    const powerChangePct = pct(powerMw, bw?.powerMw);
    const energyPerMacPj = w && powerMw !== null ? (w.energyPerMacPj * powerMw) / w.powerMw : null;
    const energyPerInferenceUj = energyOf(cfg, w, powerMw);
    const top1ChangePp = change ? 100 * change.value : null;
    const checks: boolean[] = [];
    if (areaChangePct !== null)
      checks.push(areaChangePct >= CLAIM.areaPct[0] && areaChangePct <= CLAIM.areaPct[1]);
    if (powerChangePct !== null)
      checks.push(powerChangePct >= CLAIM.powerPct[0] && powerChangePct <= CLAIM.powerPct[1]);
    if (top1ChangePp !== null) checks.push(top1ChangePp > -CLAIM.maxLossPp);
    const pl = cfg.pipeline;
    const c = configOf(cfg);
    return {
      index: p.point.index,
      label: p.point.label,
      kind: p.point.kind,
      status,
      configHash: cfg.hash,
      low: cfg.pe.low,
      mode: cfg.pe.mode,
      block: cfg.pe.block,
      high: cfg.pe.high,
      scope: scopeName(cfg),
      pipeline:
        [pl.operands && 'operands', pl.multiply && 'multiply', pl.adderTree && 'adderTree']
          .filter(Boolean)
          .join('+') || 'none',
      fields: Object.fromEntries(fields.map((f) => [f, getPath(c, f) ?? null])),
      areaUm2: round(s?.areaUm2 ?? null, 1),
      edgeAreaUm2: round(edgeAreaUm2, 1),
      edgePowerMw: round(edgePowerMw, 4),
      areaPerMacUm2: round(s?.areaPerMacUm2 ?? null, 1),
      fmaxMhz: round(s?.fmaxMhz ?? null, 2),
      powerMw: round(w?.powerMw ?? null, 4),
      energyPerMacPj: round(energyPerMacPj, 4),
      inferenceCycles: cyclesOf(cfg),
      energyPerInferenceUj: round(energyPerInferenceUj, 4),
      weightSqnrDb: round(q?.weightSqnrDb ?? null, 3),
      top1Pct: round(a ? 100 * a.top1 : null, 3),
      top1LoPct: round(a ? 100 * a.lo : null, 3),
      top1HiPct: round(a ? 100 * a.hi : null, 3),
      int8Index: baseP && baseP !== p ? baseP.point.index : p.point.kind === 'int8' ? p.point.index : null,
      areaChangePct: round(areaChangePct, 2),
      fmaxChangePct: round(pct(s?.fmaxMhz, bs?.fmaxMhz), 2),
      powerChangePct: round(powerChangePct, 2),
      energyChangePct: round(pct(energyPerMacPj, bw?.energyPerMacPj), 2),
      energyPerInferenceChangePct: round(
        pct(energyPerInferenceUj, baseP ? energyOf(baseP.point.cfg, bw, bw?.powerMw ?? null) : null),
        2,
      ),
      top1ChangePp: round(top1ChangePp, 3),
      top1ChangeLoPp: round(change ? 100 * change.lo : null, 3),
      top1ChangeHiPp: round(change ? 100 * change.hi : null, 3),
      inClaim: p.point.kind === 'int8' || checks.length === 0 ? null : checks.every(Boolean),
      errors,
      seconds: round(
        records.reduce((t, r) => t + (r?.seconds ?? 0), 0),
        1,
      ) as number,
    };
  });
  const fronts = Object.fromEntries(
    FRONTS.map((f) => [f.name, paretoFront(rows, f).map((r) => r.index)]),
  ) as Record<FrontName, number[]>;
  const firstInputs = plan.flatMap((p) => p.jobs).map((j) => j.inputs as { tools?: Record<string, string> });
  const tools: Record<string, unknown> = {};
  for (const i of firstInputs) Object.assign(tools, i.tools ?? {});
  return {
    schema: 'strumgen.sweep/1',
    spec: { name: spec.name ?? 'sweep', file: spec.file, hash: spec.hash, metrics: spec.metrics },
    generated: new Date().toISOString(),
    tools,
    accuracyTask: spec.metrics.includes('accuracy') ? spec.accuracy.task : null,
    inferenceTask: spec.metrics.includes('inference') ? spec.accuracy.task : null,
    claim: CLAIM,
    points: rows,
    skipped: skipped.map((s) => ({ settings: s.settings, reason: s.reason })),
    fronts,
  };
}

/** CSV columns: identity, swept fields, figures, comparisons, errors. */
export function toCsv(r: SweepReport): string {
  const fieldNames = Object.keys(r.points[0]?.fields ?? {});
  const cols: [string, (p: PointRow) => unknown][] = [
    ['index', (p) => p.index],
    ['label', (p) => p.label],
    ['kind', (p) => p.kind],
    ['status', (p) => p.status],
    ['config_hash', (p) => p.configHash.slice(0, 12)],
    ...fieldNames.map((f) => [f, (p: PointRow) => p.fields[f]] as [string, (p: PointRow) => unknown]),
    ['low', (p) => p.low],
    ['mode', (p) => p.mode],
    ['block', (p) => p.block],
    ['high', (p) => p.high],
    ['scope', (p) => p.scope],
    ['pipeline', (p) => p.pipeline],
    ['area_um2', (p) => p.areaUm2],
    ['edge_area_um2', (p) => p.edgeAreaUm2],
    ['edge_power_mw', (p) => p.edgePowerMw],
    ['area_per_mac_um2', (p) => p.areaPerMacUm2],
    ['fmax_mhz', (p) => p.fmaxMhz],
    ['power_mw', (p) => p.powerMw],
    ['energy_per_mac_pj', (p) => p.energyPerMacPj],
    ['inference_cycles', (p) => p.inferenceCycles],
    ['energy_per_inference_uj', (p) => p.energyPerInferenceUj],
    ['weight_sqnr_db', (p) => p.weightSqnrDb],
    ['top1_pct', (p) => p.top1Pct],
    ['int8_index', (p) => p.int8Index],
    ['area_change_pct', (p) => p.areaChangePct],
    ['fmax_change_pct', (p) => p.fmaxChangePct],
    ['power_change_pct', (p) => p.powerChangePct],
    ['energy_change_pct', (p) => p.energyChangePct],
    ['energy_per_inference_change_pct', (p) => p.energyPerInferenceChangePct],
    ['top1_change_pp', (p) => p.top1ChangePp],
    ['top1_change_lo_pp', (p) => p.top1ChangeLoPp],
    ['top1_change_hi_pp', (p) => p.top1ChangeHiPp],
    ['in_claim', (p) => p.inClaim],
    ...FRONTS.map(
      (f) =>
        [`front_${f.name}`, (p: PointRow) => r.fronts[f.name].includes(p.index)] as [
          string,
          (p: PointRow) => unknown,
        ],
    ),
    ['errors', (p) => p.errors.join('; ')],
  ];
  const cell = (v: unknown) => {
    if (v === null || v === undefined) return '';
    const s = String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const lines = [cols.map(([n]) => n).join(',')];
  for (const p of r.points) lines.push(cols.map(([, f]) => cell(f(p))).join(','));
  for (const s of r.skipped)
    lines.push(
      cols
        .map(([n]) =>
          n === 'status'
            ? 'skipped'
            : n in s.settings
              ? cell(s.settings[n])
              : n === 'errors'
                ? cell(s.reason)
                : '',
        )
        .join(','),
    );
  return `${lines.join('\n')}\n`;
}

const fmt = (v: number | null, d = 1, unit = '') => (v === null ? '–' : `${v.toFixed(d)}${unit}`);
const signed = (v: number | null, d = 1, unit = '') =>
  v === null ? '–' : `${v > 0 ? '+' : ''}${v.toFixed(d)}${unit}`;

/** The front's points as a Markdown table. */
export function frontTable(r: SweepReport, name: FrontName): string {
  const rows = r.fronts[name].map((i) => r.points.find((p) => p.index === i)!);
  const edge = r.points.some((p) => (p.edgeAreaUm2 ?? 0) > 0);
  const plus = edge ? ' (PE + edge share)' : '';
  const head = `| point | area µm²${plus} | vs INT8 | power mW${plus} | vs INT8 | fmax MHz | top-1 % | vs INT8 (pp, 95% CI) |\n|---|---:|---:|---:|---:|---:|---:|---:|`;
  const withEdge = (v: number | null, e: number | null) => (v === null || e === null ? null : v + e);
  const area = (p: PointRow) => withEdge(p.areaUm2, p.edgeAreaUm2);
  const body = rows.map(
    (p) =>
      `| ${p.label} | ${fmt(area(p), 0)} | ${signed(p.areaChangePct, 1, '%')} | ${fmt(withEdge(p.powerMw, p.edgePowerMw), 2)} | ${signed(p.powerChangePct, 1, '%')} | ${fmt(p.fmaxMhz, 1)} | ${fmt(p.top1Pct, 2)} | ${signed(p.top1ChangePp, 2)}${p.top1ChangeLoPp !== null ? ` [${signed(p.top1ChangeLoPp, 2)}, ${signed(p.top1ChangeHiPp, 2)}]` : ''} |`,
  );
  return [head, ...body].join('\n');
}

export function renderMarkdown(r: SweepReport): string {
  const ok = r.points.filter((p) => p.status === 'ok').length;
  const parts = [
    `# Sweep ${r.spec.name}`,
    '',
    `${r.points.length} points (${ok} measured completely), ${r.skipped.length} illegal combinations skipped; ` +
      `metrics ${r.spec.metrics.join(', ')}; spec sha256 ${r.spec.hash.slice(0, 12)}.`,
    `Tools: ${Object.entries(r.tools)
      .map(([k, v]) => `${k} ${v}`)
      .join('; ')}.`,
    '',
    'Changes are against the INT8 PE of the same block size and pipeline, measured by the same flow.',
  ];
  if (r.points.some((p) => p.scope !== 'pe'))
    parts.push(
      "Mask scopes: 'pe' a router in every PE; 'gG' one mask per G output channels, the router at the " +
        "array edge (a PE's area and power count 1/G of it: the router's area and power in the same PE with " +
        "scope 'pe'; the edge registers are not counted); 'layer' per-input-channel precision, no router.",
    );
  if (r.inferenceTask)
    parts.push(
      `Energy per inference: the ${r.inferenceTask} network's conv and fully connected layers on the ` +
        "config's array (output-stationary tiles, one block a cycle), every PE at its measured power (P / f per PE-cycle).",
    );
  for (const f of FRONTS) {
    parts.push('', `## Pareto front: ${f.title}`, '', frontTable(r, f.name));
  }
  const failed = r.points.filter((p) => p.status !== 'ok');
  if (failed.length) {
    parts.push('', '## Points not measured completely', '');
    for (const p of failed)
      parts.push(`- ${p.index} ${p.label}: ${p.status}${p.errors.length ? ` (${p.errors.join('; ')})` : ''}`);
  }
  if (r.skipped.length) {
    parts.push('', '## Skipped combinations', '');
    for (const s of r.skipped)
      parts.push(
        `- ${Object.entries(s.settings)
          .map(([k, v]) => `${k}=${v}`)
          .join(', ')}: ${s.reason}`,
      );
  }
  return `${parts.join('\n')}\n`;
}

export function summaryLines(r: SweepReport): string[] {
  const by = (s: PointStatus) => r.points.filter((p) => p.status === s).length;
  const lines = [
    `sweep ${r.spec.name}: ${r.points.length} points: ${by('ok')} measured, ${by('failed')} failed, ${by('missing')} missing; ${r.skipped.length} skipped as illegal`,
  ];
  for (const f of FRONTS) {
    const labels = r.fronts[f.name].map((i) => r.points.find((p) => p.index === i)!.label);
    if (labels.length) lines.push(`  front ${f.name.padEnd(16)} ${labels.join(', ')}`);
  }
  return lines;
}

/** Write CSV, JSON, Markdown, the SVG plots and the HTML page into `out` (the output policy). */
export async function writeSweepReport(
  r: SweepReport,
  out: string,
  opts: OutputOptions = {},
): Promise<string> {
  const { renderPlots, renderHtml } = await import('./plots.ts');
  const plots = await renderPlots(r);
  return replaceOutputDir(
    out,
    SWEEP_OUTPUT,
    async (dir) => {
      writeFileSync(join(dir, 'points.json'), `${JSON.stringify(r, null, 1)}\n`);
      writeFileSync(join(dir, 'points.csv'), toCsv(r));
      writeFileSync(join(dir, 'sweep.md'), renderMarkdown(r));
      for (const p of plots) writeFileSync(join(dir, `${p.name}.svg`), p.svg);
      writeFileSync(join(dir, 'index.html'), renderHtml(r, plots));
    },
    opts,
  );
}
