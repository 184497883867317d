// The sweep's plots, rendered to SVG in Node by Vega-Lite (compiled to Vega, rendered headless:
// no browser): every point, its Pareto front highlighted, INT8 at the origin and the paper's
// claimed region shaded; each point's label and figures show on hover (SVG <title>, from the
// aria-label Vega writes). And the one self-contained HTML page: the plots and a sortable table.
import * as vega from 'vega';
import * as vl from 'vega-lite';
import { isBaselineFormat, lowFormatNames, lowFormatSpec } from '../format/registry.ts';
import { FRONTS, type FrontSpec } from './pareto.ts';
import type { PointRow, SweepReport } from './report.ts';

export interface Plot {
  readonly name: string;
  readonly title: string;
  readonly svg: string;
}

/** A format's label in the plots, and its colour (the spec's `color`). */
const formatLabel = (low: string) => (isBaselineFormat(low) ? 'INT8' : low);
const formatColor = (low: string) =>
  (lowFormatNames().includes(low) ? lowFormatSpec(low).color : undefined) ?? '#9467bd';

/** The claimed region on a front's axes. */
function claimBox(
  r: SweepReport,
  f: FrontSpec,
  yMax: number,
): { x1: number; x2: number; y1: number; y2: number } {
  const range = (k: string): [number, number] =>
    k === 'areaChangePct'
      ? [r.claim.areaPct[0], r.claim.areaPct[1]]
      : k === 'powerChangePct'
        ? [r.claim.powerPct[0], r.claim.powerPct[1]]
        : [-r.claim.maxLossPp, yMax];
  const [x1, x2] = range(f.x.key);
  const [y1, y2] = range(f.y.key);
  return { x1, x2, y1, y2 };
}

const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Vega writes each point's description as aria-label; a <title> child makes it a hover tooltip everywhere. */
export function addTooltips(svg: string): string {
  return svg.replace(
    /<path aria-label="([^"]*)" role="graphics-symbol"([^>]*?)\/>/g,
    '<path aria-label="$1" role="graphics-symbol"$2><title>$1</title></path>',
  );
}

