// Public API of the power stage: runPower(cfg, opts) synthesizes the PE (cached, the same
// run area and timing come from), simulates its gate netlist on real weights and
// activations (zero delay, every tile checked against the golden model), counts toggles
// per cell output pin and turns them into power with OpenSTA's per-instance figures:
// P = P0 + a (P1 - P0), a = the instance's output toggles per cycle. docs/POWER.md.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../config/errors.ts';
import type { ResolvedDpu } from '../config/resolve.ts';
import { type RtlBundle, type RtlOptions, renderRtl } from '../rtl/index.ts';
import { baselineConfig, flowEnv, peKinds, type SynthReport, synthesizeBundle } from '../synth/index.ts';
import { baseModuleName, cleanNetlistForSta } from '../synth/netlist.ts';
import { type ActivityRun, runActivity, type TileMismatch } from './activity.ts';
import { type CellLibrary, cellLibrary } from './cells.ts';
import { compileGateSim, type GateSim } from './gatesim.ts';
import { icarusToggles } from './icarus.ts';
import { type FlatNetlist, flatten, parseNetlist } from './netlist.ts';
import { type PowerTable, powerTable } from './sta.ts';
import {
  type ActivationSource,
  DEFAULT_LAYER,
  DEFAULT_MODEL,
  peStimulus,
  type WeightSource,
} from './stimulus.ts';
import { timedCellModels, writeSdf } from './timed.ts';

export type { ActivationSource, WeightSource } from './stimulus.ts';
export { DEFAULT_LAYER, DEFAULT_MODEL } from './stimulus.ts';

export const DEFAULT_CYCLES = 2000;
export const DEFAULT_POWER_SEED = 1;

/** Exit code when the gate-level simulation disagrees with the golden model. */
export const POWER_CHECK_EXIT = 1;

export class PowerCheckError extends UserError {
  constructor(
    message: string,
    readonly mismatches: readonly TileMismatch[],
  ) {
    super(message, POWER_CHECK_EXIT);
    this.name = 'PowerCheckError';
  }
}

export interface PowerOptions {
  /** Real weights (default: DEFAULT_MODEL / DEFAULT_LAYER), 'random', or an already quantized layer. */
  weights?: WeightSource;
  acts?: ActivationSource;
  cycles?: number;
  seed?: number;
  baseline?: boolean;
  liberty?: string;
  yosys?: string;
  /** Clock period of the power figures (default 10 ns: 100 MHz). */
  clockPeriodNs?: number;
  cacheDir?: string;
  cache?: boolean;
  onProgress?: (msg: string) => void;
  /** Also glitch-aware activity from an SDF-annotated Icarus run of this many cycles (slow). */
  timedCycles?: number;
  /** Bench only: RTL options of the PE (e.g. dynamic lanes without operand isolation). */
  rtl?: RtlOptions;
  /** The config's rendered RTL, when the caller has it already (flow renders once); default renderRtl(cfg, rtl). */
  bundle?: RtlBundle;
  /** With `baseline`: the INT8 baseline's rendered RTL when the caller has it (flow renders it once for synth and power); default renderRtl(baselineConfig(cfg)). */
  baselineBundle?: RtlBundle;
  /** Keep the timed run's work directory (VCD, SDF, test bench) for inspection. */
  keepTimedFiles?: boolean;
  /** Test only: replace the netlist text the simulator reads (a deliberately wrong netlist). */
  mutateNetlist?: (text: string) => string;
}

export interface PowerParts {
  readonly totalW: number;
  readonly internalW: number;
  readonly switchingW: number;
  readonly leakageW: number;
}

export interface RolePower extends PowerParts {
  readonly cells: number;
  /** Mean toggles per cycle of the role's cell outputs. */
  readonly activity: number;
}

