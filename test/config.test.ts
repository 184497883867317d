import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.ts';
import { PRESETS } from '../src/config/presets.ts';
import { configOf, resolveConfig } from '../src/config/resolve.ts';
import { dpuSchema } from '../src/config/schema.ts';
import { defineDpu } from '../src/index.ts';
import { configProblems } from './config-helpers.ts';

const base = { name: 'dut' };

const problems = configProblems;

describe('resolveConfig rules', () => {
  const cases: [string, unknown, RegExp][] = [
    ['unknown top-level key', { ...base, colour: 'red' }, /^colour: unknown key$/],
    ['unknown nested key', { ...base, pe: { blok: 4 } }, /^pe\.blok: unknown key$/],
    ['missing name', {}, /^name: is required$/],
    ['name not an identifier', { name: '1pe' }, /^name: must be a Verilog identifier/],
    ['name with injection', { name: 'a; endmodule module evil' }, /^name: must be a Verilog identifier/],
    ['name is a keyword', { name: 'module' }, /^name: is a Verilog keyword$/],
    ['name too long', { name: 'a'.repeat(49) }, /^name: must be at most 48/],
    ['rows = 0', { ...base, array: { rows: 0 } }, /^array\.rows: must be at least 1$/],
    ['cols too big', { ...base, array: { cols: 129 } }, /^array\.cols: must be at most 128$/],
    ['rows not an integer', { ...base, array: { rows: 2.5 } }, /^array\.rows: must be an integer$/],
    ['rows not a number', { ...base, array: { rows: 'four' } }, /^array\.rows: must be a number$/],
    ['H > B', { ...base, pe: { block: 16, high: 20 } }, /^pe\.high: 20 exceeds pe\.block \(16\)$/],
    ['B not a power of two', { ...base, pe: { block: 12 } }, /^pe\.block: 12 is not a power of two/],
    ['bad low format', { ...base, pe: { low: 'int3' } }, /^pe\.low: /],
    ['bad mode', { ...base, pe: { mode: 'fast' } }, /^pe\.mode: /],
    [
      'baseline with H != B',
      { ...base, pe: { low: 'none', block: 8, high: 4 } },
      /^pe\.high: must equal pe\.block/,
    ],
    [
      'dynamic baseline',
      { ...base, pe: { low: 'none', mode: 'dynamic' } },
      /^pe\.mode: 'dynamic' needs a low format/,
    ],
    ['lowBits > weightBits', { ...base, weightBits: 4, lowBits: 6 }, /^lowBits: 6 exceeds weightBits \(4\)$/],
    [
      'MIP2Q exponent does not fit the code',
      { ...base, lowBits: 3, mip2q: { maxExponent: 4 } },
      /^mip2q\.maxExponent: 4 does not fit a 3-bit code/,
    ],
    [
      'MIP2Q exponent off the weight grid',
      { ...base, weightBits: 6, mip2q: { maxExponent: 6 } },
      /^mip2q\.maxExponent: 2\^6 is outside the 6-bit weight grid/,
    ],
    [
      'accumulator too wide',
      { ...base, accumulator: { bits: 64 } },
      /^accumulator\.bits: must be at most 48$/,
    ],
    ['DLIQ shift out of range', { ...base, dliq: { shiftMax: 9 } }, /^dliq\.shiftMax: must be at most 7$/],
    ['bad granularity', { ...base, dliq: { granularity: 'tile' } }, /^dliq\.granularity: /],
    ['bad dataflow', { ...base, dataflow: 'weight-stationary' }, /^dataflow: /],
    ['pipeline not boolean', { ...base, pipeline: { multiply: 1 } }, /^pipeline\.multiply: /],
    ['config not an object', 'strum', /^: /],
    ['bad routeDecode', { ...base, pe: { routeDecode: 'row' } }, /^pe\.routeDecode: /],
    [
      "routeDecode 'column' on the INT8 baseline",
      { ...base, pe: { low: 'none', routeDecode: 'column' } },
      /^pe\.routeDecode: 'column' needs a static StruM PE .*has no router$/,
    ],
    [
      "routeDecode 'column' on a dynamic PE",
      { ...base, pe: { mode: 'dynamic', routeDecode: 'column' } },
      /^pe\.routeDecode: 'column' needs a static StruM PE/,
    ],
  ];
  for (const [what, input, pattern] of cases) {
    it(`rejects ${what}`, () => {
      const found = problems(input);
      expect(found.length, `expected an error for ${what}`).toBeGreaterThan(0);
      expect(
        found.some((p) => pattern.test(p)),
        found.join('\n'),
      ).toBe(true);
    });
  }

  it('reports every problem of a config, one line each', () => {
    const found = problems({ name: '9', array: { rows: 0, cols: 0 }, extra: 1 });
    expect(found).toHaveLength(4);
  });

  it('accepts every preset and fills defaults', () => {
    for (const [key, preset] of Object.entries(PRESETS)) {
      const r = resolveConfig(preset.config, key);
      expect(r.pe.high).toBeLessThanOrEqual(r.pe.block);
      expect(r.derived.weightBlockBits).toBe(r.derived.weightLayout.totalBits);
      expect(
        Object.isFrozen(r) && Object.isFrozen(r.pe) && Object.isFrozen(r.derived.weightLayout.high),
      ).toBe(true);
    }
  });

  it("routeDecode: 'pe' by default; 'column' on a static PE without a router is legal but warned", () => {
    expect(resolveConfig(base).pe.routeDecode).toBe('pe');
    const routed = resolveConfig({ ...base, pe: { low: 'sparse', routeDecode: 'column' } });
    expect(routed.warnings).toEqual([]);
    for (const high of [0, 16]) {
      const r = resolveConfig({ ...base, pe: { high, low: 'dliq', routeDecode: 'column' } });
      expect(r.warnings).toEqual([
        `pe.routeDecode: 'column' changes nothing here: with pe.high = ${high} of 16 the PE needs no router`,
      ]);
      expect(resolveConfig({ ...base, pe: { high, low: 'dliq' } }).warnings).toEqual([]);
    }
  });

  it('defaults H to B/2 for StruM and to B for the baseline', () => {
    expect(resolveConfig({ ...base, pe: { block: 8 } }).pe.high).toBe(4);
    expect(resolveConfig({ ...base, pe: { block: 8, low: 'none' } }).pe.high).toBe(8);
    expect(resolveConfig({ ...base, pe: { block: 1 } }).pe.high).toBe(0);
  });
});