export function vegaLiteSpec(r: SweepReport, f: FrontSpec): Record<string, unknown> {
  const have = r.points.filter((p) => typeof p[f.x.key] === 'number' && typeof p[f.y.key] === 'number');
  const onFront = new Set(r.fronts[f.name]);
  const values = have.map((p) => ({
    label: p.label,
    x: p[f.x.key],
    y: p[f.y.key],
    format: formatLabel(p.low),
    low: p.low,
    variant: `${p.scope === 'pe' ? '' : `${p.scope}, `}${p.pipeline === 'none' ? 'no registers' : p.pipeline}`,
    front: onFront.has(p.index) ? 'on the Pareto front' : 'dominated',
    tip: `${p.label} (point ${p.index}): ${f.x.title} ${p[f.x.key]}, ${f.y.title} ${p[f.y.key]}${p.areaUm2 !== null ? `, area ${p.areaUm2} µm²` : ''}${p.powerMw !== null ? `, power ${p.powerMw} mW` : ''}${p.top1Pct !== null ? `, top-1 ${p.top1Pct}%` : ''}`,
  }));
  const front = values
    .filter((v) => v.front === 'on the Pareto front')
    .sort((a, b) => (a.x as number) - (b.x as number));
  const ys = values.map((v) => v.y as number);
  const yMax = Math.max(0.5, ...ys);
  const box = claimBox(r, f, yMax);
  const xEnc = { field: 'x', type: 'quantitative', title: f.x.title, scale: { zero: false, nice: true } };
  const yEnc = { field: 'y', type: 'quantitative', title: f.y.title, scale: { zero: false, nice: true } };
  const formats = [...new Set(values.map((v) => v.format))].sort();
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: `${r.spec.name}: ${f.title}`,
      subtitle: [
        'changes against the INT8 PE of the same B and pipeline',
        'outlined and joined: the Pareto front; shaded: the paper’s claimed region',
      ],
    },
    width: 560,
    height: 380,
    background: 'white',
    layer: [
      {
        data: { values: [box] },
        mark: { type: 'rect', color: '#f2c14e', opacity: 0.25 },
        encoding: {
          description: {
            value: `the paper’s claimed region: ${f.x.title} ${box.x1}..${box.x2}, ${f.y.title} from ${box.y1}`,
          },
          x: { field: 'x1', type: 'quantitative' },
          x2: { field: 'x2' },
          y: { field: 'y1', type: 'quantitative' },
          y2: { field: 'y2' },
        },
      },
      {
        data: { values: [{ x: box.x1, y: box.y2, t: 'paper’s claim' }] },
        mark: { type: 'text', align: 'left', baseline: 'top', dx: 2, dy: 2, fontSize: 10, color: '#9a7400' },
        encoding: {
          x: { field: 'x', type: 'quantitative' },
          y: { field: 'y', type: 'quantitative' },
          text: { field: 't' },
        },
      },
      {
        data: { values: [{ v: 0 }] },
        mark: { type: 'rule', strokeDash: [4, 3], color: '#888' },
        encoding: { x: { field: 'v', type: 'quantitative' } },
      },
      {
        data: { values: [{ v: 0 }] },
        mark: { type: 'rule', strokeDash: [4, 3], color: '#888' },
        encoding: { y: { field: 'v', type: 'quantitative' } },
      },
      {
        data: { values: [{ x: 0, y: 0, t: 'INT8' }] },
        mark: { type: 'text', align: 'right', dx: -6, dy: -8, fontWeight: 'bold', color: '#555' },
        encoding: {
          x: { field: 'x', type: 'quantitative' },
          y: { field: 'y', type: 'quantitative' },
          text: { field: 't' },
        },
      },
      {
        data: { values: front },
        mark: { type: 'line', color: '#111', strokeWidth: 1.5, interpolate: 'linear' },
        encoding: { x: xEnc, y: yEnc, order: { field: 'x', type: 'quantitative' } },
      },
      {
        name: 'points',
        data: { values },
        mark: { type: 'point', filled: true, size: 70, opacity: 0.85 },
        encoding: {
          x: xEnc,
          y: yEnc,
          color: {
            field: 'format',
            type: 'nominal',
            title: 'format',
            scale: {
              domain: formats,
              range: formats.map((label) => formatColor(values.find((v) => v.format === label)!.low)),
            },
          },
          shape: { field: 'variant', type: 'nominal', title: 'mask scope, pipeline' },
          stroke: {
            field: 'front',
            type: 'nominal',
            legend: null,
            scale: { domain: ['on the Pareto front', 'dominated'], range: ['#000', 'transparent'] },
          },
          strokeWidth: { value: 1.5 },
          description: { field: 'tip' },
          tooltip: [{ field: 'label' }, { field: 'x', title: f.x.title }, { field: 'y', title: f.y.title }],
        },
      },
    ],
    config: { font: 'DejaVu Sans, sans-serif', legend: { orient: 'right' } },
  };
}

export async function renderPlot(r: SweepReport, f: FrontSpec): Promise<Plot> {
  const compiled = vl.compile(vegaLiteSpec(r, f) as unknown as vl.TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    const svg = addTooltips(await view.toSVG());
    return { name: f.name, title: f.title, svg };
  } finally {
    view.finalize();
  }
}

const METRIC_OF = { areaChangePct: 'area', powerChangePct: 'power', top1ChangePp: 'accuracy' } as const;

/** The plots of the fronts whose two metrics the spec measures. */
export async function renderPlots(r: SweepReport): Promise<Plot[]> {
  const out: Plot[] = [];
  for (const f of FRONTS) {
    if ([f.x, f.y].every((o) => r.spec.metrics.includes(METRIC_OF[o.key]))) out.push(await renderPlot(r, f));
  }
  return out;
}

const COLUMNS: [string, (p: PointRow) => unknown, 'num' | 'text'][] = [
  ['#', (p) => p.index, 'num'],
  ['point', (p) => p.label, 'text'],
  ['status', (p) => p.status, 'text'],
  ['scope', (p) => p.scope, 'text'],
  ['area µm²', (p) => p.areaUm2, 'num'],
  ['edge µm²', (p) => p.edgeAreaUm2, 'num'],
  ['edge mW', (p) => p.edgePowerMw, 'num'],
  ['area vs INT8 %', (p) => p.areaChangePct, 'num'],
  ['fmax MHz', (p) => p.fmaxMhz, 'num'],
  ['power mW', (p) => p.powerMw, 'num'],
  ['power vs INT8 %', (p) => p.powerChangePct, 'num'],
  ['pJ/MAC', (p) => p.energyPerMacPj, 'num'],
  ['µJ/inference', (p) => p.energyPerInferenceUj, 'num'],
  ['µJ/inference vs INT8 %', (p) => p.energyPerInferenceChangePct, 'num'],
  ['weight SQNR dB', (p) => p.weightSqnrDb, 'num'],
  ['top-1 %', (p) => p.top1Pct, 'num'],
  ['top-1 vs INT8 pp', (p) => p.top1ChangePp, 'num'],
  ['in claim', (p) => p.inClaim, 'text'],
  ['fronts', () => '', 'text'],
  ['errors', (p) => p.errors.join('; '), 'text'],
];

