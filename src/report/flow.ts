// The end-to-end summary of `strumgen flow`: one page that says what was built, whether it
// matched the golden model, what it costs against the INT8 baseline, and with which tools.
import type { FlowAccuracy } from '../accuracy/flow.ts';
import type { DesignEnergy } from '../accuracy/inference.ts';
import type { ResolvedDpu } from '../config/resolve.ts';
import { lowFormatSpec } from '../format/registry.ts';
import { structureOf } from '../format/structure.ts';
import type { PowerReport } from '../power/index.ts';
import type { SimResult } from '../sim/index.ts';
import type { SynthReport } from '../synth/index.ts';
import { mW } from './power.ts';
import { fmtArea, fmtPct } from './synth.ts';

export interface FlowResult {
  readonly schema: 'strumgen.flow/1';
  readonly config: { readonly name: string; readonly hash: string };
  readonly design: string;
  readonly rtlDir: string;
  readonly synthDir: string;
  readonly sim: SimResult;
  readonly synth: SynthReport;
  /** Fashion-MNIST top-1 of the design's weights against INT8 (docs/ACCURACY.md); absent when not measured. */
  readonly accuracy?: FlowAccuracy;
  /** Power from simulated activity (absent with --no-power). */
  readonly power?: PowerReport;
  /** Energy of one Fashion-MNIST CNN inference at that power (absent without power). */
  readonly energy?: DesignEnergy;
  readonly powerDir?: string;
  /** Wall-clock seconds of each step. */
  readonly seconds: {
    readonly generate: number;
    readonly sim: number;
    readonly synth: number;
    readonly power?: number;
  };
}

export function designLine(cfg: ResolvedDpu): string {
  const { pe, array } = cfg;
  // A PE structure (SDP) describes itself.
  const structure = structureOf(cfg).describe;
  if (structure) return `${array.rows}x${array.cols} PEs, B=${pe.block}, ${structure}`;
  const kind = lowFormatSpec(pe.low).hasLow ? `${pe.low} ${pe.mode}` : 'INT8 baseline';
  return `${array.rows}x${array.cols} PEs, B=${pe.block} H=${pe.high}, ${kind}`;
}

const mega = (x: number) => `${(x / 1e6).toFixed(2)}M`;

