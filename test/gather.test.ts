// The library gather (templates/lib/strum_gather.v) against its contract, under Icarus: every
// MODE (whole; decode feeding mux), both select polarities, with and without the rest slots,
// random selections of every size (fewer and more than K selected included).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { Rng } from '../src/io/rng.ts';
import { LIB, libraryText } from '../src/rtl/library.ts';

interface Shape {
  readonly N: number;
  readonly K: number;
  readonly D: number;
  readonly POL: 0 | 1;
  readonly REST: 0 | 1;
}

/** The contract: slot j takes the j-th selected item if it lies in j..j+N-K (else 0); rest slot r the r-th unselected one in r..r+K. */
function model(s: Shape, sel: boolean[], data: bigint[]): { hot: boolean[]; out: bigint[] } {
  const R = s.N - s.K;
  const picked: number[] = [];
  const other: number[] = [];
  sel.forEach((b, i) => {
    (b === (s.POL === 1) ? picked : other).push(i);
  });
  const hot: boolean[] = [];
  const out: bigint[] = [];
  const slots = (positions: number[], count: number, span: number) => {
    for (let j = 0; j < count; j++) {
      const p = positions[j];
      const inRange = p !== undefined && p - j <= span;
      for (let d = 0; d <= span; d++) hot.push(inRange && p === j + d);
      out.push(inRange ? data[p]! : 0n);
    }
  };
  slots(picked, s.K, R);
  if (s.REST) slots(other, R, s.K);
  return { hot, out };
}

const bits = (xs: boolean[]) => xs.reduce((acc, b, i) => acc | (BigInt(b) << BigInt(i)), 0n);
const pack = (xs: bigint[], w: number) => xs.reduce((acc, x, i) => acc | (x << BigInt(i * w)), 0n);

async function underIcarus(s: Shape, cases: { sel: boolean[]; data: bigint[] }[]) {
  const R = s.N - s.K;
  const HW = s.K * (R + 1) + (s.REST ? R * (s.K + 1) : 0);
  const OW = (s.REST ? s.N : s.K) * s.D;
  const p = `.N(${s.N}), .K(${s.K}), .D(${s.D}), .POL(${s.POL}), .REST(${s.REST})`;
  const dir = mkdtempSync(join(tmpdir(), 'gather-'));
  try {
    const hex = cases.map((c) => `${bits(c.sel).toString(16)} ${pack(c.data, s.D).toString(16)}`);
    writeFileSync(join(dir, 'sel.hex'), `${hex.map((h) => h.split(' ')[0]).join('\n')}\n`);
    writeFileSync(join(dir, 'data.hex'), `${hex.map((h) => h.split(' ')[1]).join('\n')}\n`);
    writeFileSync(join(dir, 'strum_gather.v'), libraryText(LIB.gather));
    writeFileSync(
      join(dir, 'tb.v'),
      `module tb;
  reg [${s.N - 1}:0] sm [0:${cases.length - 1}];
  reg [${s.N * s.D - 1}:0] dm [0:${cases.length - 1}];
  reg [${s.N - 1}:0] sel;
  reg [${s.N * s.D - 1}:0] data;
  wire [${HW - 1}:0] hot, hot0, hot2;
  wire [${OW - 1}:0] out, out1, out2;
  integer i;
  strum_gather #(${p}, .MODE(0)) whole (.sel(sel), .data(data), .hot_in({${HW}{1'b0}}), .hot(hot0), .out(out));
  strum_gather #(${p}, .MODE(1)) dec (.sel(sel), .data({${s.N * s.D}{1'b0}}), .hot_in({${HW}{1'b0}}), .hot(hot), .out(out1));
  strum_gather #(${p}, .MODE(2)) mux (.sel({${s.N}{1'b0}}), .data(data), .hot_in(hot), .hot(hot2), .out(out2));
  initial begin
    $readmemh("sel.hex", sm);
    $readmemh("data.hex", dm);
    for (i = 0; i < ${cases.length}; i = i + 1) begin
      sel = sm[i];
      data = dm[i];
      #1 $display("%h %h %h %h %h %h", hot, out, out2, hot0, out1, hot2);
    end
    $finish;
  end
endmodule
`,
    );
    await execa('iverilog', ['-g2005', '-o', 'tb.vvp', 'strum_gather.v', 'tb.v'], { cwd: dir });
    const run = await execa('vvp', ['-n', 'tb.vvp'], { cwd: dir });
    return run.stdout
      .split('\n')
      .filter((l) => /^[0-9a-fx]+( [0-9a-fx]+){5}$/.test(l))
      .map((l) => l.split(' ').map((h) => (/x/.test(h) ? -1n : BigInt(`0x${h}`))));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('strum_gather (Icarus)', () => {
  const shapes: Shape[] = [
    { N: 16, K: 8, D: 8, POL: 0, REST: 1 }, // the static StruM router at B = 16
    { N: 16, K: 8, D: 8, POL: 0, REST: 0 }, // the N:M sparse router
    { N: 8, K: 3, D: 14, POL: 1, REST: 0 }, // the SDP group's part gather (G = 4, K = 3)
    { N: 2, K: 1, D: 5, POL: 1, REST: 1 }, // a one-bit prefix count
    { N: 5, K: 5, D: 3, POL: 1, REST: 0 }, // K = N: one candidate per slot
  ];
  it(`every MODE matches the contract, decode feeding mux (${shapes.length} shapes x 300 selections)`, async () => {
    for (const s of shapes) {
      const r = new Rng(s.N * 131 + s.K * 7 + s.POL * 3 + s.REST);
      const cases = Array.from({ length: 300 }, (_, n) => {
        // Every number of selected items, exactly K (the routers' case) most often.
        const target = n % 3 === 0 ? r.int(0, s.N) : s.POL ? s.K : s.N - s.K;
        const order = Array.from({ length: s.N }, (_, i) => i).sort(() => r.float() - 0.5);
        const sel = Array.from({ length: s.N }, (_, i) => order.indexOf(i) < target);
        const data = Array.from({ length: s.N }, () => BigInt(r.int(0, 2 ** s.D - 1)));
        return { sel, data };
      });
      const got = await underIcarus(s, cases);
      expect(got, `${JSON.stringify(s)}`).toHaveLength(cases.length);
      got.forEach(([hot, out, out2, hot0, out1, hot2], n) => {
        const want = model(s, cases[n]!.sel, cases[n]!.data);
        const where = `${JSON.stringify(s)} case ${n}`;
        expect(hot, where).toBe(bits(want.hot));
        expect(out, where).toBe(pack(want.out, s.D));
        expect(out2, where).toBe(pack(want.out, s.D));
        // The ports a MODE does not drive are 0.
        expect([hot0, out1, hot2], where).toEqual([0n, 0n, 0n]);
      });
    }
  });
});
