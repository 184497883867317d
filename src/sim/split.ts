// Build mode 'pe-models' (src/sim/build.ts): the array RTL is verilated with every PE module
// replaced by a small stub, and each PE position is served by its own instance of a
// separately verilated PE model. The PE's code is compiled once, and Verilator no longer
// scopes, orders and optimises the whole PE once per instance (the reason the 'pe-module'
// build still grows with rows x cols). The array's own RTL (broadcast wiring, control
// pipeline, result read-out) is simulated as generated; only the PE instances are swapped.
//
// Timing: the PE's outputs must be registered (no path from an input to an output inside the
// PE; the glue checks this on every cycle of one PE and stops if it is violated). At each
// rising clock edge the stub makes one DPI call with its inputs (their values before the
// edge): the PE model latches them in input registers of a host module (a 'load' edge, so
// the PE's combinational datapath is evaluated once per cycle, not on every eval()), is
// clocked, and returns its outputs, which the stub registers as the PE would.
import type { RtlBundle } from '../rtl/index.ts';

export interface PePort {
  readonly name: string;
  readonly dir: 'input' | 'output';
}

export interface PeKind {
  /** The PE module's name (e.g. strum_mip2q_pe, or a test's strum_mip2q_pe_bad). */
  readonly module: string;
  /** The Verilator prefix of its model (Vpe0, Vpe1, ...). */
  readonly prefix: string;
  readonly ports: readonly PePort[];
}

/** The module's header: `module NAME #(...) (...);` as written, with where its port list opens. */
function moduleHeader(
  text: string,
  module: string,
): { header: string; start: number; end: number; open: number } {
  const m = new RegExp(`\\bmodule\\s+${module}\\b`).exec(text);
  if (!m) throw new Error(`sim pe-models: module ${module} not found`);
  let i = m.index + m[0].length;
  const skipSpace = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const skipParens = () => {
    let depth = 0;
    for (; i < text.length; i++) {
      if (text[i] === '(') depth++;
      else if (text[i] === ')' && --depth === 0) {
        i++;
        return;
      }
    }
    throw new Error(`sim pe-models: unbalanced parentheses in the header of ${module}`);
  };
  skipSpace();
  if (text[i] === '#') {
    i++;
    skipSpace();
    skipParens();
    skipSpace();
  }
  if (text[i] !== '(') throw new Error(`sim pe-models: ${module} has no ANSI port list`);
  const open = i + 1;
  skipParens();
  skipSpace();
  if (text[i] !== ';') throw new Error(`sim pe-models: ${module}'s header does not end with ';'`);
  const end = i + 1;
  return { header: text.slice(m.index, end), start: m.index, end, open: open - m.index };
}

/** The module's ports (ANSI declarations, one name each), in order. */
export function modulePorts(text: string, module: string): PePort[] {
  const { header, open } = moduleHeader(text, module);
  const ports = [
    ...header
      .slice(open)
      .matchAll(
        /\b(input|output|inout)\b(?:\s+(?:wire|reg|logic|signed|unsigned))*\s*(?:\[[^\]]*\]\s*)?(\w+)/g,
      ),
  ].map((m) => {
    if (m[1] === 'inout') throw new Error(`sim pe-models: ${module} has an inout port (${m[2]})`);
    return { name: m[2]!, dir: m[1] as 'input' | 'output' };
  });
  if (!ports.some((p) => p.name === 'clk' && p.dir === 'input'))
    throw new Error(`sim pe-models: ${module} has no clk input`);
  if (!ports.some((p) => p.dir === 'output')) throw new Error(`sim pe-models: ${module} has no output`);
  return ports;
}

/** The header with `output reg` made `output` (the stub and host drive outputs by assign). */
const plainHeader = (header: string) => header.replace(/\boutput(\s+)reg\b/g, 'output$1wire');

const dataInputs = (k: PeKind) => k.ports.filter((p) => p.dir === 'input' && p.name !== 'clk');
const outputs = (k: PeKind) => k.ports.filter((p) => p.dir === 'output');

/** A ranged `bit` is an svBitVecVal array in C for every width, 1 included (an unranged one would be svBit). */
const dpiBits = (p: PePort) => `bit [$bits(${p.name})-1:0]`;

/**
 * The stub that replaces the PE module in the array: the PE's own header (same name, ports,
 * parameters), a body that at each rising edge hands its inputs to a PE model, which is loaded
 * and clocked in one DPI call, and registers the outputs it returns.
 */