export interface PowerReport {
  readonly schema: 'strumgen.power/1';
  readonly design: {
    readonly name: string;
    readonly configHash: string;
    readonly top: string;
    readonly pe: ResolvedDpu['pe'];
    readonly lanes: { full: number; low: number };
    readonly pipeline: ResolvedDpu['pipeline'];
  };
  readonly activity: {
    readonly source: 'zero-delay';
    readonly simulator: string;
    readonly stimulus: string;
    readonly seed: number;
    readonly cycles: number;
    readonly resetCycles: number;
    readonly tilesChecked: number;
    readonly mismatches: number;
    /** Mean toggles per cycle over all cell output pins. */
    readonly meanToggleRate: number;
    readonly simulateSeconds: number;
  };
  readonly clock: { readonly periodNs: number; readonly mhz: number };
  /** Power of the PE's cells from the simulated activity. */
  readonly power: PowerParts & {
    /** Activity-independent part: leakage plus the flip-flops' clock-pin internal power (P0). */
    readonly idleW: number;
    /** Switching power of the nets the PE's input ports drive (not in totalW), by port. */
    readonly inputNetsW: number;
    readonly inputNetsByPort: Readonly<Record<string, number>>;
    /** Per role of the RTL modules (synth's role mapping; 'pe' = pipeline registers and PE glue). */
    readonly byRole: Readonly<Record<string, RolePower>>;
    /** Per RTL module (lanes by kind: lane_full, lane_mip2q, ...). */
    readonly byModule: Readonly<Record<string, RolePower & { role: string }>>;
  };
  /** The same model with a = 0.1 everywhere against OpenSTA's own uniform report. */
  readonly selfCheck: {
    readonly activity: number;
    readonly staTotalW: number;
    readonly modelTotalW: number;
    readonly relError: number;
  };
  readonly area: { readonly total: number; readonly fmaxMhz: number };
  readonly tools: {
    readonly opensta: string;
    readonly yosys: string;
    readonly liberty: { readonly name: string; readonly sha256: string; readonly path: string };
    readonly synthDir: string;
    readonly powerDir: string;
    readonly staScript: string;
  };
  readonly seconds: { readonly synth: number; readonly sta: number; readonly simulate: number };
  /** Glitch-aware activity (--timed): Icarus with OpenSTA's SDF, over its own shorter run. */
  readonly timed?: {
    readonly cycles: number;
    readonly power: PowerReport['power'];
    /** Zero-delay power over the same cycles, for the glitch factor. */
    readonly zeroDelayTotalW: number;
    readonly meanToggleRate: number;
    /** Cycles whose settled result equals the zero-delay (golden-checked) simulation's. */
    readonly resultsChecked: number;
    readonly clockNs: number;
    readonly vcdBytes: number;
    readonly seconds: number;
  };
  readonly comparison?: {
    readonly powerChangePct: number;
    readonly timedPowerChangePct?: number;
    /** OpenSTA's uniform-activity estimate of the same two PEs, for contrast. */
    readonly uniformChangePct: number;
    readonly areaChangePct: number;
    readonly roleDeltaW: Readonly<Record<string, number>>;
    readonly baseline: PowerReport;
  };
  readonly warnings: readonly string[];
}

const pct = (v: number, b: number) => (100 * (v - b)) / b;

const libCache = new Map<string, CellLibrary>();
function cellsOf(sha: string, text: string): CellLibrary {
  let lib = libCache.get(sha);
  if (!lib) {
    try {
      lib = cellLibrary(text);
    } catch (e) {
      throw new UserError(`liberty: ${(e as Error).message}`);
    }
    libCache.set(sha, lib);
  }
  return lib;
}

/** Netlist module name (as in netlist.sta.v) -> RTL module base name. */
function moduleBases(rawNetlist: string): (m: string) => string {
  const back = new Map<string, string>();
  for (const [orig, clean] of cleanNetlistForSta(rawNetlist).renamed) back.set(clean, baseModuleName(orig));
  return (m) => back.get(m) ?? baseModuleName(m);
}

interface Prepared {
  readonly cfg: ResolvedDpu;
  readonly synth: SynthReport;
  readonly net: FlatNetlist;
  readonly sim: GateSim;
  readonly moduleOf: (leaf: number) => string;
  readonly roleOf: (module: string) => string;
  readonly lib: CellLibrary;
}

