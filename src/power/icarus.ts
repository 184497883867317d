// An independent reference for the gate simulator: the same netlist in Icarus Verilog with
// cell models Yosys writes from the liberty (`read_liberty` without -lib, `write_verilog`),
// its VCD streamed line by line (never held in memory) into toggle counts per cell output
// pin. Zero delay here checks gatesim.ts toggle for toggle (test/power.test.ts); with an SDF
// it gives glitch-aware activity (docs/POWER.md).
import { createReadStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { requireTool } from '../config/toolchain.ts';
import { cacheCommit, cacheKey, cacheLookup, MANIFEST } from '../synth/cache.ts';
import type { Liberty } from '../synth/liberty.ts';
import { LIBERTY_FILE } from '../synth/liberty.ts';
import { runStep } from '../synth/run.ts';
import { TSX_IMPORT, type YosysImpl, yosysCommand } from '../synth/yosys.ts';

/** Behavioural Verilog models of the liberty's cells, cached per liberty sha256. */
export async function cellModels(
  liberty: Liberty,
  yosys: YosysImpl,
  cacheDir: string,
  onProgress: (m: string) => void = () => {},
): Promise<string> {
  const script = `read_liberty ${LIBERTY_FILE}\nwrite_verilog -noattr cells.v\n`;
  const { text, key } = cacheKey({ cells: 1, liberty: liberty.sha256, yosys, script });
  const dir = join(cacheDir, 'cells', key);
  if (cacheLookup(dir, text, ['cells.v'])) return join(dir, 'cells.v');
  const work = `${dir}.work-${process.pid}`;
  mkdirSync(work, { recursive: true });
  writeFileSync(join(work, LIBERTY_FILE), liberty.text);
  writeFileSync(join(work, 'cells.ys'), script);
  const cmd = yosysCommand(yosys);
  await runStep({
    label: `Yosys cell models of ${liberty.name}`,
    command: cmd.command,
    args: [...cmd.args, '-q', '-s', 'cells.ys'],
    cwd: work,
    log: 'yosys.log',
    timeoutSeconds: 300,
    node: cmd.node,
    nodeOptions: TSX_IMPORT,
    onProgress,
  });
  writeFileSync(join(work, MANIFEST), text);
  cacheCommit(work, dir);
  return join(dir, 'cells.v');
}

export interface IcarusRun {
  /** 'path/pin' of a cell output -> toggles in the counted window. */
  readonly toggles: Map<string, number>;
  readonly vcdBytes: number;
  readonly seconds: number;
}

/**
 * Simulate `top` in Icarus with one input vector per cycle (bit i of a vector drives
 * inputBits[i]). Inputs change at the rising edge, with the flip-flops, so a zero-delay
 * net changes at most once per cycle. Toggles are counted from cycle `from` on, for
 * the cell output pins named in `outputs` ('u_acc/_712_/Q').
 */
export async function icarusToggles(p: {
  readonly dir: string;
  readonly netlist: string;
  readonly cells: string;
  readonly top: string;
  readonly clock: string;
  readonly inputBits: readonly string[];
  readonly vectors: readonly Uint8Array[];
  readonly from: number;
  readonly outputs: ReadonlySet<string>;
  readonly periodNs?: number;
  readonly sdf?: string;
  /** Output port bits to sample at the end of every cycle (LSB first); hex per cycle in `samples`. */
  readonly sampleBits?: readonly string[];
  readonly onProgress?: (m: string) => void;
}): Promise<IcarusRun & { samples: string[] }> {
  const start = performance.now();
  const period = p.periodNs ?? 10;
  const W = p.inputBits.length;
  // One hex word per vector, bit W-1 first.
  const hex = p.vectors.map((v) => {
    let bits = '';
    for (let i = W - 1; i >= 0; i--) bits += v[i]! & 1;
    bits = bits.padStart(Math.ceil(W / 4) * 4, '0');
    let out = '';
    for (let i = 0; i < bits.length; i += 4) out += Number.parseInt(bits.slice(i, i + 4), 2).toString(16);
    return out;
  });
  writeFileSync(join(p.dir, 'vectors.hex'), `${hex.join('\n')}\n`);
  const esc = (n: string) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(n) ? n : `\\${n} `);
  const S = p.sampleBits?.length ?? 0;
  const conns = [
    `.${esc(p.clock)}(clk)`,
    ...p.inputBits.map((b, i) => `.${esc(b)}(in[${i}])`),
    ...(p.sampleBits ?? []).map((b, i) => `.${esc(b)}(res[${i}])`),
  ];
  const tb = [
    '`timescale 1ns/1ps',
    'module strumgen_tb;',
    "  reg clk = 1'b0;",
    `  reg [${W - 1}:0] vec [0:${p.vectors.length - 1}];`,
    `  reg [${W - 1}:0] in;`,
    '  integer i, fd;',
    ...(S ? [`  wire [${S - 1}:0] res;`] : []),
    `  ${p.top} dut (${conns.join(', ')});`,
    '  initial begin',
    '    $readmemh("vectors.hex", vec);',
    ...(p.sdf ? [`    $sdf_annotate("${p.sdf}", dut);`] : []),
    '    in = vec[0];',
    '    $dumpfile("run.vcd");',
    '    $dumpvars(0, dut);',
    '    fd = $fopen("samples.txt", "w");',
    `    for (i = 1; i < ${p.vectors.length}; i = i + 1) begin`,
    `      #${period / 2};`,
    // The settled outputs of cycle i-1, just before the edge that ends it.
    ...(S ? ['      $fwrite(fd, "%h\\n", res);'] : []),
    "      clk = 1'b1;",
    '      in <= vec[i];',
    `      #${period / 2} clk = 1'b0;`,
    '    end',
    `    #${period / 2};`,
    ...(S ? ['    $fwrite(fd, "%h\\n", res);'] : []),
    '    $fclose(fd);',
    '    $finish;',
    '  end',
    'endmodule',
    '',
  ].join('\n');
  writeFileSync(join(p.dir, 'tb.v'), tb);
  const iverilog = requireTool('iverilog');
  await runStep({
    label: 'iverilog',
    command: iverilog,
    args: ['-g2005', ...(p.sdf ? ['-gspecify'] : []), '-o', 'sim.vvp', 'tb.v', p.netlist, p.cells],
    cwd: p.dir,
    log: 'iverilog.log',
    timeoutSeconds: 600,
    onProgress: p.onProgress,
  });
  await runStep({
    label: 'vvp',
    command: join(iverilog, '..', 'vvp'),
    args: ['-n', 'sim.vvp'],
    cwd: p.dir,
    log: 'vvp.log',
    timeoutSeconds: 3600,
    onProgress: p.onProgress,
  });
  const vcd = join(p.dir, 'run.vcd');
  if (!existsSync(vcd)) throw new Error(`Icarus wrote no VCD in ${p.dir}`);
  // Counting starts at the rising edge that begins cycle `from`.
  const fromTime = p.from === 0 ? 0 : (p.from - 1) * period + period / 2;
  const r = await countVcdToggles(vcd, p.outputs, fromTime, 'strumgen_tb/dut');
  const samples = S
    ? readFileSync(join(p.dir, 'samples.txt'), 'utf8')
        .split('\n')
        .filter((l) => l.length > 0)
    : [];
  return { ...r, samples, seconds: (performance.now() - start) / 1000 };
}