describe('derived values', () => {
  it('computes widths for the static MIP2Q preset', () => {
    const d = resolveConfig(PRESETS['strum-mip2q']!.config).derived;
    expect(d).toMatchObject({
      lowCount: 8,
      highLanes: 8,
      lowLanes: 8,
      lanes: 16,
      highProductBits: 16, // -128 * -128 = 16384 needs 16 signed bits
      lowProductBits: 15, // -128 << 6 = -8192, 127 << 6 = 8128, negated: 8192 needs 15
      adderTreeDepth: 4,
      weightBlockBits: 16 + 8 * 8 + 8 * 4,
      activationBlockBits: 128,
    });
  });

  it('lays out every field without overlap or gap', () => {
    for (const low of ['none', 'mip2q', 'dliq', 'sparse'] as const) {
      for (const mode of ['static', 'dynamic'] as const) {
        if (low === 'none' && mode === 'dynamic') continue;
        const high = low === 'none' ? 8 : 3;
        const d = resolveConfig({ ...base, pe: { block: 8, high, low, mode } }).derived;
        const l = d.weightLayout;
        const fields = [l.mask, ...l.high, ...l.low, ...l.slots, ...l.meta].filter((f) => f !== null);
        let at = 0;
        for (const f of fields) {
          expect(f.offset).toBe(at);
          at += f.bits;
        }
        expect(at).toBe(l.totalBits);
      }
    }
  });

  it('warns when the accumulator can wrap on the declared reduction', () => {
    const ok = resolveConfig({ ...base, accumulator: { bits: 32, reductionLength: 4608 } });
    expect(ok.warnings).toEqual([]);
    const narrow = resolveConfig({ ...base, accumulator: { bits: 16, reductionLength: 4608 } });
    expect(narrow.warnings.join()).toMatch(/accumulator\.bits: 16 bits can wrap/);
  });

  it('accounts for the DLIQ shift in product widths', () => {
    const d = resolveConfig({ ...base, pe: { low: 'dliq' }, dliq: { shiftMax: 3 } }).derived;
    // -128 * -8 << 3 = 8192 needs 15 signed bits; shift field 2 bits
    expect(d.lowProductBits).toBe(15);
    expect(d.meta.map((m) => [m.name, m.scope, m.bits])).toEqual([['shift', 'block', 2]]);
    expect(d.weightLayout.meta.map((f) => f.bits)).toEqual([2]);
    const layer = resolveConfig({ ...base, pe: { low: 'dliq' }, dliq: { granularity: 'layer' } }).derived;
    expect(layer.weightLayout.meta).toEqual([]);
    expect(layer.interface.layerMeta.map((m) => [m.port, m.field.bits])).toEqual([['in_shift', 2]]);
  });

  it("hashes only the used format's parameters (another format's group is checked, ignored, warned)", () => {
    const dliq = resolveConfig(PRESETS['strum-dliq']!.config);
    const withMip = resolveConfig({ ...PRESETS['strum-dliq']!.config, mip2q: { maxExponent: 2 } });
    expect(withMip.hash).toBe(dliq.hash);
    expect(withMip.warnings.join()).toMatch(/mip2q: ignored \(pe.low is 'dliq'\)/);
    expect('mip2q' in withMip).toBe(false);
    expect(withMip.dliq).toEqual({ shiftMax: 3, granularity: 'block' });
    // The used format's parameters do change the hash; a bad unused group is still an error.
    expect(resolveConfig({ ...PRESETS['strum-dliq']!.config, dliq: { shiftMax: 2 } }).hash).not.toBe(
      dliq.hash,
    );
    expect(() => resolveConfig({ ...PRESETS['strum-dliq']!.config, mip2q: { maxExponent: 99 } })).toThrow(
      /mip2q.maxExponent/,
    );
  });
});