const SORT_SCRIPT = `
document.querySelectorAll('table.sortable th').forEach((th, col) => {
  th.addEventListener('click', () => {
    const table = th.closest('table');
    const body = table.tBodies[0];
    const numeric = th.dataset.type === 'num';
    const dir = th.dataset.dir === 'asc' ? 'desc' : 'asc';
    table.querySelectorAll('th').forEach((h) => { delete h.dataset.dir; });
    th.dataset.dir = dir;
    const key = (tr) => {
      const t = tr.cells[col].dataset.v ?? tr.cells[col].textContent;
      if (!numeric) return t;
      return t === '' ? (dir === 'asc' ? Infinity : -Infinity) : Number(t);
    };
    const rows = [...body.rows].sort((a, b) => {
      const x = key(a), y = key(b);
      const c = numeric ? x - y : String(x).localeCompare(String(y));
      return dir === 'asc' ? c : -c;
    });
    for (const r of rows) body.appendChild(r);
  });
});
document.body.dataset.ready = 'yes';
`;

/** One self-contained page (no external resources): the plots inline and a sortable table of every point. */
export function renderHtml(r: SweepReport, plots: readonly Plot[]): string {
  const fronts = (p: PointRow) =>
    FRONTS.filter((f) => r.fronts[f.name].includes(p.index))
      .map((f) => f.name)
      .join(' ');
  const head = COLUMNS.map(([n, , t]) => `<th data-type="${t}">${esc(n)}</th>`).join('');
  const rows = r.points
    .map((p) => {
      const cells = COLUMNS.map(([n, get, t]) => {
        const v = n === 'fronts' ? fronts(p) : get(p);
        const text = v === null || v === undefined ? '' : String(v);
        return `<td${t === 'num' ? ` class="num" data-v="${esc(text)}"` : ''}>${esc(text)}</td>`;
      }).join('');
      return `<tr class="${p.kind}${fronts(p) ? ' front' : ''}">${cells}</tr>`;
    })
    .join('\n');
  const tools = Object.entries(r.tools)
    .map(([k, v]) => `${esc(k)} ${esc(String(v))}`)
    .join('; ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>strumgen sweep ${esc(r.spec.name)}</title>
<style>
body{font-family:'DejaVu Sans',sans-serif;margin:1.5em;color:#222}
.plots{display:flex;flex-wrap:wrap;gap:1em}.plots figure{margin:0}
table{border-collapse:collapse;font-size:13px}th,td{border:1px solid #ccc;padding:3px 6px}
th{background:#f0f0f0;cursor:pointer;user-select:none}th[data-dir=asc]::after{content:' ▲'}th[data-dir=desc]::after{content:' ▼'}
td.num{text-align:right;font-variant-numeric:tabular-nums}tr.int8{background:#f7f7f7}tr.front td:nth-child(2){font-weight:bold}
.meta{color:#555;font-size:13px}
</style></head><body>
<h1>Sweep ${esc(r.spec.name)}</h1>
<p class="meta">${r.points.length} points, ${r.skipped.length} illegal combinations skipped; metrics ${esc(r.spec.metrics.join(', '))}${r.accuracyTask ? ` (accuracy: ${esc(r.accuracyTask)})` : ''}; generated ${esc(r.generated)}; spec sha256 ${esc(r.spec.hash.slice(0, 12))}.<br>Tools: ${tools}.<br>
Changes are against the INT8 PE of the same block size and pipeline. Shaded: the paper’s claimed region (PE area ${r.claim.areaPct[0]}..${r.claim.areaPct[1]}%, PE power ${r.claim.powerPct[0]}..${r.claim.powerPct[1]}%, less than ${r.claim.maxLossPp} point of top-1 lost). Hover a point for its figures; click a column to sort.</p>
<div class="plots">
${plots.map((p) => `<figure id="plot-${p.name}">${p.svg}</figure>`).join('\n')}
</div>
<h2>Every point</h2>
<table class="sortable" id="points"><thead><tr>${head}</tr></thead><tbody>
${rows}
</tbody></table>
<script>${SORT_SCRIPT}</script>
</body></html>
`;
}
