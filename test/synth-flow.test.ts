// The synthesis flow with the real tools on tiny designs (B = 2): a StruM PE against its
// INT8 baseline, the cache, the system Yosys, the array target, the report files, and
// every failure path (Yosys error, OpenSTA error, time limit, bad input, missing tool).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.ts';
import type { ResolvedDpu } from '../src/config/resolve.ts';
import { OSU018_LIBERTY } from '../src/config/toolchain.ts';
import { renderSynthMarkdown, writeSynthReport } from '../src/report/synth.ts';
import { renderRtl } from '../src/rtl/index.ts';
import type { RtlBundle } from '../src/rtl/types.ts';
import { flowEnv, runSynth, type SynthReport, synthesizeBundle, ToolError } from '../src/synth/index.ts';
import { tempDirs } from './temp-dirs.ts';
// The toy format of the tests (pe.low 'ternary', test/fixtures/formats).
import './fixtures/formats/ternary.ts';

const cacheDir = mkdtempSync(join(tmpdir(), 'strumgen-synth-cache-'));
const progress: string[] = [];
const opts = { cacheDir, onProgress: (m: string) => progress.push(m) };
let cfg: ResolvedDpu;
let report: SynthReport;

const caught = async (p: Promise<unknown>): Promise<Error> => {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a failure');
};

beforeAll(async () => {
  cfg = await loadConfig('strum-mip2q', { 'pe.block': 2, 'array.rows': 2, 'array.cols': 2 });
  report = await runSynth(cfg, { ...opts, baseline: true });
}, 240_000);

const tempDir = tempDirs(cacheDir);