async function prepare(
  cfg: ResolvedDpu,
  opts: PowerOptions,
  progress: (m: string) => void,
): Promise<Prepared> {
  const synthOpts = {
    liberty: opts.liberty,
    yosys: opts.yosys,
    cacheDir: opts.cacheDir,
    cache: opts.cache,
    onProgress: progress,
  };
  const env = await flowEnv(synthOpts);
  const bundle = opts.bundle ?? renderRtl(cfg, opts.rtl ?? {});
  // The same cached hierarchical run `strumgen synth` makes (its area and fmax are reported).
  const synth = await synthesizeBundle(cfg, bundle, env, peKinds(false));
  const run = synth.runs[0]!;
  const lib = cellsOf(env.liberty.sha256, env.liberty.text);
  const raw = readFileSync(join(run.dir, 'netlist.v'), 'utf8');
  let text = readFileSync(join(run.dir, 'netlist.sta.v'), 'utf8');
  if (opts.mutateNetlist) text = opts.mutateNetlist(text);
  const net = flatten(parseNetlist(text), run.top);
  const clk = net.ports.get('clk');
  if (!clk) throw new Error(`PE netlist ${run.top} has no clk port`);
  const sim = compileGateSim(net, lib, clk.net);
  const base = moduleBases(raw);
  const roles = new Map(bundle.modules.map((m) => [m.name, m.role as string]));
  const prefix = `${cfg.name}_`;
  const short = (m: string) => (m.startsWith(prefix) ? m.slice(prefix.length) : m);
  const modOfLeaf = net.leaves.map((l) => base(l.module));
  return {
    cfg,
    synth,
    net,
    sim,
    lib,
    moduleOf: (k) => short(modOfLeaf[k]!),
    roleOf: (m) => roles.get(`${prefix}${m}`) ?? roles.get(m) ?? 'other',
  };
}