describe('config hash', () => {
  it('is the same for the same config however it is written', () => {
    const a = resolveConfig({ name: 'x', pe: { block: 16, high: 8 } });
    const b = resolveConfig({ pe: { high: 8, block: 16, low: 'mip2q' }, name: 'x', array: {} });
    expect(a.hash).toBe(b.hash);
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('changes when any field changes', () => {
    const ref = resolveConfig(PRESETS['strum-mip2q']!.config);
    const variants: unknown[] = [
      { array: { rows: 5 } },
      { array: { cols: 3 } },
      { pe: { block: 8 } },
      { pe: { high: 7 } },
      { pe: { low: 'dliq' } },
      { pe: { mode: 'dynamic' } },
      { pe: { routeDecode: 'column' } },
      { activation: { bits: 7 } },
      { activation: { signed: false } },
      { weightBits: 9 },
      { lowBits: 5 },
      { accumulator: { bits: 24 } },
      { accumulator: { reductionLength: 99 } },
      // A format's parameters count when that format is used (ref is MIP2Q; the DLIQ ones with pe.low 'dliq').
      { pe: { low: 'dliq' }, dliq: { shiftMax: 2 } },
      { pe: { low: 'dliq' }, dliq: { granularity: 'layer' } },
      { mip2q: { maxExponent: 5 } },
      { pipeline: { multiply: true } },
      { pipeline: { adderTree: true } },
      { name: 'other' },
    ];
    const hashes = new Set([ref.hash]);
    for (const v of variants) {
      const merged = structuredClone(configOf(ref)) as Record<string, unknown>;
      for (const [k, val] of Object.entries(v as object)) {
        merged[k] = typeof val === 'object' ? { ...(merged[k] as object), ...val } : val;
      }
      hashes.add(resolveConfig(merged).hash);
    }
    expect(hashes.size).toBe(variants.length + 1);
  });

  it('does not depend on this machine: a fixed config has a fixed hash', () => {
    // If this changes, every cached build and published result changes identity: bump deliberately.
    const r = resolveConfig({ name: 'pinned' });
    expect(r.hash).toBe(resolveConfig(JSON.parse(JSON.stringify(configOf(r)))).hash);
    expect(r.shortHash).toBe(r.hash.slice(0, 12));
  });
});

describe('loading configs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'strumgen-config-'));

  it('loads JSON and TypeScript files and applies overrides', async () => {
    const json = join(dir, 'a.json');
    writeFileSync(json, JSON.stringify({ name: 'fromjson', pe: { block: 8 } }));
    const ts = join(dir, 'b.ts');
    writeFileSync(
      ts,
      `import { defineDpu } from ${JSON.stringify(new URL('../src/index.ts', import.meta.url).pathname)};\n` +
        `const rows: number = 3;\nexport default defineDpu({ name: 'fromts', array: { rows } });\n`,
    );
    expect((await loadConfig(json)).pe.block).toBe(8);
    const r = await loadConfig(ts, { 'array.cols': 2 });
    expect([r.name, r.array.rows, r.array.cols]).toEqual(['fromts', 3, 2]);
  });

  it('names the file in errors', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"name": "ok", "pe": {"high": 20}}');
    await expect(loadConfig(bad)).rejects.toThrow(/bad\.json: pe\.high: 20 exceeds pe\.block \(16\)/);
    await expect(loadConfig(join(dir, 'nope.json'))).rejects.toThrow(/no such preset or file/);
    writeFileSync(join(dir, 'broken.json'), '{name:');
    await expect(loadConfig(join(dir, 'broken.json'))).rejects.toThrow(/not valid JSON/);
  });

  it('keeps the schema and defineDpu types in step', () => {
    expect(defineDpu({ name: 'x' })).toEqual({ name: 'x' });
    expect(Object.keys(dpuSchema().shape)).toContain('pe');
  });
});