describe('a B=2 MIP2Q PE against its INT8 baseline (yowasp Yosys, Booth)', () => {
  it('area: liberty total equals Yosys, split by role and module as the RTL declares them', () => {
    const a = report.area;
    expect(a.basis).toBe('hier');
    expect(a.total).toBe(a.yosysTotal);
    expect(a.total).toBeGreaterThan(0);
    expect(a.combinational + a.sequential).toBeCloseTo(a.total, 6);
    expect(a.perMac).toBeCloseTo(a.total / 2, 6);
    const bundle = renderRtl(cfg);
    for (const m of bundle.modules.filter((x) => x.role !== 'array')) {
      expect(a.modules.find((x) => x.module === m.name)?.role).toBe(m.role);
    }
    for (const role of ['lane', 'route', 'adder_tree', 'accumulator'])
      expect(a.byRole[role]).toBeGreaterThan(0);
    expect(Object.values(a.byRole).reduce((x, y) => x + y, 0)).toBeCloseTo(a.total, 6);
    expect(Object.values(a.cells).reduce((s, c) => s + c.count, 0)).toBe(a.cellCount);
  });

  it('timing: fmax from the worst path, with its ends', () => {
    const t = report.timing;
    expect(t.criticalPathNs).toBeCloseTo(t.clockPeriodNs - t.slackNs, 9);
    expect(t.fmaxMhz).toBeCloseTo(1000 / t.criticalPathNs, 9);
    expect(t.startpoint).toMatch(/\S/);
    expect(t.endpoint).toMatch(/\S/);
    expect(t.stages).toBeGreaterThan(3);
    expect(report.power?.totalW).toBeGreaterThan(0);
  });

  it('comparison against the INT8 baseline from the same flow', () => {
    const c = report.comparison!;
    const b = c.baseline;
    expect(b.design.name).toBe('int8_base');
    expect(b.design.pe).toMatchObject({ block: 2, high: 2, low: 'none', mode: 'static' });
    expect(b.area.byRole.route ?? 0).toBe(0);
    expect(c.areaChangePct).toBeCloseTo((100 * (report.area.total - b.area.total)) / b.area.total, 9);
    expect(c.fmaxChangePct).toBeCloseTo(
      (100 * (report.timing.fmaxMhz - b.timing.fmaxMhz)) / b.timing.fmaxMhz,
      9,
    );
    expect(c.roleDelta.route).toBe(report.area.byRole.route);
    expect(b.tools.yosys).toEqual(report.tools.yosys);
    expect(b.tools.liberty).toEqual(report.tools.liberty);
    expect(b.tools.flags).toEqual(report.tools.flags);
  });

  it('states the tools: Yosys version and flags, liberty path and sha256', () => {
    const tl = report.tools;
    expect(tl.yosys.impl).toBe('yowasp');
    expect(tl.yosys.version).toMatch(/^Yosys 0\.\d+/);
    expect(tl.yosys.booth).toBe(true);
    expect(tl.flags).toContain('booth=true');
    expect(tl.scripts.hier?.yosys).toMatch(/-booth/);
    expect(tl.opensta.version).toMatch(/\d+\.\d+/);
    expect(tl.liberty.path).toBe(OSU018_LIBERTY);
    expect(tl.liberty.sha256).toBe(createHash('sha256').update(readFileSync(OSU018_LIBERTY)).digest('hex'));
    expect(progress.some((m) => m.includes('Yosys done'))).toBe(true);
  });

  it('a second run is served from the cache with identical results', async () => {
    expect(report.runs.every((r) => !r.cached)).toBe(true);
    const again = await runSynth(cfg, { ...opts, baseline: true });
    expect(again.runs.every((r) => r.cached)).toBe(true);
    expect(again.comparison!.baseline.runs.every((r) => r.cached)).toBe(true);
    expect(again.area).toEqual(report.area);
    expect(again.timing).toEqual(report.timing);
  });

  it('a design named like the baseline keeps its own netlist in the report (not the baseline’s)', async () => {
    // Same top name for the design and the baseline: int8_base_pe.
    const clash = {
      ...report,
      runs: report.runs.map((r) => ({ ...r, top: 'int8_base_pe' })),
    } as SynthReport;
    const dir = await writeSynthReport(clash, join(tempDir('strumgen-synth-clash-'), 'out'));
    const design = readFileSync(join(dir, 'runs', 'int8_base_pe-hier', 'netlist.v'), 'utf8');
    const base = readFileSync(join(dir, 'runs', 'baseline', 'int8_base_pe-hier', 'netlist.v'), 'utf8');
    expect(design).toBe(readFileSync(join(report.runs[0]!.dir, 'netlist.v'), 'utf8'));
    expect(base).toBe(readFileSync(join(report.comparison!.baseline.runs[0]!.dir, 'netlist.v'), 'utf8'));
    expect(design).not.toBe(base);
  });

  it('a PE run’s cache key does not depend on the array size: another size is all cached', async () => {
    const other = await loadConfig('strum-mip2q', { 'pe.block': 2, 'array.rows': 3, 'array.cols': 5 });
    const again = await runSynth(other, { ...opts, baseline: true });
    expect(again.runs.map((r) => r.cached)).toEqual([true]);
    expect(again.comparison!.baseline.runs.map((r) => r.cached)).toEqual([true]);
    expect(again.area.total).toBe(report.area.total);
  });

  it('writes synth.json, synth.md and each run’s logs; refuses a foreign directory', async () => {
    const parent = tempDir('strumgen-synth-out-');
    const dir = await writeSynthReport(report, join(parent, 'out'));
    const json = JSON.parse(readFileSync(join(dir, 'synth.json'), 'utf8')) as SynthReport;
    expect(json.comparison?.areaChangePct).toBe(report.comparison?.areaChangePct);
    expect(json.comparison?.fmaxChangePct).toBe(report.comparison?.fmaxChangePct);
    const md = readFileSync(join(dir, 'synth.md'), 'utf8');
    expect(md).toBe(renderSynthMarkdown(report));
    expect(md).toContain('INT8 baseline (int8_base)');
    expect(md).toContain(report.tools.liberty.sha256);
    expect(readdirSync(join(dir, 'runs')).sort()).toEqual(['baseline', 'strum_mip2q_pe-hier']);
    expect(readdirSync(join(dir, 'runs', 'baseline'))).toEqual(['int8_base_pe-hier']);
    expect(readFileSync(join(dir, 'runs', 'strum_mip2q_pe-hier', 'yosys.log'), 'utf8')).toMatch(
      /End of script/,
    );
    // Rewriting replaces it; a directory that is not a synth output is left alone.
    await writeSynthReport(report, dir);
    expect(readdirSync(parent)).toEqual(['out']);
    mkdirSync(join(parent, 'mine'));
    writeFileSync(join(parent, 'mine', 'notes.txt'), 'keep');
    await expect(writeSynthReport(report, join(parent, 'mine'))).rejects.toThrow(
      /not a strumgen synth output/,
    );
  });
});

