// Public API of the synthesis stage: runSynth(cfg, opts) maps a config's PE (or whole
// array) onto a liberty with Yosys, times it with OpenSTA and, with `baseline`, compares it
// against the INT8 baseline PE run through the identical flow.
import type { ResolvedDpu } from '../config/resolve.ts';
import { renderRtl } from '../rtl/index.ts';
import type { RtlBundle } from '../rtl/types.ts';
import { baselineConfig } from './baseline.ts';
import { cacheRoot } from './cache.ts';
import { type DesignResult, type FlowEnv, runDesign, staTool } from './flow.ts';
import { loadLiberty } from './liberty.ts';
import type { SynthKind } from './scripts.ts';
import type { PowerReport } from './sta.ts';
import type { ModuleArea } from './stat.ts';
import { type YosysImpl, yosysImplOf, yosysTool } from './yosys.ts';

export { baselineConfig } from './baseline.ts';
export { TOOL_FAILED_EXIT, ToolError } from './run.ts';
export { DEFAULT_YOSYS_IMPL, YOSYS_IMPL_ENV, YOSYS_IMPLS, type YosysImpl } from './yosys.ts';

export type SynthTarget = 'pe' | 'array';
export const SYNTH_TARGETS: readonly SynthTarget[] = ['pe', 'array'];

export interface SynthOptions {
  /** 'pe' (default): one PE; 'array': the whole array, the PE synthesized once and instantiated. */
  target?: SynthTarget;
  /** Liberty file (gzipped or not); default the osu018 library (or $STRUMGEN_LIBERTY). */
  liberty?: string;
  /** Also synthesize the INT8 baseline PE (or array) and report the change against it. */
  baseline?: boolean;
  /** Yosys implementation; default $STRUMGEN_YOSYS_IMPL, else 'yowasp'. */
  yosys?: YosysImpl | string;
  /** Target 'pe': also synthesize the PE flattened and report its total next to the hierarchical one. */
  flat?: boolean;
  /** Use `synth -booth` when the Yosys has it (default true). */
  booth?: boolean;
  /** The config's rendered RTL, when the caller has it already (flow renders once); default renderRtl(cfg). */
  rtl?: RtlBundle;
  /** With `baseline`: the INT8 baseline's rendered RTL when the caller has it (flow renders it once for synth and power); default renderRtl(baselineConfig(cfg)). */
  baselineRtl?: RtlBundle;
  onProgress?: (msg: string) => void;
  /** Cache root (default: strumgen's one cache root, src/io/cache.ts). */
  cacheDir?: string;
  /** false: synthesize again even when cached. */
  cache?: boolean;
  /** Time limit of each Yosys run (default 1800 s) and each OpenSTA run (default 600 s). */
  yosysTimeoutSeconds?: number;
  staTimeoutSeconds?: number;
  /** Nominal clock period of the timing run (fmax does not depend on it). Default 10 ns. */
  clockPeriodNs?: number;
  /** Switching activity for report_power. Default 0.1. */
  activity?: number;
}

/** Area in the liberty's area unit (µm² for osu018). */
export interface SynthArea {
  readonly total: number;
  readonly combinational: number;
  readonly sequential: number;
  /** total / MACs per cycle. */
  readonly perMac: number;
  /** Area per role (lane, route, adder_tree, accumulator, pe, array, other), summing to `breakdownTotal`. */
  readonly byRole: Readonly<Record<string, number>>;
  /** Total of the run the per-role and per-module figures come from. */
  readonly breakdownTotal: number;
  /** Which run gives the per-role figures, e.g. 'hier'. */
  readonly breakdownBasis: SynthKind;
  readonly modules: readonly ModuleArea[];
  /** Liberty cells of the headline run: count, area and kind. */
  readonly cells: Readonly<Record<string, { count: number; area: number; sequential: boolean }>>;
  readonly cellCount: number;
  /** Which run the totals come from. */
  readonly basis: SynthKind;
  /** Total of every run made, by kind (e.g. hier and flat of the PE). */
  readonly totalsByKind: Readonly<Partial<Record<SynthKind, number>>>;
  /** Yosys's own `stat -liberty` figure for the headline run (a cross-check). */
  readonly yosysTotal: number | null;
}

export interface SynthTiming {
  /** Shortest clock period the worst path allows (period - slack; setup included). */
  readonly criticalPathNs: number;
  readonly fmaxMhz: number;
  readonly startpoint: string;
  readonly endpoint: string;
  readonly slackNs: number;
  readonly clockPeriodNs: number;
  /** Cells on the worst path. */
  readonly stages: number;
  readonly basis: SynthKind;
}

export interface SynthPower extends PowerReport {
  /** Clock frequency and default activity the figures are for. */
  readonly clockMhz: number;
  readonly activity: number;
}

