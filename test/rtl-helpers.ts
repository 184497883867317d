// Shared by the RTL tests: seeded random configs and stimulus (drawn from src/io/rng.ts), the tool
// runs (Verilator lint, Yosys read, a small Icarus simulation) and a limiter so at most two run at once.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { groupChannelsOf, maskScopeOf } from '../src/config/mask-scope.ts';
import type { ResolvedDpu } from '../src/config/resolve.ts';
import type { DpuInput } from '../src/config/schema.ts';
import { formatOf, lowCodeProblem, midFormatOf, toSigned } from '../src/format/index.ts';
import { packActivationBlock, packWeightBlock, type WeightBlock } from '../src/format/pack.ts';
import type { Rng } from '../src/io/rng.ts';
import { type ArrayCycle, GoldenArray } from '../src/quant/golden.ts';
import { type FaultKind, type RtlBundle, renderRtl } from '../src/rtl/index.ts';
import { metaCandidates, sdpLegal } from './quant-arbitraries.ts';

/** Every (format, mode) pair a config can have. */
export const FORMAT_MODES = [
  ['none', 'static'],
  ['mip2q', 'static'],
  ['dliq', 'static'],
  ['sparse', 'static'],
  ['mip2q', 'dynamic'],
  ['dliq', 'dynamic'],
  ['sparse', 'dynamic'],
] as const;

/**
 * A random description near the rules (resolveConfig may still reject it): B in 1..32,
 * H in 0..B, arrays 1x1..16x16; `fix` pins the format, mode or array size.
 */
export function randomDescription(
  r: Rng,
  name: string,
  fix: { formatMode?: (typeof FORMAT_MODES)[number]; rows?: number; cols?: number } = {},
): DpuInput {
  const [low, mode] = fix.formatMode ?? r.pick(FORMAT_MODES);
  const block = r.pick([1, 2, 4, 8, 16, 32]);
  const weightBits = r.pick([4, 6, 8, 8, 8, 12, 16]);
  const lowBits = Math.min(weightBits, r.pick([2, 3, 4, 4, 5, 8]));
  const maxExp = Math.min(2 ** (lowBits - 1) - 2, weightBits - 2);
  return {
    name,
    array: { rows: fix.rows ?? r.int(1, 16), cols: fix.cols ?? r.int(1, 16) },
    pe: { block, high: low === 'none' ? block : r.int(0, block), low, mode },
    activation: { bits: r.pick([2, 4, 8, 8, 8, 12, 16]), signed: r.float() < 0.75 },
    weightBits,
    lowBits,
    accumulator: { bits: r.pick([8, 16, 24, 32, 32, 48]) },
    dliq: { shiftMax: r.int(0, 7), granularity: r.pick(['block', 'layer'] as const) },
    mip2q: { maxExponent: r.int(0, Math.max(0, maxExp)) },
    pipeline: { operands: r.float() < 0.5, multiply: r.float() < 0.5, adderTree: r.float() < 0.5 },
  };
}