describe('other flows', () => {
  it('system Yosys (Debian 0.23): no Booth pass, same report shape', async () => {
    const r = await runSynth(cfg, { ...opts, yosys: 'system' });
    expect(r.tools.yosys.impl).toBe('system');
    expect(r.tools.yosys.booth).toBe(false);
    expect(r.tools.scripts.hier?.yosys).not.toMatch(/-booth/);
    expect(r.area.total).toBe(r.area.yosysTotal);
    expect(r.area.byRole.lane).toBeGreaterThan(0);
  }, 120_000);

  it('the test-only toy format (ternary) synthesizes like a real one: its lanes under role lane', async () => {
    const toy = await loadConfig('strum-mip2q', {
      'pe.block': 4,
      'pe.low': 'ternary',
      'array.rows': 1,
      'array.cols': 1,
    });
    const r = await runSynth(toy, opts);
    expect(r.area.modules.map((m) => m.module)).toContain('strum_lane_ternary');
    expect(r.area.byRole.lane).toBeGreaterThan(0);
    expect(r.area.total).toBe(r.area.yosysTotal);
    expect(r.timing.fmaxMhz).toBeGreaterThan(0);
    expect(r.warnings).toEqual([]);
  }, 120_000);

  it('array target: the PE synthesized once, instantiated rows x cols times', async () => {
    const r = await runSynth(cfg, { ...opts, target: 'array' });
    const pe = r.area.modules.find((m) => m.module === 'strum_mip2q_pe')!;
    expect(pe.instances).toBe(4);
    expect(r.area.byRole.pe).toBeCloseTo(4 * pe.area, 6);
    expect(r.area.total).toBe(r.area.yosysTotal);
    expect(r.design.macsPerCycle).toBe(8);
    expect(r.timing.fmaxMhz).toBeGreaterThan(0);
    expect(r.warnings).toEqual([]);
  }, 120_000);
});

describe('failures', () => {
  const bundleOf = (top: string, text: string): RtlBundle => ({
    top,
    pe: top,
    modules: [{ name: top, role: 'pe' }],
    files: [{ name: `${top}.v`, content: text }],
  });

  it('Yosys failing: exit 4, the tail of its log, kept where the message says, nothing cached', async () => {
    const env = await flowEnv(opts);
    const bad = bundleOf('bad_pe', 'module bad_pe(input clk, output y);\n  assign y = ;\nendmodule\n');
    const e = await caught(synthesizeBundle(cfg, bad, env, ['hier']));
    expect(e).toBeInstanceOf(ToolError);
    expect((e as ToolError).exitCode).toBe(4);
    expect(e.message).toMatch(
      /^Yosys \(yowasp\) on bad_pe \(hier\) failed \(exit 1\); last lines of .*failed.*yosys\.log:\n/,
    );
    expect(e.message).toMatch(/ERROR: .*syntax error/);
    expect(existsSync((e as ToolError).logFile)).toBe(true);
    const entries = readdirSync(join(cacheDir, 'synth')).filter((n) => n.startsWith('work-'));
    expect(entries).toEqual([]);
  });

  it('OpenSTA failing (no clock port): exit 4 with its log', async () => {
    const env = await flowEnv(opts);
    const noClock = bundleOf(
      'nc_pe',
      'module nc_pe(input [3:0] a, b, output [7:0] y);\n  assign y = a * b;\nendmodule\n',
    );
    const e = await caught(synthesizeBundle(cfg, noClock, env, ['hier']));
    expect(e).toBeInstanceOf(ToolError);
    expect(e.message).toMatch(
      /^OpenSTA on nc_pe \(hier\) reported an error: Warning: .*port 'clk' not found\.; last lines of .*sta\.log:\n/,
    );
  });

  it('a step past its time limit is stopped with a clear message', async () => {
    const big = await loadConfig('strum-mip2q', { 'pe.block': 16 });
    const e = await caught(runSynth(big, { ...opts, yosysTimeoutSeconds: 1, cache: false }));
    expect(e).toBeInstanceOf(ToolError);
    expect(e.message).toMatch(
      /^Yosys \(yowasp\) on strum_mip2q_pe \(hier\) ran past its time limit of 1 s and was stopped/,
    );
  });
});