export interface SynthTools {
  readonly yosys: { impl: YosysImpl; version: string; path: string; booth: boolean };
  readonly opensta: { version: string; path: string };
  readonly liberty: { path: string; name: string; sha256: string; gzipped: boolean };
  /** The exact scripts, by run kind. */
  readonly scripts: Readonly<Partial<Record<SynthKind, { yosys: string; sta: string }>>>;
  /** Flags a reader needs to redo the run. */
  readonly flags: readonly string[];
}

export interface SynthRun {
  readonly kind: SynthKind;
  readonly top: string;
  readonly cached: boolean;
  readonly yosysSeconds: number;
  readonly staSeconds: number;
  /** Cache entry with this run's scripts, logs and netlist. */
  readonly dir: string;
}

export interface SynthReport {
  readonly schema: 'strumgen.synth/1';
  readonly design: {
    readonly name: string;
    readonly configHash: string;
    readonly target: SynthTarget;
    readonly top: string;
    readonly pe: ResolvedDpu['pe'];
    readonly array: ResolvedDpu['array'];
    readonly lanes: { full: number; low: number };
    /** Multiply-accumulates per cycle of the synthesized design: B per PE. */
    readonly macsPerCycle: number;
  };
  readonly area: SynthArea;
  readonly timing: SynthTiming;
  readonly power: SynthPower | null;
  readonly tools: SynthTools;
  readonly runs: readonly SynthRun[];
  /** Against the INT8 baseline (with `baseline`); negative area change = smaller than the baseline. */
  readonly comparison?: {
    readonly areaChangePct: number;
    readonly fmaxChangePct: number;
    /** Per-role area change in the breakdown run, in area units (design minus baseline). */
    readonly roleDelta: Readonly<Record<string, number>>;
    readonly baseline: SynthReport;
  };
  readonly warnings: readonly string[];
}

/**
 * A PE is synthesized with its module boundaries kept ('hier'): that gives the per-lane /
 * route / tree / accumulator area, and on our PEs it is within ~1.5% of a flattened run
 * (docs/SYNTHESIS.md). `flat` adds the flattened run as a second figure.
 */
export const peKinds = (flat: boolean): SynthKind[] => (flat ? ['hier', 'flat'] : ['hier']);

const pct = (value: number, base: number) => (100 * (value - base)) / base;

/** Synthesize a config; see SynthOptions. Throws UserError on bad input or tool failure. */
export async function runSynth(cfg: ResolvedDpu, opts: SynthOptions = {}): Promise<SynthReport> {
  const env = await flowEnv(opts);
  const kinds = opts.target === 'array' ? (['array'] as SynthKind[]) : peKinds(opts.flat ?? false);
  const report = await synthesizeBundle(cfg, opts.rtl ?? renderRtl(cfg), env, kinds);
  if (!opts.baseline) return report;
  const base = baselineConfig(cfg);
  env.onProgress(`synth: baseline ${base.name} (INT8, B=${base.pe.block}) through the same flow`);
  const baseline = await synthesizeBundle(base, opts.baselineRtl ?? renderRtl(base), env, kinds);
  return withComparison(report, baseline);
}

export function withComparison(report: SynthReport, baseline: SynthReport): SynthReport {
  const roles = new Set([...Object.keys(report.area.byRole), ...Object.keys(baseline.area.byRole)]);
  const roleDelta: Record<string, number> = {};
  for (const r of roles) roleDelta[r] = (report.area.byRole[r] ?? 0) - (baseline.area.byRole[r] ?? 0);
  return {
    ...report,
    comparison: {
      areaChangePct: pct(report.area.total, baseline.area.total),
      fmaxChangePct: pct(report.timing.fmaxMhz, baseline.timing.fmaxMhz),
      roleDelta,
      baseline,
    },
  };
}

/** Resolve tools, liberty and settings once (shared by a design and its baseline). */
export async function flowEnv(opts: SynthOptions): Promise<FlowEnv> {
  const onProgress = opts.onProgress ?? (() => {});
  const liberty = loadLiberty(opts.liberty);
  const [yosys, sta] = await Promise.all([yosysTool(yosysImplOf(opts.yosys)), staTool()]);
  return {
    yosys,
    sta,
    liberty,
    booth: (opts.booth ?? true) && yosys.booth,
    cacheDir: cacheRoot(opts.cacheDir),
    useCache: opts.cache ?? true,
    yosysTimeoutSeconds: opts.yosysTimeoutSeconds ?? 1800,
    staTimeoutSeconds: opts.staTimeoutSeconds ?? 600,
    clockPeriodNs: opts.clockPeriodNs ?? 10,
    activity: opts.activity ?? 0.1,
    onProgress,
  };
}