export function peStub(text: string, kind: PeKind): { name: string; content: string } {
  const { header } = moduleHeader(text, kind.module);
  const f = kind.module;
  const ins = dataInputs(kind);
  const outs = outputs(kind);
  const lines = [
    `// strumgen co-simulation stub of ${f} (build mode pe-models, src/sim/split.ts): not the design.`,
    `/* verilator lint_off DECLFILENAME */`,
    plainHeader(header),
    `  import "DPI-C" function int strumpe_${f}_new();`,
    `  import "DPI-C" function void strumpe_${f}_step(input int id, ${[
      ...ins.map((p) => `input ${dpiBits(p)} d_${p.name}`),
      ...outs.map((p) => `output ${dpiBits(p)} q_${p.name}`),
    ].join(', ')});`,
    `  integer strum_id;`,
    `  initial strum_id = strumpe_${f}_new();`,
    ...outs.flatMap((p) => [
      `  reg [$bits(${p.name})-1:0] strum_n_${p.name};`,
      `  reg [$bits(${p.name})-1:0] strum_q_${p.name};`,
    ]),
    // The inputs read here are their values before this edge (every register of the array
    // updates after all posedge blocks ran), as the PE's own registers would sample them.
    `  always @(posedge clk) begin`,
    `    strumpe_${f}_step(strum_id, ${[...ins.map((p) => p.name), ...outs.map((p) => `strum_n_${p.name}`)].join(', ')});`,
    ...outs.map((p) => `    strum_q_${p.name} <= strum_n_${p.name};`),
    `  end`,
    ...outs.map((p) => `  assign ${p.name} = strum_q_${p.name};`),
    `endmodule`,
    '',
  ];
  return { name: `${f}.v`, content: lines.join('\n') };
}

/**
 * The PE model's top: the PE's header renamed `<pe>_host` with a `strum_load` clock added;
 * the PE's inputs pass through registers loaded on strum_load (so Verilator evaluates the
 * PE's datapath once per load, not on every eval()); outputs come straight from the PE.
 */
export function peHost(text: string, kind: PeKind): { name: string; content: string } {
  const { header, open } = moduleHeader(text, kind.module);
  const host = `${kind.module}_host`;
  const renamed = plainHeader(`${header.slice(0, open)}\n  input strum_load,${header.slice(open)}`).replace(
    new RegExp(`\\bmodule\\s+${kind.module}\\b`),
    `module ${host}`,
  );
  const ins = dataInputs(kind);
  const lines = [
    `// strumgen co-simulation host of ${kind.module} (build mode pe-models, src/sim/split.ts): not the design.`,
    `/* verilator lint_off DECLFILENAME */`,
    renamed,
    ...ins.map((p) => `  reg [$bits(${p.name})-1:0] strum_d_${p.name};`),
    `  always @(posedge strum_load) begin`,
    ...ins.map((p) => `    strum_d_${p.name} <= ${p.name};`),
    `  end`,
    `  ${kind.module} u_pe (`,
    kind.ports
      .map((p) => `    .${p.name}(${p.dir === 'input' && p.name !== 'clk' ? `strum_d_${p.name}` : p.name})`)
      .join(',\n'),
    `  );`,
    `endmodule`,
    '',
  ];
  return { name: `${host}.v`, content: lines.join('\n') };
}