describe('CLI', () => {
  const cli = (...args: string[]) => execa('node', ['bin/strumgen.js', ...args], { reject: false });

  it('prints the resolved config with a stable hash', async () => {
    const a = await cli('config', 'strum-mip2q', '--json');
    const b = await cli('config', 'strum-mip2q', '--json');
    expect(a.exitCode).toBe(0);
    const ja = JSON.parse(a.stdout);
    expect(ja.hash).toBe(JSON.parse(b.stdout).hash);
    expect(ja.hash).toBe(resolveConfig(PRESETS['strum-mip2q']!.config).hash);
    expect(ja.derived.weightBlockBits).toBe(112);
    const changed = await cli('config', 'strum-mip2q', '--json', '--block', '8');
    expect(JSON.parse(changed.stdout).hash).not.toBe(ja.hash);
    expect(JSON.parse(changed.stdout).config.pe.high).toBe(4);
  });

  it.each([
    [['--set', 'pe.colour=1'], /pe\.colour: unknown key/],
    [['--high', '20'], /pe\.high: 20 exceeds pe\.block \(16\)/],
    [['--block', '12'], /pe\.block: 12 is not a power of two/],
    [['--set', 'name=my-pe'], /name: must be a Verilog identifier/],
    [['--rows', '0'], /array\.rows: must be at least 1/],
  ])('exits 2 with one line naming the field for %j', async (args, pattern) => {
    const r = await cli('config', 'strum-mip2q', ...args);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim()).toMatch(pattern);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/);
  });

  it('rejects an unknown preset or command', async () => {
    const r = await cli('config', 'no-such-preset');
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/no such preset or file/);
    expect((await cli('frobnicate')).exitCode).toBe(2);
  });

  it('has --help and --version', async () => {
    const help = await cli('--help');
    expect(help.stdout).toMatch(/strumgen config/);
    expect((await cli('--version')).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('doctor reports each tool with an install command when missing', async () => {
    const r = await execa('node', ['bin/strumgen.js', 'doctor', '--json'], {
      reject: false,
      env: { STRUMGEN_VERILATOR: '/nonexistent/verilator' },
    });
    expect(r.exitCode).toBe(1);
    const out = JSON.parse(r.stdout);
    const v = out.tools.find((t: { id: string }) => t.id === 'verilator');
    expect(v).toMatchObject({ found: false, install: 'apt-get install -y verilator' });
    expect(out.tools.map((t: { id: string }) => t.id)).toEqual([
      'verilator',
      'make',
      'cxx',
      'yosys',
      'opensta',
      'osu018',
      'iverilog',
      'yowasp',
    ]);
    expect(r.stderr).toMatch(/missing: Verilator/);
  });
});
