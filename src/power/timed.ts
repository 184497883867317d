// Glitch-aware activity: the same gate netlist in Icarus with OpenSTA's cell delays (SDF).
// OpenSTA writes the SDF of the synthesized PE; its (min::max) triplets, which Icarus
// ignores, become (max:max:max). The cell models here come from the liberty functions
// (cells.ts) with one specify path per input -> output arc, so the SDF's IOPATHs annotate
// them (the Yosys models used for the zero-delay check have no specify blocks). Slow: for
// a bench or a test-sized run (docs/POWER.md).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StaTool } from '../synth/flow.ts';
import type { Liberty } from '../synth/liberty.ts';
import { LIBERTY_FILE } from '../synth/liberty.ts';
import { runStep } from '../synth/run.ts';
import { type CellLibrary, type Expr, exprVars } from './cells.ts';

export function exprVerilog(e: Expr, ref: (name: string) => string = (n) => n): string {
  switch (e.k) {
    case 'var':
      return ref(e.name);
    case 'const':
      return `1'b${e.v}`;
    case 'not':
      return `(~${exprVerilog(e.a, ref)})`;
    case 'and':
      return `(${exprVerilog(e.a, ref)} & ${exprVerilog(e.b, ref)})`;
    case 'or':
      return `(${exprVerilog(e.a, ref)} | ${exprVerilog(e.b, ref)})`;
    case 'xor':
      return `(${exprVerilog(e.a, ref)} ^ ${exprVerilog(e.b, ref)})`;
  }
}

/** Verilog models of `types` with specify paths (zero delay until an SDF annotates them). */
export function timedCellModels(lib: CellLibrary, types: Iterable<string>): string {
  const out: string[] = [
    '// Cell models for SDF-annotated simulation, from the liberty functions (strumgen).',
    '',
  ];
  for (const t of [...new Set(types)].sort()) {
    const m = lib.cells.get(t);
    if (!m) throw new Error(`cell ${t} has no model`);
    const ins = [...m.inputs.keys()];
    const outs = [...m.outputs.keys()];
    const body: string[] = [];
    const paths: string[] = [];
    const ref = (n: string) => (m.ff && n === m.ff.stateN ? `(~${m.ff.state})` : n);
    if (m.ff) {
      const ff = m.ff;
      body.push(`  reg ${ff.state};`, `  initial ${ff.state} = 1'b0;`);
      let next = exprVerilog(ff.next, ref);
      if (ff.preset) next = `${exprVerilog(ff.preset, ref)} ? 1'b1 : ${next}`;
      if (ff.clear) next = `${exprVerilog(ff.clear, ref)} ? 1'b0 : ${next}`;
      body.push(`  always @(posedge ${ff.clock}) ${ff.state} <= ${next};`);
      for (const o of outs) paths.push(`    (${ff.clock} => ${o}) = 0;`);
    }
    for (const [o, e] of m.outputs) {
      body.push(`  assign ${o} = ${exprVerilog(e, ref)};`);
      for (const v of exprVars(e)) if (m.inputs.has(v)) paths.push(`    (${v} => ${o}) = 0;`);
    }
    out.push(
      `module ${t} (${[...ins, ...outs].join(', ')});`,
      ...ins.map((i) => `  input ${i};`),
      ...outs.map((o) => `  output ${o};`),
      ...body,
      ...(paths.length ? ['  specify', ...paths, '  endspecify'] : []),
      'endmodule',
      '',
    );
  }
  return out.join('\n');
}

/** (min::max) and (a:b:c) delay triplets as (max:max:max): the form Icarus reads. */
export function icarusSdf(text: string): string {
  return text.replace(/\((-?[0-9.]*):(-?[0-9.]*):(-?[0-9.]*)\)/g, (all, a: string, b: string, c: string) => {
    const v = c || b || a;
    return v ? `(${v}:${v}:${v})` : all;
  });
}

/** Write the PE's SDF with OpenSTA into `dir` (as pe.sdf, rewritten for Icarus). */
export async function writeSdf(p: {
  readonly dir: string;
  readonly netlist: string;
  readonly top: string;
  readonly sta: StaTool;
  readonly liberty: Liberty;
  readonly periodNs: number;
  readonly onProgress?: (m: string) => void;
}): Promise<string> {
  writeFileSync(join(p.dir, LIBERTY_FILE), p.liberty.text);
  writeFileSync(
    join(p.dir, 'sdf.tcl'),
    [
      `read_liberty ${LIBERTY_FILE}`,
      `read_verilog ${p.netlist}`,
      `link_design ${p.top}`,
      `create_clock -name clk -period ${p.periodNs} [get_ports clk]`,
      'set_input_delay 0 -clock clk [delete_from_list [all_inputs] [get_ports clk]]',
      'set_output_delay 0 -clock clk [all_outputs]',
      'write_sdf -digits 4 sta.sdf',
      'exit',
      '',
    ].join('\n'),
  );
  await runStep({
    label: `OpenSTA (SDF) on ${p.top}`,
    command: p.sta.path,
    args: ['-no_splash', '-exit', 'sdf.tcl'],
    cwd: p.dir,
    log: 'sdf.log',
    timeoutSeconds: 600,
    failurePattern: /^Error:/m,
    onProgress: p.onProgress,
  });
  const sdf = join(p.dir, 'pe.sdf');
  writeFileSync(sdf, icarusSdf(readFileSync(join(p.dir, 'sta.sdf'), 'utf8')));
  return sdf;
}
