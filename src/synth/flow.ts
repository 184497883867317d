// One synthesis run of one design: Yosys (script per kind) onto the liberty, OpenSTA on
// the mapped netlist, results parsed; cached by content. runSynth (index.ts) composes these.

import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../config/errors.ts';
import { requireTool } from '../config/toolchain.ts';
import { fsStep, makeDirs } from '../io/fs-errors.ts';
import { registerTemp, removeTemp } from '../io/process.ts';
import { run } from '../io/run.ts';
import { cacheCommit, cacheKey, cacheLookup, MANIFEST, sha256 } from './cache.ts';
import { LIBERTY_FILE, type Liberty } from './liberty.ts';
import { cleanNetlistForSta } from './netlist.ts';
import { runStep, ToolError } from './run.ts';
import { NETLIST, STAT_JSON, STAT_TEXT, type SynthKind, staScript, yosysScript } from './scripts.ts';
import { type CriticalPath, type PowerReport, parseCriticalPath, parsePower } from './sta.ts';
import { type AreaBreakdown, areaBreakdown, parseStatChipArea, parseStatJson, type Role } from './stat.ts';
import { TSX_IMPORT, type YosysTool, yosysCommand } from './yosys.ts';

/** Bumped when the flow changes in a way the scripts do not show (parsing, netlist cleaning). */
export const FLOW_VERSION = 1;

export interface StaTool {
  readonly version: string;
  readonly path: string;
}

let staProbe: Promise<StaTool> | null = null;

/** OpenSTA on PATH (or STRUMGEN_STA), identified once per process. */
export function staTool(): Promise<StaTool> {
  staProbe ??= (async () => {
    const path = requireTool('opensta');
    const r = await run(path, ['-version'], { timeoutMs: 20_000, stdin: 'ignore' });
    const version = `${r.stdout}`.trim().split('\n')[0]?.trim();
    if (r.exitCode !== 0 || !version)
      throw new UserError(`OpenSTA at ${path} does not run (sta -version)`, 3);
    return { version, path };
  })();
  staProbe.catch(() => {
    staProbe = null;
  });
  return staProbe;
}

export interface FlowEnv {
  readonly yosys: YosysTool;
  readonly sta: StaTool;
  readonly liberty: Liberty;
  /** `synth -booth` (only when the Yosys has it). */
  readonly booth: boolean;
  readonly cacheDir: string;
  /** false: run again even when the cache has the result (the new result replaces it). */
  readonly useCache: boolean;
  readonly yosysTimeoutSeconds: number;
  readonly staTimeoutSeconds: number;
  readonly clockPeriodNs: number;
  readonly activity: number;
  readonly onProgress: (msg: string) => void;
}

export interface DesignInput {
  readonly kind: SynthKind;
  readonly top: string;
  /** Module kept whole in an 'array' run (the PE). */
  readonly keep?: string;
  readonly files: readonly { readonly name: string; readonly content: string }[];
  readonly clockPort: string;
  /** Role of each RTL module (by name); others count as 'other'. */
  readonly roles: ReadonlyMap<string, Role>;
}

export interface DesignTiming extends CriticalPath {
  readonly clockPeriodNs: number;
  /** The shortest clock period the worst path allows: period - slack (setup time included). */
  readonly criticalPathNs: number;
  readonly fmaxMhz: number;
}

export interface DesignResult {
  readonly kind: SynthKind;
  readonly top: string;
  readonly area: AreaBreakdown;
  /** Yosys's own `stat -liberty` total, a cross-check of `area.total`. */
  readonly yosysArea: number | null;
  readonly timing: DesignTiming;
  readonly power: PowerReport | null;
  readonly yosysScript: string;
  readonly staScript: string;
  /** Cache entry holding the scripts, logs, statistics and netlist of this run. */
  readonly dir: string;
  readonly key: string;
  readonly cached: boolean;
  /** Wall time of the tools when the run happened (not of the cache read). */
  readonly yosysSeconds: number;
  readonly staSeconds: number;
}

const SAFE_FILE = /^[A-Za-z0-9_][A-Za-z0-9_.-]*\.s?v$/;