function model(
  p: Prepared,
  table: PowerTable,
  act: ActivityRun,
  toggles: ArrayLike<number> = p.sim.toggles,
): { power: PowerReport['power']; selfCheck: PowerReport['selfCheck']; warnings: string[]; mean: number } {
  const { net, sim } = p;
  const warnings: string[] = [];
  const cycles = act.cycles;
  const parts = () => ({ totalW: 0, internalW: 0, switchingW: 0, leakageW: 0, cells: 0, activity: 0 });
  const total = parts();
  let idle = 0;
  let uniformModel = 0;
  let slotsSeen = 0;
  let toggleSum = 0;
  const byRole: Record<string, ReturnType<typeof parts>> = {};
  const byModule: Record<string, ReturnType<typeof parts> & { role: string }> = {};
  const missing: string[] = [];
  net.leaves.forEach((leaf, k) => {
    const p0 = table.p0.get(leaf.path);
    const p1 = table.p1.get(leaf.path);
    if (!p0 || !p1) {
      missing.push(leaf.path);
      return;
    }
    const slots = sim.leafSlots[k]!;
    let t = 0;
    for (const s of slots) t += toggles[s]!;
    const a = slots.length ? t / slots.length / cycles : 0;
    slotsSeen += slots.length;
    toggleSum += t;
    const lin = (x0: number, x1: number, x: number) => x0 + x * (x1 - x0);
    const internal = lin(p0.internal, p1.internal, a);
    const switching = lin(p0.switching, p1.switching, a);
    const leakage = lin(p0.leakage, p1.leakage, a);
    const sum = internal + switching + leakage;
    idle += p0.internal + p0.switching + p0.leakage;
    uniformModel +=
      lin(p0.internal, p1.internal, table.uniformActivity) +
      lin(p0.switching, p1.switching, table.uniformActivity) +
      lin(p0.leakage, p1.leakage, table.uniformActivity);
    const module = p.moduleOf(k);
    const role = p.roleOf(module);
    byRole[role] ??= parts();
    byModule[module] ??= { ...parts(), role };
    for (const acc of [total, byRole[role]!, byModule[module]!]) {
      acc.totalW += sum;
      acc.internalW += internal;
      acc.switchingW += switching;
      acc.leakageW += leakage;
      acc.cells++;
      acc.activity += a;
    }
  });
  if (missing.length)
    throw new Error(`OpenSTA reported no power for ${missing.length} cells (first: ${missing[0]})`);
  for (const acc of [total, ...Object.values(byRole), ...Object.values(byModule)])
    acc.activity = acc.cells ? acc.activity / acc.cells : 0;
  // Input ports: 0.5 C V^2 f a over the input pin capacitance each port bit drives.
  const V = p.lib.nominalVoltage;
  const f = 1e9 / table.clockNs;
  const load = new Float64Array(net.nets);
  net.leaves.forEach((leaf) => {
    const m = p.lib.cells.get(leaf.type)!;
    for (const [pin, n] of leaf.pins) {
      const c = m.inputs.get(pin);
      if (c) load[n]! += c.capacitance * p.lib.capacitanceUnitF;
    }
  });
  const inputNetsByPort: Record<string, number> = {};
  let inputNetsW = 0;
  if (Number.isFinite(V)) {
    for (const [name, toggles] of act.inputToggles) {
      const port = name.replace(/\[\d+\]$/, '');
      const w = 0.5 * load[net.ports.get(name)!.net]! * V * V * f * (toggles / cycles);
      inputNetsByPort[port] = (inputNetsByPort[port] ?? 0) + w;
      inputNetsW += w;
    }
  } else warnings.push('the liberty has no nom_voltage: input-net power not computed');
  const staTotal = table.uniform.totalW;
  const relError = Math.abs(uniformModel - staTotal) / staTotal;
  if (relError > 1e-4)
    warnings.push(
      `self-check: the per-instance model at activity ${table.uniformActivity} gives ${uniformModel} W, OpenSTA's uniform report ${staTotal} W (${(relError * 100).toFixed(3)}%)`,
    );
  const strip = ({ cells, activity, ...rest }: ReturnType<typeof parts>) => ({ ...rest, cells, activity });
  return {
    power: {
      totalW: total.totalW,
      internalW: total.internalW,
      switchingW: total.switchingW,
      leakageW: total.leakageW,
      idleW: idle,
      inputNetsW,
      inputNetsByPort,
      byRole: Object.fromEntries(Object.entries(byRole).map(([k, v]) => [k, strip(v)])),
      byModule: Object.fromEntries(
        Object.entries(byModule).map(([k, v]) => [k, { ...strip(v), role: v.role }]),
      ),
    },
    selfCheck: { activity: table.uniformActivity, staTotalW: staTotal, modelTotalW: uniformModel, relError },
    warnings,
    mean: slotsSeen ? toggleSum / slotsSeen / cycles : 0,
  };
}