/** The C++ side: one PE model per stub instance, created by strumpe_<pe>_new, loaded and clocked by strumpe_<pe>_step. */
export function peGlue(kinds: readonly PeKind[]): string {
  const out = [
    '// strumgen co-simulation glue (build mode pe-models, generated by src/sim/split.ts).',
    '// The array code around it is compiled at -O0; this runs for every PE on every cycle.',
    '#pragma GCC optimize("O2")',
    '#include <cstdint>',
    '#include <cstdio>',
    '#include <cstdlib>',
    '#include <cstring>',
    '#include <memory>',
    '#include <string>',
    '#include <vector>',
    '#include "svdpi.h"',
    '#include "Vdut__Dpi.h"',
    ...kinds.map((k) => `#include "${k.prefix}.h"`),
    '',
    'namespace {',
    'template <std::size_t N>',
    'void peSet(VlWide<N>& p, const svBitVecVal* w) { std::memcpy(p.data(), w, N * sizeof(uint32_t)); }',
    'void peSet(QData& p, const svBitVecVal* w) { p = (QData)w[0] | ((QData)w[1] << 32); }',
    'void peSet(IData& p, const svBitVecVal* w) { p = w[0]; }',
    'void peSet(SData& p, const svBitVecVal* w) { p = (SData)w[0]; }',
    'void peSet(CData& p, const svBitVecVal* w) { p = (CData)w[0]; }',
    'template <std::size_t N>',
    'void peGet(const VlWide<N>& p, svBitVecVal* w) { std::memcpy(w, p.data(), N * sizeof(uint32_t)); }',
    'void peGet(QData p, svBitVecVal* w) { w[0] = (uint32_t)p; w[1] = (uint32_t)(p >> 32); }',
    'void peGet(IData p, svBitVecVal* w) { w[0] = p; }',
    'void peGet(SData p, svBitVecVal* w) { w[0] = p; }',
    'void peGet(CData p, svBitVecVal* w) { w[0] = p; }',
    '// All PE models share one context; each has its own name.',
    'VerilatedContext* peContext() {',
    '  static VerilatedContext* ctx = new VerilatedContext;',
    '  return ctx;',
    '}',
    '[[noreturn]] void combinational(const char* pe) {',
    '  std::fprintf(stderr, "strumsim: %s has an output that follows an input within a cycle; build mode pe-models needs registered PE outputs (use pe-module)\\n", pe);',
    '  std::exit(2);',
    '}',
  ];
  for (const k of kinds) {
    const M = k.prefix;
    const ins = dataInputs(k);
    const outs = outputs(k);
    out.push(
      `std::vector<std::unique_ptr<${M}>> ${M}_models;`,
      `// Outputs of model 0 after its last clock: they must not change when only its inputs are loaded.`,
      `std::vector<uint32_t> ${M}_seen;`,
      '}  // namespace',
      '',
      `int strumpe_${k.module}_new() {`,
      `  const std::string name = "${k.module}_" + std::to_string(${M}_models.size());`,
      `  ${M}_models.emplace_back(new ${M}{peContext(), name.c_str()});`,
      `  return (int)${M}_models.size() - 1;`,
      '}',
      '',
      `void strumpe_${k.module}_step(int id, ${[...ins.map((p) => `const svBitVecVal* ${p.name}`), ...outs.map((p) => `svBitVecVal* ${p.name}`)].join(', ')}) {`,
      `  ${M}& m = *${M}_models[id];`,
      ...ins.map((p) => `  peSet(m.${p.name}, ${p.name});`),
      "  // Load the inputs into the host's input registers, so the datapath settles once.",
      '  m.strum_load = 1;',
      '  m.clk = 0;',
      '  m.eval();',
      '  m.strum_load = 0;',
      `  if (id == 0 && !${M}_seen.empty()) {`,
      '    uint32_t w[64];',
      ...outs.map(
        (p, i) =>
          `    std::memset(w, 0, sizeof w); peGet(m.${p.name}, w); if (std::memcmp(w, &${M}_seen[${i * 64}], sizeof w)) combinational("${k.module}");`,
      ),
      '  }',
      '  m.clk = 1;',
      '  m.eval();',
      '  m.clk = 0;',
      ...outs.map((p) => `  peGet(m.${p.name}, ${p.name});`),
      '  if (id == 0) {',
      `    ${M}_seen.resize(${outs.length * 64});`,
      `    std::memset(${M}_seen.data(), 0, ${outs.length * 64} * sizeof(uint32_t));`,
      ...outs.map((p, i) => `    peGet(m.${p.name}, &${M}_seen[${i * 64}]);`),
      '  }',
      '}',
      '',
      'namespace {',
    );
  }
  out.push('}  // namespace', '');
  return out.join('\n');
}

/** The PE modules the array instantiates (role 'pe'), each with its ports and model prefix. */
export function peKinds(bundle: RtlBundle): PeKind[] {
  const names = bundle.modules.filter((m) => m.role === 'pe').map((m) => m.name);
  if (!names.includes(bundle.pe)) names.unshift(bundle.pe);
  return names.map((module, i) => {
    const file = bundle.files.find((f) => new RegExp(`\\bmodule\\s+${module}\\b`).test(f.content));
    if (!file) throw new Error(`sim pe-models: no file defines ${module}`);
    return { module, prefix: `Vpe${i}`, ports: modulePorts(file.content, module) };
  });
}