export async function runDesign(d: DesignInput, env: FlowEnv): Promise<DesignResult> {
  for (const f of d.files) {
    if (!SAFE_FILE.test(f.name) || f.name === NETLIST)
      throw new Error(`RTL file name '${f.name}' is not safe`);
  }
  const ys = yosysScript({
    kind: d.kind,
    top: d.top,
    files: d.files.map((f) => f.name),
    booth: env.booth,
    keep: d.keep,
  });
  const tcl = staScript({
    top: d.top,
    netlist: 'netlist.sta.v',
    clockPort: d.clockPort,
    periodNs: env.clockPeriodNs,
    activity: env.activity,
  });
  const manifest = {
    flow: FLOW_VERSION,
    kind: d.kind,
    top: d.top,
    // Whole-line comments (the generator's header names the config hash) do not change a netlist.
    files: d.files.map((f) => [f.name, sha256(f.content.replace(/^[ \t]*\/\/.*$/gm, ''))]),
    yosys: { impl: env.yosys.impl, version: env.yosys.version },
    yosysScript: ys,
    liberty: { name: env.liberty.name, sha256: env.liberty.sha256 },
    sta: { version: env.sta.version, script: tcl },
  };
  const { text: manifestText, key } = cacheKey(manifest);
  const synthDir = join(env.cacheDir, 'synth');
  const dir = join(synthDir, key);
  const needed = [STAT_JSON, STAT_TEXT, 'times.json', 'sta.log'];
  const label = `${d.top} (${d.kind})`;
  let cached = false;
  if (env.useCache && cacheLookup(dir, manifestText, needed)) {
    cached = true;
    env.onProgress(`synth: ${label}: cached result (${dir})`);
  } else {
    const work = registerTemp(join(synthDir, `work-${key.slice(0, 16)}-${process.pid}-${Date.now()}`));
    fsStep('create directory', work, () => makeDirs(work));
    try {
      await execute(d, env, work, ys, tcl, label);
      writeFileSync(join(work, MANIFEST), manifestText);
      rmSync(join(work, LIBERTY_FILE), { force: true });
      cacheCommit(work, dir);
    } catch (e) {
      rmSync(join(work, LIBERTY_FILE), { force: true });
      if (e instanceof ToolError) {
        // Keep the logs of the last failure of this design where the message says.
        const failed = join(synthDir, 'failed', key.slice(0, 16));
        cacheCommit(work, failed);
        throw new ToolError(e.message.replaceAll(work, failed), e.logFile.replace(work, failed));
      }
      throw e;
    } finally {
      removeTemp(work);
    }
  }
  try {
    return { ...parseRun(d, env, dir, ys, tcl), dir, key, cached };
  } catch (e) {
    const hint = cached ? '; run again with --no-cache' : '';
    throw new ToolError(
      `reading the results of ${label}: ${(e as Error).message} (files in ${dir})${hint}`,
      dir,
    );
  }
}

async function execute(
  d: DesignInput,
  env: FlowEnv,
  work: string,
  ys: string,
  tcl: string,
  label: string,
): Promise<void> {
  for (const f of d.files) writeFileSync(join(work, f.name), f.content);
  writeFileSync(join(work, LIBERTY_FILE), env.liberty.text);
  writeFileSync(join(work, 'synth.ys'), ys);
  const cmd = yosysCommand(env.yosys.impl);
  env.onProgress(`synth: ${label}: Yosys (${env.yosys.impl}) ...`);
  const yosysSeconds = await runStep({
    label: `Yosys (${env.yosys.impl}) on ${label}`,
    command: cmd.command,
    args: [...cmd.args, '-s', 'synth.ys'],
    cwd: work,
    log: 'yosys.log',
    timeoutSeconds: env.yosysTimeoutSeconds,
    node: cmd.node,
    nodeOptions: TSX_IMPORT,
    onProgress: env.onProgress,
  });
  env.onProgress(`synth: ${label}: Yosys done in ${yosysSeconds.toFixed(1)} s`);
  for (const f of [STAT_JSON, STAT_TEXT, NETLIST]) {
    if (!existsSync(join(work, f))) {
      throw new ToolError(
        `Yosys on ${label} wrote no ${f}; see ${join(work, 'yosys.log')}`,
        join(work, 'yosys.log'),
      );
    }
  }
  const net = cleanNetlistForSta(readFileSync(join(work, NETLIST), 'utf8'));
  writeFileSync(join(work, 'netlist.sta.v'), net.text);
  writeFileSync(join(work, 'sta.tcl'), tcl);
  env.onProgress(`synth: ${label}: OpenSTA ...`);
  const staLog = join(work, 'sta.log');
  const staSeconds = await runStep({
    label: `OpenSTA on ${label}`,
    command: env.sta.path,
    args: ['-no_splash', '-exit', 'sta.tcl'],
    cwd: work,
    log: 'sta.log',
    timeoutSeconds: env.staTimeoutSeconds,
    // OpenSTA reports script errors (and a missing clock port only as a warning) and exits 0.
    failurePattern: new RegExp(`^Error:|^Warning: .*port '${d.clockPort}' not found`, 'm'),
    onProgress: env.onProgress,
  });
  try {
    parseCriticalPath(readFileSync(staLog, 'utf8'));
  } catch (e) {
    throw new ToolError(`OpenSTA on ${label}: ${(e as Error).message}; see ${staLog}`, staLog);
  }
  writeFileSync(join(work, 'times.json'), `${JSON.stringify({ yosysSeconds, staSeconds })}\n`);
}

function parseRun(
  d: DesignInput,
  env: FlowEnv,
  dir: string,
  ys: string,
  tcl: string,
): Omit<DesignResult, 'dir' | 'key' | 'cached'> {
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  const stat = parseStatJson(read(STAT_JSON));
  const area = areaBreakdown(stat, env.liberty, d.top, (m) => d.roles.get(m));
  const times = JSON.parse(read('times.json')) as { yosysSeconds: number; staSeconds: number };
  const sta = read('sta.log');
  const path = parseCriticalPath(sta);
  const criticalPathNs = env.clockPeriodNs - path.slackNs;
  const timing = {
    ...path,
    clockPeriodNs: env.clockPeriodNs,
    criticalPathNs,
    fmaxMhz: 1000 / criticalPathNs,
  };
  return {
    kind: d.kind,
    top: d.top,
    area,
    yosysArea: parseStatChipArea(read(STAT_TEXT)),
    timing,
    power: parsePower(sta),
    yosysScript: ys,
    staScript: tcl,
    yosysSeconds: times.yosysSeconds,
    staSeconds: times.staSeconds,
  };
}