async function powerOne(
  cfg: ResolvedDpu,
  opts: PowerOptions,
  progress: (m: string) => void,
): Promise<PowerReport> {
  const clockPeriodNs = opts.clockPeriodNs ?? 10;
  const cycles = opts.cycles ?? DEFAULT_CYCLES;
  const seed = opts.seed ?? DEFAULT_POWER_SEED;
  const t0 = performance.now();
  const p = await prepare(cfg, opts, progress);
  const synthSeconds = (performance.now() - t0) / 1000;
  const env = await flowEnv({ liberty: opts.liberty, yosys: opts.yosys, cacheDir: opts.cacheDir });
  const run = p.synth.runs[0]!;
  const tableP = powerTable({
    synthDir: run.dir,
    synthKey: run.dir.split('/').pop()!,
    top: run.top,
    sta: env.sta,
    liberty: env.liberty,
    clockPeriodNs,
    cacheDir: env.cacheDir,
    useCache: opts.cache ?? true,
    onProgress: progress,
  });
  const weights = opts.weights ?? { path: DEFAULT_MODEL, layer: DEFAULT_LAYER };
  const stim = await peStimulus(cfg, weights, opts.acts ?? 'relu', cycles, seed);
  const stim0 = () => peStimulus(cfg, weights, opts.acts ?? 'relu', opts.timedCycles ?? 0, seed);
  progress(
    `power: ${run.top}: ${cycles} cycles zero-delay on ${p.net.leaves.length} cells (${stim.describe})`,
  );
  const act = runActivity(cfg, p.net, p.sim, stim);
  if (act.mismatchCount > 0) {
    const m = act.mismatches[0]!;
    throw new PowerCheckError(
      `power: the gate-level netlist of ${run.top} disagrees with the golden model on ${act.mismatchCount} of ${act.tiles} tiles ` +
        `(first: tile ${m.tile}, cycle ${m.cycle}: expected ${m.expected}, got ${m.actual}); no power reported`,
      act.mismatches,
    );
  }
  if (act.tiles === 0)
    throw new UserError(`power: the stimulus of ${run.top} completed no tile; use more --cycles`);
  const table = await tableP;
  const m = model(p, table, act);
  const timed = opts.timedCycles
    ? await timedPower(p, table, env, stim0(), opts.timedCycles, progress, opts)
    : undefined;
  return {
    schema: 'strumgen.power/1',
    design: {
      name: cfg.name,
      configHash: cfg.hash,
      top: run.top,
      pe: cfg.pe,
      lanes: { full: cfg.derived.highLanes, low: cfg.derived.lowLanes },
      pipeline: cfg.pipeline,
    },
    activity: {
      source: 'zero-delay',
      simulator: 'strumgen levelised gate simulator (src/power/gatesim.ts), cell functions from the liberty',
      stimulus: stim.describe,
      seed,
      cycles: act.cycles,
      resetCycles: act.resetCycles,
      tilesChecked: act.tiles,
      mismatches: act.mismatchCount,
      meanToggleRate: m.mean,
      simulateSeconds: act.seconds,
    },
    clock: { periodNs: clockPeriodNs, mhz: 1000 / clockPeriodNs },
    power: m.power,
    selfCheck: m.selfCheck,
    area: { total: p.synth.area.total, fmaxMhz: p.synth.timing.fmaxMhz },
    tools: {
      opensta: env.sta.version,
      yosys: `${p.synth.tools.yosys.version} (${p.synth.tools.yosys.impl})`,
      liberty: { name: env.liberty.name, sha256: env.liberty.sha256, path: env.liberty.path },
      synthDir: run.dir,
      powerDir: table.dir,
      staScript: table.script,
    },
    seconds: { synth: synthSeconds, sta: table.seconds, simulate: act.seconds },
    ...(timed ? { timed } : {}),
    warnings: [...m.warnings, ...p.synth.warnings],
  };
}

