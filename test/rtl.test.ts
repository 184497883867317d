// The RTL stage without external tools: routing and adder-tree plans against brute force,
// determinism, module naming and order, the top ports, injection attempts, faults, and
// the atomic writer and CLI. test/rtl-tools.test.ts runs Verilator, Yosys and Icarus.

import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.ts';
import { PRESETS } from '../src/config/presets.ts';
import { ConfigError, type ResolvedDpu, resolveConfig } from '../src/config/resolve.ts';
import { Rng } from '../src/io/rng.ts';
import { wrapSigned } from '../src/quant/golden.ts';
import {
  applicableFaults,
  FAULT_KINDS,
  planRtl,
  renderRtl,
  routeEval,
  routePlan,
  treeEval,
  treePlan,
  writeRtl,
} from '../src/rtl/index.ts';

const presets = Object.entries(PRESETS).map(([key, p]) => resolveConfig(p.config, key));
const cfgOf = (over: object) => resolveConfig({ name: 't', ...over });
const scratch = mkdtempSync(join(tmpdir(), 'strumgen-rtl-unit-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Position of the n-th element of `mask` equal to `want`. */
const nth = (mask: boolean[], want: boolean, n: number) => {
  let seen = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i] === want && seen++ === n) return i;
  return -1;
};

describe('router plan', () => {
  it('sends high lane k to the k-th 0 and low lane j to the j-th 1, for every legal mask (B <= 8)', () => {
    for (const B of [2, 4, 8]) {
      for (let H = 1; H < B; H++) {
        const plan = routePlan(B, H, true)!;
        let masks = 0;
        for (let bits = 0; bits < 2 ** B; bits++) {
          const mask = Array.from({ length: B }, (_, i) => ((bits >> i) & 1) === 1);
          if (mask.filter(Boolean).length !== B - H) continue;
          masks++;
          const want = [
            ...Array.from({ length: H }, (_, k) => nth(mask, false, k)),
            ...Array.from({ length: B - H }, (_, j) => nth(mask, true, j)),
          ];
          expect(routeEval(plan, mask)).toEqual(want);
        }
        expect(masks).toBeGreaterThan(0);
      }
    }
  });

  it('does the same on random masks at B = 16, 32 and 64', () => {
    const r = new Rng(5);
    for (const B of [16, 32, 64]) {
      for (const H of [1, B / 4, B / 2, B - 1]) {
        const plan = routePlan(B, H, true)!;
        for (let t = 0; t < 50; t++) {
          const order = Array.from({ length: B }, (_, i) => i).sort(() => r.float() - 0.5);
          const lows = new Set(order.slice(0, B - H));
          const mask = Array.from({ length: B }, (_, i) => lows.has(i));
          const got = routeEval(plan, mask);
          got.slice(0, H).forEach((p, k) => {
            expect(p).toBe(nth(mask, false, k));
          });
          got.slice(H).forEach((p, j) => {
            expect(p).toBe(nth(mask, true, j));
          });
        }
      }
    }
  });

  it('has H*(L+1) + L*(H+1) mux inputs (H*(L+1) for sparse) and none when H = 0 or H = B', () => {
    expect(routePlan(16, 8, true)!.muxInputs).toBe(8 * 9 + 8 * 9);
    expect(routePlan(16, 8, false)!.muxInputs).toBe(8 * 9);
    expect(routePlan(32, 24, true)!.muxInputs).toBe(24 * 9 + 8 * 25);
    expect(routePlan(16, 0, true)).toBeNull();
    expect(routePlan(16, 16, true)).toBeNull();
  });
});