describe('strumgen synth (CLI)', () => {
  const cli = (args: string[], env: Record<string, string> = {}) =>
    execa('node', ['bin/strumgen.js', 'synth', 'strum-mip2q', '--rows', '2', '--cols', '2', ...args], {
      reject: false,
      env: { STRUMGEN_CACHE: cacheDir, ...env },
    });
  const out = tempDir('strumgen-synth-cli-');

  it('--baseline --json: the comparison fields, files written (from the cache)', async () => {
    const r = await cli(['--block', '2', '--baseline', '--json', '--out', join(out, 'ok')]);
    expect(r.exitCode).toBe(0);
    const j = JSON.parse(r.stdout) as SynthReport;
    expect(j.comparison?.areaChangePct).toBe(report.comparison?.areaChangePct);
    expect(j.comparison?.fmaxChangePct).toBe(report.comparison?.fmaxChangePct);
    expect(existsSync(join(out, 'ok', 'synth.md'))).toBe(true);
    expect(r.stderr).toMatch(/cached result/);
  });

  it('bad input and missing tools: one-line messages, exit 2 or 3, no report', async () => {
    const cases: [string[], Record<string, string>, number, RegExp][] = [
      [
        ['--liberty', '/nonexistent/x.lib'],
        {},
        2,
        /^--liberty \/nonexistent\/x\.lib: cannot read \(no such file\)$/,
      ],
      [
        [],
        { STRUMGEN_YOSYS_IMPL: 'magic' },
        2,
        /^STRUMGEN_YOSYS_IMPL: 'magic' is not one of yowasp, system$/,
      ],
      [['--timeout', '-1'], {}, 2, /^--timeout: must be a positive number$/],
      [
        ['--yosys', 'system'],
        { STRUMGEN_YOSYS: '/nonexistent/yosys' },
        3,
        /^Yosys \(system\) is needed .*does not exist/,
      ],
      [[], { STRUMGEN_STA: '/nonexistent/sta' }, 3, /^OpenSTA is needed .*does not exist/],
    ];
    for (const [args, env, code, message] of cases) {
      const dir = join(out, `bad-${code}-${args.length}`);
      const r = await cli(['--block', '2', ...args, '--out', dir], env);
      expect(r.exitCode, r.stderr).toBe(code);
      expect(r.stderr.trim()).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(dir)).toBe(false);
    }
  });

  it('a time limit hit: exit 4, no report written', async () => {
    const dir = join(out, 'slow');
    const r = await cli(['--block', '16', '--timeout', '1', '--no-cache', '--out', dir]);
    expect(r.exitCode).toBe(4);
    expect(r.stderr).toMatch(/ran past its time limit of 1 s/);
    expect(existsSync(dir)).toBe(false);
  });
});
