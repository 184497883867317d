// The synthesis parsers on real tool output captured in test/fixtures/synth/ (Yosys 0.23 and
// 0.55 `stat`, OpenSTA 2.0.17 reports, a real netlist excerpt), plus liberty loading errors.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { UserError } from '../src/config/errors.ts';
import { configOf, resolveConfig } from '../src/config/resolve.ts';
import { OSU018_LIBERTY } from '../src/config/toolchain.ts';
import { fmtPct } from '../src/report/synth.ts';
import { baselineConfig } from '../src/synth/baseline.ts';
import { cacheKey, cacheLookup, MANIFEST } from '../src/synth/cache.ts';
import { type SynthReport, withComparison } from '../src/synth/index.ts';
import { LIBERTY_FILE, loadLiberty, parseLiberty } from '../src/synth/liberty.ts';
import { baseModuleName, cleanNetlistForSta } from '../src/synth/netlist.ts';
import { staScript, yosysScript } from '../src/synth/scripts.ts';
import { parseCriticalPath, parsePower } from '../src/synth/sta.ts';
import { areaBreakdown, parseStatChipArea, parseStatJson } from '../src/synth/stat.ts';
import { yosysImplOf } from '../src/synth/yosys.ts';
import { tempDirs } from './temp-dirs.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/synth/${name}`, import.meta.url), 'utf8');
const osu = loadLiberty(OSU018_LIBERTY);
const tempDir = tempDirs();
const FX_ROLES = new Map([
  ['fx_pe', 'pe'],
  ['fx_lane_full', 'lane'],
  ['fx_lane_low', 'lane'],
  ['fx_route', 'route'],
  ['fx_adder_tree', 'adder_tree'],
  ['fx_acc', 'accumulator'],
]);