describe('adder tree plan', () => {
  it('sums any number of mixed-width leaves exactly (wrapping at the cap), depth ceil(log2 n)', () => {
    const r = new Rng(11);
    for (let n = 1; n <= 40; n++) {
      const widths = Array.from({ length: n }, () => r.int(2, 16));
      for (const cap of [16, 20, 24]) {
        const plan = treePlan(widths, cap);
        expect(plan.depth).toBe(Math.ceil(Math.log2(n)));
        expect(plan.nodes).toHaveLength(n - 1);
        for (const node of plan.nodes) expect(node.bits).toBeLessThanOrEqual(cap);
        const values = widths.map((w) => r.int(-(2 ** (w - 1)), 2 ** (w - 1) - 1));
        expect(treeEval(plan, values)).toBe(
          wrapSigned(
            values.reduce((a, b) => a + b, 0),
            Math.min(cap, plan.root!.bits),
          ),
        );
      }
    }
    expect(treePlan([], 8).root).toBeNull();
  });

  it('never needs more than the exact block-sum width: worst-case sums fit the root', () => {
    // (lp8 has no high lanes: its tree is of low lanes only)
    for (const cfg of presets.filter((c) => c.derived.highLanes > 0)) {
      const leaf = cfg.derived.highProductBits;
      const plan = treePlan(new Array(cfg.derived.highLanes).fill(leaf), cfg.derived.blockSumBits);
      const most = -(2 ** (leaf - 1)) * cfg.derived.highLanes;
      expect(treeEval(plan, new Array(cfg.derived.highLanes).fill(-(2 ** (leaf - 1))))).toBe(
        wrapSigned(most, plan.root!.bits),
      );
    }
  });
});