/** Key figures as label/value rows, shared by the terminal summary and the Markdown page. */
export function flowRows(f: FlowResult): [string, string][] {
  const s = f.sim;
  const y = f.synth;
  const c = y.comparison;
  const t = y.tools;
  const rows: [string, string][] = [
    ['design', `${f.config.name}: ${f.design} (config hash ${f.config.hash.slice(0, 12)})`],
    ['rtl', f.rtlDir],
    [
      'co-simulation',
      `${s.pass ? 'PASS' : 'FAIL'}: ${s.vectors} vectors, ${s.tiles} tiles, ${s.mismatches} mismatches; ` +
        `${mega(s.arrayCyclesPerSec)} array-cycles/s, ${mega(s.macsPerSec)} MACs/s checked (seed ${s.seed})`,
    ],
    [
      'PE area',
      `${fmtArea(y.area.total)} (${fmtArea(Math.round(y.area.perMac))} per MAC)` +
        (c ? `, INT8 baseline ${fmtArea(c.baseline.area.total)}: ${fmtPct(c.areaChangePct)}` : ''),
    ],
    [
      'PE fmax',
      `${y.timing.fmaxMhz.toFixed(1)} MHz (critical path ${y.timing.criticalPathNs.toFixed(3)} ns, ` +
        `${y.timing.startpoint} -> ${y.timing.endpoint})` +
        (c ? `, baseline ${c.baseline.timing.fmaxMhz.toFixed(1)} MHz: ${fmtPct(c.fmaxChangePct)}` : ''),
    ],
  ];
  const pw = f.power;
  if (pw) {
    const pc = pw.comparison;
    rows.push([
      'PE power',
      `${mW(pw.power.totalW)} at ${pw.clock.mhz.toFixed(0)} MHz from ${pw.activity.source} activity ` +
        `(${pw.activity.cycles} cycles, ${pw.activity.tilesChecked} tiles equal to the golden model)` +
        (pc ? `, INT8 baseline ${mW(pc.baseline.power.totalW)}: ${fmtPct(pc.powerChangePct)}` : ''),
    ]);
    rows.push([
      'power by part',
      Object.entries(pw.power.byModule)
        .map(([m, v]) => `${m} ${mW(v.totalW)}`)
        .join(', ') +
        (pc
          ? `; change ${Object.entries(pc.roleDeltaW)
              .map(([r, d]) => `${r} ${d > 0 ? '+' : ''}${(d * 1e3).toFixed(3)} mW`)
              .join(', ')}`
          : ''),
    ]);
    rows.push(['power stimulus', pw.activity.stimulus]);
    const e = f.energy;
    if (e) {
      rows.push([
        'energy / inference',
        `${e.nj.toFixed(1)} nJ (${e.model}: ${e.cycles} array cycles x ${f.design.split(' ')[0]} PEs at the PE power; edge, control and memories not included)` +
          (e.baseline
            ? `, INT8 baseline ${e.baseline.nj.toFixed(1)} nJ (${e.baseline.cycles} cycles): ${fmtPct((100 * (e.nj - e.baseline.nj)) / e.baseline.nj)}`
            : ''),
      ]);
    }
  }
  if (y.power) {
    const p = y.power;
    const bp = c?.baseline.power;
    rows.push([
      pw ? 'PE power (uniform)' : 'PE power',
      `${(p.totalW * 1000).toFixed(3)} mW at ${p.clockMhz.toFixed(0)} MHz, uniform activity ${p.activity} (OpenSTA estimate)` +
        (bp
          ? `, baseline ${(bp.totalW * 1000).toFixed(3)} mW: ${fmtPct((100 * (p.totalW - bp.totalW)) / bp.totalW)}`
          : ''),
    ]);
  }
  if (f.accuracy) {
    const a = f.accuracy;
    const p = (x: number) => (100 * x).toFixed(2);
    const d = (x: number) => `${x >= 0 ? '+' : ''}${p(x)}`;
    rows.push([
      'accuracy',
      `Fashion-MNIST CNN top-1 ${p(a.design.value)}% on ${a.samples} test images (${a.path === 'integer' ? 'integer path: int8 activations, golden integer model' : 'fake-quantized weights'})` +
        (a.change
          ? `, INT8 ${p(a.int8.value)}%: ${d(a.change.value)} points [${d(a.change.lo)}, ${d(a.change.hi)}], ` +
            `${a.verdict === 'meets' ? 'within 1 point' : a.verdict === 'fails' ? 'more than 1 point below' : 'undecided'}`
          : ''),
    ]);
  }
  if (c) {
    const deltas = Object.entries(c.roleDelta)
      .filter(([, d]) => Math.abs(d) > 0)
      .map(([role, d]) => `${role} ${d > 0 ? '+' : ''}${fmtArea(Math.round(d))}`);
    rows.push(['area change by part', deltas.join(', ')]);
  }
  rows.push(
    [
      'tools',
      `${s.verilator}; ${t.yosys.version} (${t.yosys.impl}${t.yosys.booth ? ', booth' : ''}); ` +
        `OpenSTA ${t.opensta.version}`,
    ],
    ['liberty', `${t.liberty.name} (${t.liberty.path}, sha256 ${t.liberty.sha256.slice(0, 16)}…)`],
    ['synth flags', t.flags.join(' ')],
    ['synth report', f.synthDir],
  );
  if (f.powerDir) rows.push(['power report', f.powerDir]);
  return rows;
}

export function renderFlowText(f: FlowResult): string {
  const rows = flowRows(f);
  const width = Math.max(...rows.map(([k]) => k.length));
  return `${rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n')}\n`;
}

export function renderFlowMarkdown(f: FlowResult): string {
  const rows = flowRows(f).map(([k, v]) => `| ${k} | ${v.replaceAll('|', '\\|')} |`);
  const steps = Object.entries(f.seconds)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k} ${v!.toFixed(1)} s`);
  return [
    `# strumgen flow: ${f.config.name}`,
    '',
    '| | |',
    '|---|---|',
    ...rows,
    '',
    `Step times: ${steps.join(', ')}. The synthesis report (per-part area, cells, paths, scripts and logs) is \`${f.synthDir}/synth.md\`.`,
    '',
  ].join('\n');
}