/**
 * Stream a VCD and count, per wanted signal ('scope/.../name' below `root`), the changes
 * of its settled value from one time step to the next, for steps at or after `fromTime`
 * (units of the VCD timescale are converted from ns).
 */
export async function countVcdToggles(
  file: string,
  wanted: ReadonlySet<string>,
  fromTimeNs: number,
  root: string,
): Promise<{ toggles: Map<string, number>; vcdBytes: number }> {
  const ids = new Map<string, number>();
  const aliases = new Map<string, number>();
  const scope: string[] = [];
  let unitNs = 1;
  let inHeader = true;
  let cur: string[] = [];
  let committed: string[] = [];
  let counts = new Float64Array(0);
  const changed = new Set<number>();
  let time = 0;
  let counting = false;
  let bytes = 0;
  let pendingTimescale = false;
  const flush = () => {
    if (counting) {
      for (const k of changed) if (cur[k] !== committed[k]) counts[k]!++;
    }
    for (const k of changed) committed[k] = cur[k]!;
    changed.clear();
  };
  const rl = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const line of rl) {
    bytes += line.length + 1;
    if (inHeader) {
      const t = line.trim();
      if (pendingTimescale && t) {
        unitNs = timescaleNs(t);
        pendingTimescale = false;
      }
      if (t.startsWith('$timescale')) {
        const rest = t.replace('$timescale', '').replace('$end', '').trim();
        if (rest) unitNs = timescaleNs(rest);
        else pendingTimescale = true;
      } else if (t.startsWith('$scope')) scope.push(t.split(/\s+/)[2]!);
      else if (t.startsWith('$upscope')) scope.pop();
      else if (t.startsWith('$var')) {
        const f = t.split(/\s+/);
        const id = f[3]!;
        const name = f[4]!;
        const path = [...scope, name].join('/');
        if (!path.startsWith(`${root}/`)) continue;
        const key = path.slice(root.length + 1).replace(/\\/g, '');
        if (!wanted.has(key) || Number(f[2]) !== 1) continue;
        // Aliased signals share one code: every name keeps the code's counter.
        let k = ids.get(id);
        if (k === undefined) {
          k = ids.size;
          ids.set(id, k);
        }
        aliases.set(key, k);
      } else if (t.startsWith('$enddefinitions')) {
        inHeader = false;
        cur = new Array(ids.size).fill('x');
        committed = new Array(ids.size).fill('x');
        counts = new Float64Array(ids.size);
      }
      continue;
    }
    const c = line[0];
    if (c === '#') {
      flush();
      time = Number(line.slice(1)) * unitNs;
      if (!counting && time >= fromTimeNs) counting = true;
    } else if (c === '0' || c === '1' || c === 'x' || c === 'z' || c === 'X' || c === 'Z') {
      const k = ids.get(line.slice(1).trim());
      if (k !== undefined) {
        cur[k] = c.toLowerCase();
        changed.add(k);
      }
    }
    // Vector values (b...), $dumpvars etc. carry no one-bit cell pins.
  }
  flush();
  const toggles = new Map<string, number>();
  for (const [key, k] of aliases) toggles.set(key, counts[k]!);
  return { toggles, vcdBytes: bytes };
}

function timescaleNs(t: string): number {
  const m = /^([0-9]+)\s*(s|ms|us|ns|ps|fs)/.exec(t.trim());
  if (!m) return 1;
  const unit: Record<string, number> = { s: 1e9, ms: 1e6, us: 1e3, ns: 1, ps: 1e-3, fs: 1e-6 };
  return Number(m[1]) * unit[m[2]!]!;
}