describe('renderRtl', () => {
  it('is deterministic; the PE and array are <name>_..., every other module is the library file itself', () => {
    const lib = join(process.cwd(), 'templates', 'lib');
    for (const cfg of [...presets, cfgOf({ pe: { low: 'dliq', mode: 'dynamic' } })]) {
      const a = renderRtl(cfg);
      expect(renderRtl(cfg)).toEqual(a);
      expect(a.top).toBe(`${cfg.name}_array`);
      expect(a.pe).toBe(`${cfg.name}_pe`);
      expect(a.files.map((f) => f.name)).toEqual(a.modules.map((m) => `${m.name}.v`));
      for (const f of a.files) {
        const mods = [...f.content.matchAll(/^module (\w+)/gm)].map((m) => m[1]);
        expect(mods).toEqual([f.name.slice(0, -2)]);
        expect(f.content.endsWith('endmodule\n')).toBe(true);
        if (f.name.startsWith(`${cfg.name}_`)) continue;
        // Reusable IP: the same bytes for every config, no config in its name.
        expect(f.name).toMatch(/^strum_/);
        expect(f.content).toBe(readFileSync(join(lib, f.name), 'utf8'));
      }
      expect(a.files.filter((f) => f.name.startsWith(`${cfg.name}_`)).map((f) => f.name)).toEqual([
        `${cfg.name}_pe.v`,
        `${cfg.name}_array.v`,
      ]);
    }
  });

  it('lists files leaves first: every instantiated module is defined in an earlier file', () => {
    for (const cfg of [...presets, cfgOf({ pe: { low: 'dliq', mode: 'dynamic' } })]) {
      const { files, modules } = renderRtl(cfg);
      const names = new Set(modules.map((m) => m.name));
      const defined = new Set<string>();
      for (const f of files) {
        for (const m of f.content.matchAll(/^\s+(\w+)(?: #\(| u_\w+ \()/gm)) {
          if (m[1]!.endsWith('_mismatch')) continue; // the tree's elaboration-time width check
          expect(names.has(m[1]!)).toBe(true);
          expect(defined.has(m[1]!)).toBe(true);
        }
        defined.add(f.name.slice(0, -2));
      }
    }
  });

  it('gives each config the library modules and roles its PE needs', () => {
    const roles = (cfg: ResolvedDpu) =>
      renderRtl(cfg).modules.map((m) => `${m.role}:${m.name.replace(`${cfg.name}_`, '')}`);
    expect(roles(presets[0]!)).toEqual([
      'lane:strum_lane_full',
      'adder_tree:strum_adder_tree',
      'accumulator:strum_accumulator',
      'pe:pe',
      'array:array',
    ]);
    expect(roles(presets[1]!)).toEqual([
      'route:strum_gather',
      'route:strum_router',
      'lane:strum_lane_full',
      'lane:strum_lane_mip2q',
      'adder_tree:strum_adder_tree',
      'accumulator:strum_accumulator',
      'pe:pe',
      'array:array',
    ]);
    expect(roles(presets[3]!).some((r) => r.startsWith('lane:') && !r.endsWith('full'))).toBe(false);
    expect(roles(presets[4]!)).toEqual([
      'lane:strum_lane_full',
      'lane:strum_lane_mip2q',
      'lane:strum_lane_dyn',
      'adder_tree:strum_adder_tree',
      'accumulator:strum_accumulator',
      'pe:pe',
      'array:array',
    ]);
  });

  it('bakes the top ports from the config, in_shift only for DLIQ with a per-layer shift', () => {
    const ports = (cfg: ResolvedDpu) => {
      const top = renderRtl(cfg).files.at(-1)!.content;
      return [...top.matchAll(/^\s+(input|output)\s+(\[\d+:0\] )?(\w+),?$/gm)].map(
        (m) => `${m[3]}${m[2] ? m[2].trim() : ''}`,
      );
    };
    const mip = presets[1]!;
    expect(ports(mip)).toEqual([
      'clk',
      'rst',
      'in_valid',
      'in_clear',
      'in_last',
      `in_act[${4 * 128 - 1}:0]`,
      `in_wgt[${4 * 112 - 1}:0]`,
      'out_valid',
      'out_row[1:0]',
      `out_data[${4 * 32 - 1}:0]`,
    ]);
    const layer = cfgOf({ array: { rows: 3, cols: 2 }, pe: { low: 'dliq' }, dliq: { granularity: 'layer' } });
    expect(ports(layer)).toContain('in_shift[1:0]');
    expect(ports(layer)).toContain('out_row[1:0]');
    expect(ports(presets[2]!).some((p) => p.startsWith('in_shift'))).toBe(false);
    expect(ports(cfgOf({ array: { rows: 1, cols: 1 } }))).toContain('out_row[0:0]');
  });

  it('static DLIQ: plain a * q lanes, their own tree, one shift of the sum; dynamic lanes shift each', () => {
    const pe = (cfg: ResolvedDpu) => renderRtl(cfg).files.find((f) => f.name === `${cfg.name}_pe.v`)!.content;
    /** The parameters bound on the instances of `module` in the PE. */
    const params = (text: string, module: string) =>
      [...text.matchAll(new RegExp(`${module} #\\(([^;]*?)\\) u_`, 'g'))].map((m) =>
        Object.fromEntries([...m[1]!.matchAll(/\.(\w+)\(([^)]*)\)/g)].map((x) => [x[1], x[2]])),
      );
    for (const granularity of ['block', 'layer'] as const) {
      const cfg = cfgOf({ pe: { low: 'dliq' }, dliq: { granularity } });
      const v = pe(cfg);
      // 8 x 4 bits before the shift: 12-bit plain products, the lanes do not shift.
      expect(params(v, 'strum_lane_dliq')).toEqual([expect.objectContaining({ SHIFT: '0', P_BITS: '12' })]);
      const trees = params(v, 'strum_adder_tree');
      expect(trees).toHaveLength(2);
      expect(trees[0]).toMatchObject({ N: '8', OUT_BITS: '15' }); // 8 x 1024 fits 15 bits
      const shifts = v.split('\n').filter((l) => l.includes('<<') && !l.trim().startsWith('//'));
      expect(shifts).toHaveLength(1);
      expect(v).toMatch(/wire \[17:0\] lsum_sh = \{\{3\{lsum\[14\]\}\}, lsum\} << /);
      const plan = planRtl(cfg);
      expect(plan.lowTree!.leaves).toHaveLength(8);
      expect(plan.tree.leaves.map((l) => l.bits)).toEqual([...new Array(8).fill(16), 18]);
    }
    const dyn = pe(cfgOf({ pe: { low: 'dliq', mode: 'dynamic' } }));
    expect(params(dyn, 'strum_lane_dliq')).toEqual([expect.objectContaining({ SHIFT: '1' })]);
    expect(params(dyn, 'strum_adder_tree')).toHaveLength(1);
    // No shift to share: the low lanes stay leaves of the one tree.
    expect(planRtl(cfgOf({ pe: { low: 'dliq' }, dliq: { shiftMax: 0 } })).lowTree).toBeNull();
  });

  it("routeDecode 'column': one decoder per column in the array, the PE gets one-hot selects, same top ports", () => {
    const topPorts = (cfg: ResolvedDpu) =>
      [
        ...renderRtl(cfg)
          .files.at(-1)!
          .content.matchAll(/^\s+(input|output)\s+(.*?),?$/gm),
      ].map((m) => m[0]);
    for (const low of ['mip2q', 'dliq', 'sparse'] as const) {
      const pe = cfgOf({ array: { rows: 3, cols: 5 }, pe: { block: 8, high: 3, low } });
      const col = cfgOf({
        array: { rows: 3, cols: 5 },
        pe: { block: 8, high: 3, low, routeDecode: 'column' },
      });
      const M = planRtl(col).route!.muxInputs;
      const b = renderRtl(col);
      const v = Object.fromEntries(b.files.map((f) => [f.name.slice(0, -2), f.content]));
      expect(b.modules.filter((m) => m.role === 'route').map((m) => m.name)).toEqual([
        'strum_gather',
        'strum_route_mux',
        'strum_route_decode',
      ]);
      expect(v.t_pe).toMatch(new RegExp(`input  \\[${M - 1}:0\\] sel,`));
      expect(v.t_pe).toMatch(/strum_route_mux #\([^;]*\.sel\(sel\)/);
      expect(v.t_pe).not.toMatch(/\.mask\(/);
      // One decoder instance in the column loop (5 columns), none in the PE.
      expect(v.t_array!.match(/strum_route_decode #\([^;]*\) u_dec/g)).toHaveLength(1);
      expect(v.t_array).toMatch(
        /for \(c = 0; c < 5; c = c \+ 1\) begin : g_wgt[\s\S]*u_dec[\s\S]*end\n {4}for/,
      );
      expect(v.t_array).toMatch(/\.sel\(sel_col\[c\]\)/);
      expect(topPorts(col)).toEqual(topPorts(pe));
      // Only the router is split: the lanes, trees and accumulator are bound the same way.
      const others = (cfg: ResolvedDpu) =>
        renderRtl(cfg)
          .files.find((f) => f.name === 't_pe.v')!
          .content.split('\n')
          .filter((l) => !/route|sel|mask|ROUTED|act\[|hi_act|lo_act|wgt\[/.test(l));
      expect(others(col).filter((l) => /strum_(lane|adder|acc)/.test(l))).toEqual(
        others(pe).filter((l) => /strum_(lane|adder|acc)/.test(l)),
      );
    }
  });

  it("routeDecode 'column' changes nothing without a router (H = 0 or H = B)", () => {
    const body = (cfg: ResolvedDpu) => renderRtl(cfg).files.map((f) => f.content.split('\n').slice(1));
    for (const high of [0, 8]) {
      const a = cfgOf({ pe: { block: 8, high, low: 'mip2q' } });
      const b = cfgOf({ pe: { block: 8, high, low: 'mip2q', routeDecode: 'column' } });
      expect(b.hash).not.toBe(a.hash);
      expect(body(b)).toEqual(body(a));
    }
  });

  it('sizes the dynamic low path like the static low lanes', () => {
    for (const low of ['mip2q', 'dliq'] as const) {
      for (const signed of [true, false]) {
        const s = cfgOf({ pe: { low }, activation: { signed } });
        const dyn = cfgOf({ pe: { low, mode: 'dynamic' }, activation: { signed } });
        expect(dyn.derived.lowModeProductBits).toBe(s.derived.lowProductBits);
        expect(s.derived.lowModeProductBits).toBe(s.derived.lowProductBits);
      }
    }
  });

  it('puts pipeline registers where the config asks and keeps latency in step', () => {
    const pe = (p: object) =>
      renderRtl(cfgOf({ pipeline: p })).files.find((f) => f.name === 't_pe.v')!.content;
    expect(pe({})).not.toMatch(/p_en|s_en/);
    expect(pe({ multiply: true })).toMatch(/if \(p_en\)/);
    expect(pe({ adderTree: true })).toMatch(/if \(s_en\) tsum_q <= tsum;/);
    const top = renderRtl(cfgOf({ pipeline: { multiply: true, adderTree: true } })).files.at(-1)!.content;
    expect(top).toMatch(/\.acc_en\(v2\)/);
  });
});

describe('config text cannot inject Verilog', () => {
  const attempts = [
    'x; endmodule module evil(',
    'a\nmodule evil',
    'name /* */',
    '`define X',
    'module',
    'endmodule',
    'a$b',
    '\\escaped ',
    'α',
    '_leading',
    'x'.repeat(49),
  ];
  it.each(attempts)('rejects the name %j at resolve time', (name) => {
    expect(() => resolveConfig({ name })).toThrow(ConfigError);
  });

  it('refuses a resolved config that was modified afterwards (name, counts or derived widths)', () => {
    const good = presets[1]!;
    const forged = [
      { ...good, name: 'x; endmodule module evil(' },
      { ...good, array: { rows: '1]; evil', cols: 4 } },
      { ...good, pe: { ...good.pe, high: 3.5 } },
      { ...good, name: 'other' },
    ];
    for (const f of forged) expect(() => renderRtl(f as unknown as ResolvedDpu)).toThrow();
    // Modified derived values are ignored: the Verilog comes from the re-resolved config.
    const derived = {
      ...good,
      derived: { ...good.derived, blockSumBits: '1]; evil' },
    } as unknown as ResolvedDpu;
    expect(renderRtl(derived)).toEqual(renderRtl(good));
  });
});

describe('test-only faults', () => {
  it("are an overlay: the route fault wraps the PE's muxes with routeDecode 'column' (the decoder stays right)", () => {
    const cfg = cfgOf({ pe: { block: 8, high: 4, routeDecode: 'column' } });
    const clean = renderRtl(cfg).files;
    const bad = renderRtl(cfg, { fault: 'route-off-by-one' }).files;
    // Every clean file but the PE unchanged; one wrapper added; the PE points at it.
    const changed = clean.filter((f) => bad.find((b) => b.name === f.name)!.content !== f.content);
    expect(changed.map((f) => f.name)).toEqual(['t_pe.v']);
    expect(bad.map((f) => f.name).filter((n) => !clean.some((f) => f.name === n))).toEqual([
      'strum_route_mux_fault.v',
    ]);
    expect(bad.find((f) => f.name === 't_pe.v')!.content).toMatch(/strum_route_mux_fault #/);
  });

  it('apply where there is something to break, change the Verilog, and are refused elsewhere', () => {
    expect(applicableFaults(presets[0]!)).toEqual(['high-lane-bit']);
    expect(applicableFaults(presets[1]!)).toEqual(
      FAULT_KINDS.filter((f) => f !== 'low-lane-internal' && f !== 'sdp-tie-order' && f !== 'sdp-part-flag'),
    );
    expect(applicableFaults(presets[3]!)).toEqual(['route-off-by-one', 'high-lane-bit']);
    expect(applicableFaults(presets[4]!)).toEqual(['low-lane-sign', 'high-lane-bit']);
    for (const cfg of presets) {
      const clean = renderRtl(cfg);
      for (const fault of FAULT_KINDS) {
        if (applicableFaults(cfg).includes(fault)) {
          const bad = renderRtl(cfg, { fault });
          expect(bad.top).toBe(clean.top);
          expect(bad.files).not.toEqual(clean.files);
          expect(bad.files.some((f) => f.content.includes('Test-only fault overlay'))).toBe(true);
          // The overlay only adds modules and repoints the PE (pe.maskScope 'group': the
          // array, whose edge routers are the only routers).
          const host =
            cfg.pe.maskScope?.kind === 'group' && fault === 'route-off-by-one' ? clean.top : clean.pe;
          for (const f of clean.files) {
            if (f.name !== `${host}.v`) expect(bad.files).toContainEqual(f);
          }
        } else {
          expect(() => renderRtl(cfg, { fault })).toThrow(/does not apply/);
        }
      }
      expect(clean.files.some((f) => /fault/i.test(f.content))).toBe(false);
    }
  });

  it('cannot be reached from the CLI or a config file', async () => {
    const out = join(scratch, 'nofault');
    expect(await main(['generate', 'int8', '--out', out, '--fault', 'high-lane-bit'])).toBe(2);
    expect(() => resolveConfig({ name: 'x', fault: 'high-lane-bit' })).toThrow(ConfigError);
    expect(existsSync(out)).toBe(false);
  });
});

describe('writeRtl and strumgen generate', () => {
  const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

  it('writes the Verilog, files.f, PORTS.md and a manifest whose hashes match, byte-identical on rerun', async () => {
    const cfg = presets[2]!;
    const dir = join(scratch, 'dliq');
    const { manifest } = await writeRtl(cfg, dir);
    const bundle = renderRtl(cfg);
    expect(manifest.hash).toBe(cfg.hash);
    expect(manifest.top).toBe(bundle.top);
    expect(manifest.generatorVersion).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
    expect(readFileSync(join(dir, 'files.f'), 'utf8').trim().split('\n')).toEqual(
      bundle.files.map((f) => f.name),
    );
    expect(readFileSync(join(dir, 'PORTS.md'), 'utf8')).toMatch(/`in_wgt` \| in \| 456 \|/);
    for (const f of manifest.files) expect(sha(join(dir, f.name))).toBe(f.sha256);
    expect(readdirSync(dir).sort()).toEqual(
      [...manifest.files.map((f) => f.name), 'manifest.json', '.strumgen-output.json'].sort(),
    );
    const before = Object.fromEntries(readdirSync(dir).map((n) => [n, sha(join(dir, n))]));
    await writeRtl(cfg, dir);
    expect(Object.fromEntries(readdirSync(dir).map((n) => [n, sha(join(dir, n))]))).toEqual(before);
    expect(readdirSync(scratch).filter((n) => n.includes('.tmp-') || n.includes('.old-'))).toEqual([]);
  });

  it('replaces an earlier output whole, and leaves it intact when generation fails', async () => {
    const dir = join(scratch, 'swap');
    await writeRtl(presets[1]!, dir);
    const first = readdirSync(dir).sort();
    await expect(writeRtl(presets[0]!, dir, { fault: 'low-lane-sign' })).rejects.toThrow();
    expect(readdirSync(dir).sort()).toEqual(first);
    await writeRtl(presets[0]!, dir);
    expect(readdirSync(dir).some((n) => n.startsWith('strum_mip2q'))).toBe(false);
    expect(readdirSync(scratch).filter((n) => n.includes('.tmp-') || n.includes('.old-'))).toEqual([]);
  });

  it('refuses to replace a directory that is not a strumgen output', async () => {
    const dir = join(scratch, 'precious');
    mkdirSync(dir);
    writeFileSync(join(dir, 'notes.txt'), 'keep me');
    await expect(writeRtl(presets[0]!, dir)).rejects.toThrow(/not a strumgen output/);
    expect(await main(['generate', 'int8', '--out', dir])).toBe(2);
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('keep me');
  });

  it('CLI: generate a preset with overrides into --out; bad input exits 2', async () => {
    const dir = join(scratch, 'cli');
    expect(await main(['generate', 'strum-sparse', '--rows', '2', '--cols', '3', '--out', dir])).toBe(0);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.config.array).toEqual({ rows: 2, cols: 3 });
    expect(await main(['generate', 'strum-sparse', '--block', '12', '--out', join(scratch, 'bad')])).toBe(2);
    expect(await main(['generate', 'no-such-preset', '--out', join(scratch, 'bad')])).toBe(2);
    expect(existsSync(join(scratch, 'bad'))).toBe(false);
  });
});