/** Run `fn` over `items` with at most `limit` at a time. */
export async function pool<T, R>(items: readonly T[], limit: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function withFiles<R>(bundle: RtlBundle, extra: Record<string, string>, fn: (dir: string) => Promise<R>) {
  const dir = mkdtempSync(join(tmpdir(), 'strumgen-rtl-test-'));
  for (const f of bundle.files) writeFileSync(join(dir, f.name), f.content);
  for (const [name, text] of Object.entries(extra)) writeFileSync(join(dir, name), text);
  return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

/** Verilator -Wall lint: returns its complaints ('' when clean). */
export function verilatorLint(bundle: RtlBundle): Promise<string> {
  return withFiles(bundle, {}, async (dir) => {
    const r = await execa(
      'verilator',
      ['--lint-only', '-Wall', '--top-module', bundle.top, ...bundle.files.map((f) => f.name)],
      { cwd: dir, reject: false, all: true },
    );
    return r.exitCode === 0 && !r.all ? '' : r.all || `exit ${r.exitCode}`;
  });
}

/** Yosys read + `hierarchy -check; proc; opt`: returns errors/warnings ('' when clean). */
export function yosysRead(bundle: RtlBundle): Promise<string> {
  return withFiles(bundle, {}, async (dir) => {
    const files = bundle.files.map((f) => f.name).join(' ');
    const r = await execa(
      'yosys',
      ['-q', '-p', `read_verilog ${files}; hierarchy -check -top ${bundle.top}; proc; opt`],
      { cwd: dir, reject: false, all: true },
    );
    const problems = (r.all ?? '')
      .split('\n')
      .filter((l) => /error|warning/i.test(l))
      .join('\n');
    return r.exitCode === 0 && !problems ? '' : problems || r.all || `exit ${r.exitCode}`;
  });
}

/** A random weight block with the given mask. */
function randomWeightBlockWithMask(cfg: ResolvedDpu, r: Rng, low: readonly boolean[]): WeightBlock {
  const b = randomWeightBlock(cfg, r);
  const W = cfg.weightBits;
  const codes = low.map((isLow, i) => {
    if (isLow === b.low[i]) return b.codes[i]!;
    if (!isLow) return r.int(-(2 ** (W - 1)), 2 ** (W - 1) - 1);
    return b.codes.find((_, j) => b.low[j]) ?? 0;
  });
  return withLevels(cfg, r, { low: [...low], codes, meta: b.meta });
}

/** pe.mid: the block's first M low positions get legal middle-format codes. */
function withLevels(cfg: ResolvedDpu, r: Rng, b: WeightBlock): WeightBlock {
  const mid = midFormatOf(cfg);
  if (!mid) return b;
  const M = cfg.derived.midLanes;
  const low = formatOf(cfg);
  const draw = (f: { codes: readonly number[] }) => f.codes[r.int(0, f.codes.length - 1)] ?? 0;
  let j = 0;
  const codes = b.codes.map((c, i) => {
    if (!b.low[i]) return c;
    if (j++ < M) return draw(mid);
    return low.codeProblem(c) ? draw(low) : c;
  });
  return { ...b, codes };
}

/** Random legal weight block: static blocks get exactly L low weights, dynamic any number. */
export function randomWeightBlock(cfg: ResolvedDpu, r: Rng): WeightBlock {
  const B = cfg.pe.block;
  let low: boolean[];
  if (cfg.pe.low === 'none') low = new Array(B).fill(false);
  else if (cfg.pe.mode === 'static') {
    const pos = Array.from({ length: B }, (_, i) => i).sort(() => r.float() - 0.5);
    const lows = new Set(pos.slice(0, cfg.derived.lowCount));
    low = Array.from({ length: B }, (_, i) => lows.has(i));
  } else low = Array.from({ length: B }, () => r.float() < 0.5);
  const W = cfg.weightBits;
  const codes = low.map((isLow) => {
    if (!isLow) return r.int(-(2 ** (W - 1)), 2 ** (W - 1) - 1);
    if (cfg.pe.low === 'sparse') return 0;
    for (;;) {
      const c = r.int(0, 2 ** cfg.lowBits - 1);
      if (!lowCodeProblem(cfg, c)) return c;
    }
  });
  const cands = metaCandidates(cfg, 'block');
  return withLevels(cfg, r, { low, codes: sdpLegal(cfg, codes), meta: cands[r.int(0, cands.length - 1)]! });
}

export interface Stimulus {
  readonly cycles: ArrayCycle[];
  /** The format's layer metadata ([] unless per layer). */
  readonly layerMeta: readonly number[];
}

/**
 * Random tiles of 1..4 blocks, with idle cycles (garbage inputs) between and inside them, sometimes none.
 * Masks follow pe.maskScope (a column group shares one, 'layer' has the fixed lane pattern)
 * unless `perPeMasks` (a wrong shared mask / a wrong permutation: the checks must fail).
 */
export function randomStimulus(
  cfg: ResolvedDpu,
  r: Rng,
  tiles: number,
  opts: { perPeMasks?: boolean } = {},
): Stimulus {
  const scope = maskScopeOf(cfg);
  const G = opts.perPeMasks ? 1 : groupChannelsOf(cfg);
  const fixed = !opts.perPeMasks && scope.kind === 'layer';
  const scoped = (blocks: WeightBlock[]) =>
    blocks.map((b, c) => {
      const low = fixed
        ? Array.from({ length: cfg.pe.block }, (_, i) => i >= cfg.pe.high)
        : blocks[c - (c % G)]!.low;
      return low === b.low ? b : { ...randomWeightBlockWithMask(cfg, r, low), meta: b.meta };
    });
  const { rows, cols } = cfg.array;
  const A = cfg.activation.bits;
  const aLo = cfg.activation.signed ? -(2 ** (A - 1)) : 0;
  const aHi = cfg.activation.signed ? 2 ** (A - 1) - 1 : 2 ** A - 1;
  const block = (valid: boolean, clear: boolean, last: boolean): ArrayCycle => ({
    valid,
    clear,
    last,
    act: Array.from({ length: rows }, () => Array.from({ length: cfg.pe.block }, () => r.int(aLo, aHi))),
    wgt: scoped(Array.from({ length: cols }, () => randomWeightBlock(cfg, r))).map((b) =>
      packWeightBlock(cfg, b),
    ),
  });
  const cycles: ArrayCycle[] = [];
  for (let t = 0; t < tiles; t++) {
    const n = r.int(1, 4);
    for (let i = 0; i < n; i++) {
      while (r.float() < 0.2) cycles.push(block(false, r.float() < 0.5, r.float() < 0.5));
      cycles.push(block(true, i === 0, i === n - 1));
    }
  }
  const cands = metaCandidates(cfg, 'layer');
  return { cycles, layerMeta: cands[r.int(0, cands.length - 1)]! };
}

const hex = (v: bigint, bits: number) => v.toString(16).padStart(Math.ceil(bits / 4), '0');
const wordsToBig = (w: Uint32Array) => w.reduceRight((acc, x) => (acc << 32n) | BigInt(x), 0n);

/**
 * Simulate the array with Icarus Verilog on `stim` and compare with the golden model.
 * Returns a list of mismatches ('' entries never; empty list = match).
 */
export async function simulateAgainstGolden(
  cfg: ResolvedDpu,
  bundle: RtlBundle,
  stim: Stimulus,
): Promise<string[]> {
  const { rows, cols } = cfg.array;
  const d = cfg.derived;
  const ACC = cfg.accumulator.bits;
  const actW = rows * d.activationBlockBits;
  const wgtW = cols * d.weightBlockBits;
  const rsel = Math.max(1, Math.ceil(Math.log2(rows)));
  const metaPorts = d.interface.layerMeta
    .map((m, i) => `.${m.port}(${m.field.bits}'d${stim.layerMeta[i] ?? 0}), `)
    .join('');
  const golden = new GoldenArray(cfg, stim.layerMeta);
  const expected: { cycle: number; tile: Float64Array }[] = [];
  stim.cycles.forEach((c, i) => {
    const tile = golden.step(c);
    if (tile) expected.push({ cycle: i + d.latency - 1, tile });
  });
  const ctl = stim.cycles.map((c) => ((c.last ? 4 : 0) | (c.clear ? 2 : 0) | (c.valid ? 1 : 0)).toString(16));
  const act = stim.cycles.map((c) => {
    let v = 0n;
    c.act.forEach((a, r) => {
      v |= wordsToBig(packActivationBlock(cfg, a)) << BigInt(r * d.activationBlockBits);
    });
    return hex(v, actW);
  });
  const wgt = stim.cycles.map((c) => {
    let v = 0n;
    c.wgt.forEach((w, col) => {
      v |= wordsToBig(w as Uint32Array) << BigInt(col * d.weightBlockBits);
    });
    return hex(v, wgtW);
  });
  const N = stim.cycles.length;
  const tb = `\`timescale 1ns/1ps
module tb;
  reg clk = 0, rst = 1, in_valid = 0, in_clear = 0, in_last = 0;
  reg [${actW - 1}:0] in_act = 0;
  reg [${wgtW - 1}:0] in_wgt = 0;
  reg [${rsel - 1}:0] out_row = 0;
  wire out_valid;
  wire [${cols * ACC - 1}:0] out_data;
  reg [2:0] ctl_mem [0:${N - 1}];
  reg [${actW - 1}:0] act_mem [0:${N - 1}];
  reg [${wgtW - 1}:0] wgt_mem [0:${N - 1}];
  integer i, r, fd;
  ${bundle.top} dut (.clk(clk), .rst(rst), .in_valid(in_valid), .in_clear(in_clear), .in_last(in_last),
    .in_act(in_act), .in_wgt(in_wgt), ${metaPorts}
    .out_valid(out_valid), .out_row(out_row), .out_data(out_data));
  always #50 clk = ~clk;
  initial begin
    $readmemh("ctl.hex", ctl_mem);
    $readmemh("act.hex", act_mem);
    $readmemh("wgt.hex", wgt_mem);
    fd = $fopen("out.txt", "w");
    @(negedge clk); @(negedge clk); rst = 0;
    for (i = 0; i < ${N + d.latency + 2}; i = i + 1) begin
      if (i < ${N}) begin
        {in_last, in_clear, in_valid} = ctl_mem[i]; in_act = act_mem[i]; in_wgt = wgt_mem[i];
      end else begin
        in_valid = 0;
      end
      @(posedge clk); #1;
      if (out_valid) begin
        for (r = 0; r < ${2 ** rsel}; r = r + 1) begin
          out_row = r; #1;
          $fwrite(fd, "%0d %0d %h\\n", i, r, out_data);
        end
      end
      @(negedge clk);
    end
    $fclose(fd);
    $finish;
  end
endmodule
`;
  const files = {
    'tb.v': tb,
    'ctl.hex': `${ctl.join('\n')}\n`,
    'act.hex': `${act.join('\n')}\n`,
    'wgt.hex': `${wgt.join('\n')}\n`,
  };
  return withFiles(bundle, files, async (dir) => {
    const sources = ['tb.v', ...bundle.files.map((f) => f.name)];
    const c = await execa('iverilog', ['-g2005', '-o', 'sim.vvp', ...sources], {
      cwd: dir,
      reject: false,
      all: true,
    });
    if (c.exitCode !== 0) return [`iverilog failed: ${c.all}`];
    const s = await execa('vvp', ['-n', 'sim.vvp'], { cwd: dir, reject: false, all: true });
    if (s.exitCode !== 0) return [`vvp failed: ${s.all}`];
    const lines = readFileSync(join(dir, 'out.txt'), 'utf8').trim().split('\n').filter(Boolean);
    const seen = new Map<number, bigint[]>();
    for (const line of lines) {
      const [cyc, row, data] = line.split(' ');
      if (!seen.has(Number(cyc))) seen.set(Number(cyc), []);
      seen.get(Number(cyc))![Number(row)] = BigInt(`0x${data}`);
    }
    const problems: string[] = [];
    const cyclesSeen = [...seen.keys()];
    const cyclesWanted = expected.map((e) => e.cycle);
    if (cyclesSeen.join() !== cyclesWanted.join()) {
      problems.push(`out_valid after cycles [${cyclesSeen}] but tiles end at [${cyclesWanted}]`);
    }
    const mask = (1n << BigInt(ACC)) - 1n;
    for (const e of expected) {
      const got = seen.get(e.cycle);
      if (!got) continue;
      for (let r = 0; r < 2 ** rsel; r++) {
        for (let c = 0; c < cols; c++) {
          const raw = Number((got[r]! >> BigInt(c * ACC)) & mask);
          const value = toSigned(raw, ACC);
          const want = r < rows ? e.tile[r * cols + c]! : 0;
          if (value !== want && problems.length < 10) {
            problems.push(`tile ending cycle ${e.cycle}, PE (${r}, ${c}): got ${value}, want ${want}`);
          }
        }
      }
    }
    return problems;
  });
}

/**
 * The config's RTL with a test-only fault in the PE at (row, col) only: the faulty PE module
 * (renderRtl with `fault`) is added under the name `<pe>_bad` and the array instantiates it at
 * that one position (a generate-if around the PE instance); every other PE is the good one.
 */
export function faultInOnePe(cfg: ResolvedDpu, fault: FaultKind, row: number, col: number): RtlBundle {
  const good = renderRtl(cfg);
  const bad = renderRtl(cfg, { fault });
  const pe = good.pe;
  const goodNames = new Set(good.files.map((f) => f.name));
  const badPe = bad.files.find((f) => f.name === `${pe}.v`)!;
  const extra = [
    ...bad.files.filter((f) => !goodNames.has(f.name)), // the faulty lanes
    {
      name: `${pe}_bad.v`,
      content: badPe.content.replace(new RegExp(`\\bmodule ${pe}\\b`), `module ${pe}_bad`),
    },
  ];
  const arrayName = `${good.top}.v`;
  const files = good.files.flatMap((f) => {
    if (f.name !== arrayName) return [f];
    const instance = new RegExp(`\\b${pe}\\b[^;]*?\\bu_pe\\s*\\([\\s\\S]*?\\);`);
    const m = instance.exec(f.content);
    if (!m) throw new Error(`faultInOnePe: no ${pe} instance in ${arrayName}`);
    const inst = m[0];
    const swapped = inst.replace(new RegExp(`\\b${pe}\\b`), `${pe}_bad`);
    const content = f.content.replace(
      inst,
      `if (r == ${row} && c == ${col}) begin : g_bad\n${swapped}\nend else begin : g_ok\n${inst}\nend`,
    );
    return [...extra, { ...f, content }];
  });
  return { ...good, files, modules: [...good.modules, { name: `${pe}_bad`, role: 'pe' }] };
}