/** The files of `top` and every module it instantiates (one module per file, `<module>.v`), in bundle order. */
export function filesUnder<F extends { name: string; content: string }>(
  files: readonly F[],
  top: string,
): F[] {
  const byModule = new Map(files.map((f) => [f.name.replace(/\.s?v$/, ''), f]));
  const seen = new Set<string>([top]);
  const todo = [top];
  while (todo.length) {
    const text = byModule.get(todo.pop()!)?.content ?? '';
    for (const name of byModule.keys()) {
      if (!seen.has(name) && new RegExp(`\\b${name}\\b`).test(text)) {
        seen.add(name);
        todo.push(name);
      }
    }
  }
  // A top without a file of its own (hand-written bundles): keep everything.
  if (!byModule.has(top)) return [...files];
  return files.filter((f) => seen.has(f.name.replace(/\.s?v$/, '')));
}

/** Synthesize an already rendered bundle (tests use hand-written ones). */
export async function synthesizeBundle(
  cfg: ResolvedDpu,
  bundle: RtlBundle,
  env: FlowEnv,
  kinds: readonly SynthKind[],
): Promise<SynthReport> {
  if (kinds.length === 0 || (kinds.includes('array') && kinds.length > 1)) throw new Error('bad run kinds');
  const target: SynthTarget = kinds[0] === 'array' ? 'array' : 'pe';
  const roles = new Map(bundle.modules.map((m) => [m.name, m.role as string]));
  const results: DesignResult[] = [];
  for (const kind of kinds) {
    const top = kind === 'array' ? bundle.top : bundle.pe;
    // A PE run reads only the PE's own modules, so its cache key does not change with the array size.
    const files = kind === 'array' ? bundle.files : filesUnder(bundle.files, top);
    results.push(
      await runDesign(
        { files, clockPort: 'clk', roles, kind, top, keep: kind === 'array' ? bundle.pe : undefined },
        env,
      ),
    );
  }
  const warnings: string[] = [];
  // Headline (area and timing): the first run kind; per-role figures: the first too (hier for a PE).
  const head = results[0]!;
  const breakdown = results[0]!;
  if (head.yosysArea !== null && Math.abs(head.yosysArea - head.area.total) > 1e-6 * head.area.total + 1e-3) {
    warnings.push(
      `area from the liberty (${head.area.total}) differs from Yosys's stat (${head.yosysArea}); the liberty figure is reported`,
    );
  }
  if (target === 'array' && !head.area.modules.some((m) => m.module === bundle.pe)) {
    warnings.push(
      `the PE module ${bundle.pe} was not kept as a module; per-role area of the array is not split`,
    );
  }
  const peCount = target === 'pe' ? 1 : cfg.array.rows * cfg.array.cols;
  const macsPerCycle = cfg.pe.block * peCount;
  const power: SynthPower | null = head.power
    ? { ...head.power, clockMhz: 1000 / head.timing.clockPeriodNs, activity: env.activity }
    : null;
  const scripts: Partial<Record<SynthKind, { yosys: string; sta: string }>> = {};
  for (const r of results) scripts[r.kind] = { yosys: r.yosysScript, sta: r.staScript };
  return {
    schema: 'strumgen.synth/1',
    design: {
      name: cfg.name,
      configHash: cfg.hash,
      target,
      top: target === 'pe' ? bundle.pe : bundle.top,
      pe: cfg.pe,
      array: cfg.array,
      lanes: { full: cfg.derived.highLanes, low: cfg.derived.lowLanes },
      macsPerCycle,
    },
    area: {
      total: head.area.total,
      combinational: head.area.combinational,
      sequential: head.area.sequential,
      perMac: head.area.total / macsPerCycle,
      byRole: breakdown.area.byRole,
      breakdownTotal: breakdown.area.total,
      breakdownBasis: breakdown.kind,
      modules: breakdown.area.modules,
      cells: head.area.cells,
      cellCount: head.area.cellCount,
      basis: head.kind,
      totalsByKind: Object.fromEntries(results.map((r) => [r.kind, r.area.total])),
      yosysTotal: head.yosysArea,
    },
    timing: {
      criticalPathNs: head.timing.criticalPathNs,
      fmaxMhz: head.timing.fmaxMhz,
      startpoint: head.timing.startpoint,
      endpoint: head.timing.endpoint,
      slackNs: head.timing.slackNs,
      clockPeriodNs: head.timing.clockPeriodNs,
      stages: head.timing.stages,
      basis: head.kind,
    },
    power,
    tools: {
      yosys: {
        impl: env.yosys.impl,
        version: env.yosys.version,
        path: env.yosys.path,
        booth: env.yosys.booth,
      },
      opensta: { version: env.sta.version, path: env.sta.path },
      liberty: {
        path: env.liberty.path,
        name: env.liberty.name,
        sha256: env.liberty.sha256,
        gzipped: env.liberty.gzipped,
      },
      scripts,
      flags: [`booth=${env.booth}`, `clockPeriodNs=${env.clockPeriodNs}`, `activity=${env.activity}`],
    },
    runs: results.map((r) => ({
      kind: r.kind,
      top: r.top,
      cached: r.cached,
      yosysSeconds: r.yosysSeconds,
      staSeconds: r.staSeconds,
      dir: r.dir,
    })),
    warnings,
  };
}