async function timedPower(
  p: Prepared,
  table: PowerTable,
  env: Awaited<ReturnType<typeof flowEnv>>,
  stimP: ReturnType<typeof peStimulus>,
  cycles: number,
  progress: (m: string) => void,
  opts: PowerOptions,
): Promise<NonNullable<PowerReport['timed']>> {
  const t0 = performance.now();
  const run = p.synth.runs[0]!;
  // A fresh zero-delay run of the same stimulus, recorded: its vectors drive Icarus and its
  // golden-checked results are what the timed run must show at the end of every cycle.
  const sim = compileGateSim(p.net, p.lib, p.net.ports.get('clk')!.net);
  const act = runActivity(p.cfg, p.net, sim, await stimP, { record: true });
  if (act.mismatchCount > 0)
    throw new PowerCheckError(
      'power --timed: zero-delay reference run failed the golden check',
      act.mismatches,
    );
  const trace = act.trace!;
  // Icarus needs a clock slower than the worst path (plus the flip-flops' clock-to-Q).
  const clockNs = Math.max(table.clockNs, Math.ceil(p.synth.timing.criticalPathNs * 1.25 + 1));
  const work = mkdtempSync(join(env.cacheDir, 'timed-'));
  try {
    const netlist = join(run.dir, 'netlist.sta.v');
    const sdf = await writeSdf({
      dir: work,
      netlist,
      top: run.top,
      sta: env.sta,
      liberty: env.liberty,
      periodNs: clockNs,
    });
    const cells = join(work, 'cells.v');
    writeFileSync(
      cells,
      timedCellModels(
        p.lib,
        p.net.leaves.map((l) => l.type),
      ),
    );
    const key = (k: number) => `${p.net.leaves[sim.slots[k]!.leaf]!.path}/${sim.slots[k]!.pin}`;
    progress(`power: ${run.top}: ${cycles} cycles in Icarus with SDF delays (slow) ...`);
    const accBits = p.cfg.accumulator.bits;
    const ica = await icarusToggles({
      dir: work,
      netlist,
      cells,
      top: run.top,
      clock: 'clk',
      inputBits: trace.inputs,
      vectors: trace.vectors,
      from: act.resetCycles,
      outputs: new Set(sim.slots.map((_, k) => key(k))),
      periodNs: clockNs,
      sdf,
      sampleBits: Array.from({ length: accBits }, (_, i) => `result[${i}]`),
      onProgress: progress,
    });
    let checked = 0;
    for (let c = act.resetCycles; c < trace.results.length; c++) {
      const hex = ica.samples[c];
      const want = trace.results[c]!;
      const got = hex === undefined || /[xz]/i.test(hex) ? Number.NaN : Number.parseInt(hex, 16);
      const wrapped = got >= 2 ** (accBits - 1) ? got - 2 ** accBits : got;
      if (wrapped !== want)
        throw new PowerCheckError(
          `power --timed: the SDF-annotated simulation of ${run.top} shows ${hex} in cycle ${c}, the golden-checked zero-delay run ${want} (clock ${clockNs} ns too fast?)`,
          [],
        );
      checked++;
    }
    const toggles = Float64Array.from(sim.slots, (_, k) => ica.toggles.get(key(k)) ?? Number.NaN);
    if (toggles.some((x) => Number.isNaN(x)))
      throw new Error('power --timed: the VCD misses cell output pins');
    const timed = model(p, table, act, toggles);
    const zero = model(p, table, act, sim.toggles);
    return {
      cycles: act.cycles,
      power: timed.power,
      zeroDelayTotalW: zero.power.totalW,
      meanToggleRate: timed.mean,
      resultsChecked: checked,
      clockNs,
      vcdBytes: ica.vcdBytes,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    if (!opts.keepTimedFiles) rmSync(work, { recursive: true, force: true });
  }
}

/** Power of a config's PE from simulated activity; with `baseline`, the INT8 PE's too and the change. */
export async function runPower(cfg: ResolvedDpu, opts: PowerOptions = {}): Promise<PowerReport> {
  const progress = opts.onProgress ?? (() => {});
  if (cfg.pe.routeDecode === 'column')
    throw new UserError(
      "power: pe.routeDecode 'column' is not supported (the PE gets its router selects from outside)",
    );
  const report = await powerOne(cfg, opts, progress);
  if (!opts.baseline) return report;
  const base = baselineConfig(cfg);
  progress(`power: baseline ${base.name} (INT8, B=${base.pe.block}) with the same stimulus`);
  const baseline = await powerOne(base, { ...opts, rtl: undefined, bundle: opts.baselineBundle }, progress);
  return withPowerComparison(report, baseline);
}

export function withPowerComparison(report: PowerReport, baseline: PowerReport): PowerReport {
  const roles = new Set([...Object.keys(report.power.byRole), ...Object.keys(baseline.power.byRole)]);
  const roleDeltaW: Record<string, number> = {};
  for (const r of roles)
    roleDeltaW[r] = (report.power.byRole[r]?.totalW ?? 0) - (baseline.power.byRole[r]?.totalW ?? 0);
  return {
    ...report,
    comparison: {
      powerChangePct: pct(report.power.totalW, baseline.power.totalW),
      ...(report.timed && baseline.timed
        ? { timedPowerChangePct: pct(report.timed.power.totalW, baseline.timed.power.totalW) }
        : {}),
      uniformChangePct: pct(report.selfCheck.staTotalW, baseline.selfCheck.staTotalW),
      areaChangePct: pct(report.area.total, baseline.area.total),
      roleDeltaW,
      baseline,
    },
  };
}