describe('liberty', () => {
  it('reads the osu018 cells with their areas and storage kind', () => {
    expect(osu.name).toBe('osu018_stdcells');
    expect(osu.cells.size).toBe(32);
    expect(osu.cells.get('DFFPOSX1')).toEqual({ area: 96, sequential: true });
    expect(osu.cells.get('LATCH')?.sequential).toBe(true);
    expect(osu.cells.get('NAND2X1')).toEqual({ area: 24, sequential: false });
    expect(osu.sha256).toBe(createHash('sha256').update(readFileSync(OSU018_LIBERTY)).digest('hex'));
  });

  it('parses comments, quoted names and nested groups', () => {
    const lib = parseLiberty(`/* c */ library ("tiny") {
      cell ("INV") { area : 2.5 ; pin (A) { direction : input; } /* area : 99; */ }
      cell (FF) { area: 10; ff (IQ, IQN) { next_state : "D"; clocked_on : "CK"; } pin (Q) { area : 7; } }
    }`);
    expect(lib.name).toBe('tiny');
    expect(lib.cells.get('INV')).toEqual({ area: 2.5, sequential: false });
    // A nested group's attribute (the pin's "area") is not the cell's.
    expect(lib.cells.get('FF')).toEqual({ area: 10, sequential: true });
  });

  it('rejects text that is not a library', () => {
    expect(() => parseLiberty('module foo; endmodule')).toThrow(/no library/);
    expect(() => parseLiberty('library (x) { }')).toThrow(/no cell/);
  });

  it('loads a gzipped liberty with the sha256 of the file as stored', () => {
    const dir = tempDir('strumgen-lib-');
    const gz = gzipSync(readFileSync(OSU018_LIBERTY));
    writeFileSync(join(dir, 'cells.lib.gz'), gz);
    const lib = loadLiberty(join(dir, 'cells.lib.gz'));
    expect(lib.gzipped).toBe(true);
    expect(lib.sha256).toBe(createHash('sha256').update(gz).digest('hex'));
    expect(lib.text).toBe(osu.text);
    expect(LIBERTY_FILE).toMatch(/\.lib$/);
  });

  it('names the file and the problem for bad liberty files (exit 2)', () => {
    const dir = tempDir('strumgen-lib-');
    writeFileSync(join(dir, 'x.v'), 'module x; endmodule\n');
    writeFileSync(join(dir, 'bad.gz'), Buffer.from([0x1f, 0x8b, 1, 2, 3]));
    mkdirSync(join(dir, 'd'));
    const cases: [string, RegExp][] = [
      [join(dir, 'missing.lib'), /^--liberty .*missing\.lib: cannot read \(no such file\)$/],
      [join(dir, 'd'), /^--liberty .*d: not a file$/],
      [join(dir, 'x.v'), /^--liberty .*x\.v: not a liberty library \(no library/],
      [join(dir, 'bad.gz'), /^--liberty .*bad\.gz: not a valid gzip file/],
    ];
    for (const [path, message] of cases) {
      let err: unknown;
      try {
        loadLiberty(path);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UserError);
      expect((err as UserError).exitCode).toBe(2);
      expect((err as Error).message).toMatch(message);
    }
  });
});

describe('Yosys stat', () => {
  for (const version of ['0.23', '0.55']) {
    it(`Yosys ${version} hierarchical: area matches Yosys's own total, split by module and role`, () => {
      const stat = parseStatJson(fixture(`yosys-${version}-hier.stat.json`));
      const a = areaBreakdown(stat, osu, 'fx_pe', (m) => FX_ROLES.get(m));
      expect(a.total).toBe(parseStatChipArea(fixture(`yosys-${version}-hier.stat.txt`)));
      const roleSum = Object.values(a.byRole).reduce((x, y) => x + y, 0);
      expect(roleSum).toBeCloseTo(a.total, 6);
      expect(a.combinational + a.sequential).toBeCloseTo(a.total, 6);
      // The fixture's only flip-flops are the 32-bit accumulator.
      expect(a.sequential).toBe(32 * 96);
      expect(a.cells.DFFPOSX1).toEqual({ count: 32, area: 3072, sequential: true });
      const lanes = a.modules.filter((m) => m.role === 'lane');
      expect(lanes.map((m) => [m.module, m.instances]).sort()).toEqual([
        ['fx_lane_full', 2],
        ['fx_lane_low', 2],
      ]);
      expect(a.byRole.lane).toBe(lanes.reduce((s, m) => s + m.area * m.instances, 0));
      expect(a.modules[0]).toMatchObject({ module: 'fx_pe', instances: 1, area: a.total, ownArea: 0 });
    });
  }

  it('Yosys 0.23 with modules three deep: invalid JSON around "modules", which is still read', () => {
    const text = fixture('yosys-0.23-nested.stat.json');
    expect(() => JSON.parse(text)).toThrow();
    const roles = new Map([
      ['strum_dynamic_pe', 'pe'],
      ['strum_dynamic_lane_dyn', 'lane'],
      ['strum_dynamic_lane_full', 'lane'],
      ['strum_dynamic_lane_mip2q', 'lane'],
      ['strum_dynamic_adder_tree', 'adder_tree'],
      ['strum_dynamic_accumulator', 'accumulator'],
    ]);
    const a = areaBreakdown(parseStatJson(text), osu, 'strum_dynamic_pe', (m) => roles.get(m));
    expect(a.total).toBe(parseStatChipArea(fixture('yosys-0.23-nested.stat.txt')));
    const inst = Object.fromEntries(a.modules.map((m) => [m.module, m.instances]));
    expect(inst).toMatchObject({
      strum_dynamic_lane_dyn: 16,
      strum_dynamic_lane_full: 16,
      strum_dynamic_lane_mip2q: 16,
    });
  });

  it('Booth (0.55) makes the INT8 lane smaller than 0.23 does', () => {
    const lane = (v: string) =>
      areaBreakdown(parseStatJson(fixture(`yosys-${v}-hier.stat.json`)), osu, 'fx_pe', (m) =>
        FX_ROLES.get(m),
      ).modules.find((m) => m.module === 'fx_lane_full')!.area;
    expect(lane('0.55')).toBeLessThan(lane('0.23'));
  });

  it('flat: one module, everything in the top role', () => {
    const stat = parseStatJson(fixture('yosys-0.55-flat.stat.json'));
    const a = areaBreakdown(stat, osu, 'fx_pe', (m) => FX_ROLES.get(m));
    expect(a.total).toBe(parseStatChipArea(fixture('yosys-0.55-flat.stat.txt')));
    expect(a.byRole).toEqual({ pe: a.total });
  });

  it('refuses an unmapped cell and an unknown top', () => {
    const stat = parseStatJson(
      JSON.stringify({ modules: { '\\top': { num_cells_by_type: { $_AND_: 3 } } } }),
    );
    expect(() => areaBreakdown(stat, osu, 'top', () => undefined)).toThrow(/\$_AND_ .* not in the liberty/);
    expect(() => areaBreakdown(stat, osu, 'nope', () => undefined)).toThrow(/no module nope/);
    expect(() => parseStatJson('ERROR: no design')).toThrow(/no "modules" object/);
    expect(() => parseStatJson('{ "modules": { "a": { x } } }')).toThrow(/is not JSON/);
  });

  it('base names of parameterised modules', () => {
    expect(baseModuleName('$paramod$619e0914\\fx_lane_low')).toBe('fx_lane_low');
    expect(baseModuleName('\\fx_pe')).toBe('fx_pe');
    expect(baseModuleName('plain')).toBe('plain');
  });
});

describe('OpenSTA reports', () => {
  it('hierarchical report: path ends, delays and power', () => {
    const p = parseCriticalPath(fixture('opensta-2.0.17-hier.log'));
    expect(p).toMatchObject({
      startpoint: 'in_wgt[0]',
      startpointKind: 'input port clocked by clk',
      endpoint: 'u_acc/_621_',
      arrivalNs: 8.1074,
      requiredNs: 9.82,
      slackNs: 1.7126,
    });
    expect(p.stages).toBeGreaterThan(20);
    expect(parsePower(fixture('opensta-2.0.17-hier.log'))).toEqual({
      internalW: 2.50877e-3,
      switchingW: 8.946301e-4,
      leakageW: 1.117826e-7,
      totalW: 3.403512e-3,
    });
  });

  it('flat report (2-digit power format)', () => {
    const p = parseCriticalPath(fixture('opensta-2.0.17-flat.log'));
    expect(p.endpoint).toBe('_3891_');
    expect(p.slackNs).toBe(0.4586);
    expect(parsePower(fixture('opensta-2.0.17-flat.log'))?.totalW).toBeCloseTo(4.200931e-3, 9);
  });

  it('no path or a cut report is an error', () => {
    expect(() => parseCriticalPath('No paths found.\n')).toThrow(/no timing path/);
    const cut = fixture('opensta-2.0.17-hier.log')
      .split('slack (MET)')[0]!
      .replace(/^.*slack.*$/m, '');
    expect(() => parseCriticalPath(cut)).toThrow(/no complete path/);
    expect(parsePower('nothing')).toBeNull();
  });
});

describe('netlist for OpenSTA', () => {
  const raw = fixture('netlist-excerpt.v');

  it('renames escaped module names and splits concatenated assigns', () => {
    const { text, renamed } = cleanNetlistForSta(raw);
    expect([...renamed.values()]).toEqual(['fx_lane_low']);
    expect(text).not.toContain('$paramod');
    expect(text).toContain('module fx_lane_low (\\a[0] ,');
    expect(text).toContain('  fx_lane_low  \\g_lo[0].u_lane  (');
    expect(text).toContain('  assign \\s[19]  = \\s[20] ;\n  assign \\s[18]  = \\s[20] ;');
    expect(text).not.toMatch(/assign\s*\{/);
    // Cell instances are untouched; a second pass changes nothing.
    expect(text).toContain('  MUX2X1 _197_ (\n    .A(\\a[0] ),');
    expect(cleanNetlistForSta(text).text).toBe(text);
  });

  it('a name clash gets a suffix; a width mismatch is an error', () => {
    const clash = 'module fx_lane_low (a);\nendmodule\nmodule \\$paramod$1\\fx_lane_low (a);\nendmodule\n';
    expect([...cleanNetlistForSta(clash).renamed.values()]).toEqual(['fx_lane_low_1']);
    expect(() => cleanNetlistForSta('  assign { a , b } = c;\n')).toThrow(/cannot split/);
  });

  it('OpenSTA reads the cleaned excerpt and fails on the raw one', async () => {
    const dir = tempDir('strumgen-sta-');
    writeFileSync(join(dir, 'raw.v'), raw);
    writeFileSync(join(dir, 'clean.v'), cleanNetlistForSta(raw).text);
    const run = async (file: string) => {
      const tcl = `read_liberty ${OSU018_LIBERTY}\nread_verilog ${file}\nlink_design fx_pe\nreport_checks -unconstrained\nexit\n`;
      writeFileSync(join(dir, 'x.tcl'), tcl);
      const r = await execa('sta', ['-no_splash', '-exit', 'x.tcl'], { cwd: dir, reject: false });
      return `${r.stdout}\n${r.stderr}`;
    };
    expect(await run('raw.v')).toMatch(/Error: .*syntax error/);
    const ok = await run('clean.v');
    expect(ok).not.toMatch(/Error/);
    expect(ok).toMatch(/Startpoint: in_act\[0\]/);
  });
});

describe('scripts, cache keys, baseline, comparison', () => {
  it('Yosys scripts per kind', () => {
    const files = ['a_lane.v', 'a_pe.v'];
    const hier = yosysScript({ kind: 'hier', top: 'a_pe', files, booth: true });
    expect(hier).toMatch(/^synth -top a_pe -booth$/m);
    expect(hier).toMatch(/^read_verilog -sv a_lane\.v a_pe\.v$/m);
    expect(hier).toMatch(/^abc -liberty liberty\.lib$/m);
    expect(hier).toMatch(/^write_verilog -noattr -noexpr -nohex -nodec netlist\.v$/m);
    expect(yosysScript({ kind: 'flat', top: 'a_pe', files, booth: false })).toMatch(
      /^synth -top a_pe -flatten$/m,
    );
    const arr = yosysScript({ kind: 'array', top: 'a_array', files, booth: true, keep: 'a_pe' });
    expect(arr).toMatch(/^setattr -mod -set keep_hierarchy 1 a_pe\nsynth -top a_array -flatten -booth$/m);
    expect(() => yosysScript({ kind: 'array', top: 'a_array', files, booth: true })).toThrow();
    const sta = staScript({ top: 'a_pe', netlist: 'n.v', clockPort: 'clk', periodNs: 10, activity: 0.1 });
    expect(sta).toMatch(/^create_clock -name clk -period 10 \[get_ports clk\]$/m);
    expect(sta).toMatch(/^report_checks -path_delay max -format full -digits 4$/m);
  });

  it('cache entries are served only for the same manifest', () => {
    const dir = tempDir('strumgen-cache-');
    const a = cacheKey({ files: [['x.v', 'aa']], script: 's' });
    const b = cacheKey({ files: [['x.v', 'ab']], script: 's' });
    expect(a.key).not.toBe(b.key);
    writeFileSync(join(dir, MANIFEST), a.text);
    writeFileSync(join(dir, 'stat.json'), '{}');
    expect(cacheLookup(dir, a.text, ['stat.json'])).toBe(true);
    expect(cacheLookup(dir, b.text, ['stat.json'])).toBe(false);
    expect(cacheLookup(dir, a.text, ['stat.json', 'sta.log'])).toBe(false);
  });

  it('the baseline keeps everything but the PE kind', () => {
    const cfg = resolveConfig({
      name: 'x',
      array: { rows: 2, cols: 3 },
      pe: { block: 8, low: 'dliq' },
      accumulator: { bits: 24 },
      pipeline: { multiply: true },
    });
    const b = baselineConfig(cfg);
    expect(b.name).toBe('int8_base');
    expect(b.pe).toMatchObject({ block: 8, high: 8, low: 'none', mode: 'static' });
    expect(b.array).toEqual(cfg.array);
    expect(b.accumulator).toEqual(cfg.accumulator);
    expect(b.pipeline).toEqual(cfg.pipeline);
    // Designs that differ only in the PE kind share the baseline (one cached run).
    const other = baselineConfig(
      resolveConfig({ ...configOf(cfg), name: 'y', pe: { block: 8, low: 'sparse' } }),
    );
    expect(other.hash).toBe(b.hash);
  });

  it('comparison signs: smaller area and lower fmax are negative', () => {
    const fake = (total: number, fmaxMhz: number, byRole: Record<string, number>) =>
      ({ area: { total, byRole }, timing: { fmaxMhz } }) as unknown as SynthReport;
    const c = withComparison(fake(75, 90, { lane: 50, route: 25 }), fake(100, 100, { lane: 100 }))
      .comparison!;
    expect(c.areaChangePct).toBe(-25);
    expect(c.fmaxChangePct).toBeCloseTo(-10, 10);
    expect(c.roleDelta).toEqual({ lane: -50, route: 25 });
    expect([fmtPct(-25), fmtPct(3.04), fmtPct(0)]).toEqual(['-25.0%', '+3.0%', '±0.0%']);
  });

  it('Yosys implementation choice: option, environment, bad values', () => {
    const saved = process.env.STRUMGEN_YOSYS_IMPL;
    try {
      delete process.env.STRUMGEN_YOSYS_IMPL;
      expect(yosysImplOf()).toBe('yowasp');
      process.env.STRUMGEN_YOSYS_IMPL = 'system';
      expect(yosysImplOf()).toBe('system');
      expect(yosysImplOf('yowasp')).toBe('yowasp');
      process.env.STRUMGEN_YOSYS_IMPL = 'magic';
      expect(() => yosysImplOf()).toThrow(/^STRUMGEN_YOSYS_IMPL: 'magic' is not one of yowasp, system$/);
      expect(() => yosysImplOf('x')).toThrow(/^--yosys: 'x'/);
    } finally {
      if (saved === undefined) delete process.env.STRUMGEN_YOSYS_IMPL;
      else process.env.STRUMGEN_YOSYS_IMPL = saved;
    }
  });
});

describe('cleanNetlistForSta: constants', () => {
  it('splits a bus tied to a binary constant (a library output tied to zeros) bit by bit', () => {
    const { text } = cleanNetlistForSta(
      "module m (x);\n  output [1:0] x;\n  assign { \\x[1] , \\x[0]  } = 2'b01;\nendmodule\n",
    );
    expect(text).toContain("assign \\x[1]  = 1'b0;");
    expect(text).toContain("assign \\x[0]  = 1'b1;");
  });
});
