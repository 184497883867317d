// The Yosys and OpenSTA scripts of the flow. Kept as plain text builders so the exact
// script goes into the cache key, the report and the output directory.
import { LIBERTY_FILE } from './liberty.ts';

/**
 * hier: keep every module boundary (per-module area, no cross-boundary optimisation);
 * flat: flatten the design into one module (the PE as a unit; its area is the headline);
 * array: flatten everything but keep `keep` (the PE) as one module, synthesized once.
 */
export type SynthKind = 'hier' | 'flat' | 'array';

export interface YosysScriptParams {
  readonly kind: SynthKind;
  readonly top: string;
  readonly files: readonly string[];
  /** `synth -booth`: Booth-encoded multipliers (Yosys >= 0.39). */
  readonly booth: boolean;
  /** Module kept as a unit in an 'array' run. */
  readonly keep?: string;
}

export const STAT_JSON = 'stat.json';
export const STAT_TEXT = 'stat.txt';
export const NETLIST = 'netlist.v';

export function yosysScript(p: YosysScriptParams): string {
  const lib = LIBERTY_FILE;
  const flags = [p.kind === 'hier' ? '' : ' -flatten', p.booth ? ' -booth' : ''].join('');
  const lines = [
    `# strumgen synthesis (${p.kind}) of ${p.top}`,
    `read_verilog -sv ${p.files.join(' ')}`,
    `hierarchy -check -top ${p.top}`,
  ];
  if (p.kind === 'array') {
    if (!p.keep) throw new Error('an array run needs the module to keep');
    lines.push(`setattr -mod -set keep_hierarchy 1 ${p.keep}`);
  }
  lines.push(
    `synth -top ${p.top}${flags}`,
    // Newer Yosys leaves $scopeinfo cells after flattening; they have no area and no liberty cell.
    'delete t:$scopeinfo',
    `dfflibmap -liberty ${lib}`,
    `abc -liberty ${lib}`,
    'opt_clean -purge',
    `tee -q -o ${STAT_JSON} stat -json`,
    `tee -q -o ${STAT_TEXT} stat -liberty ${lib}`,
  );
  // The netlist OpenSTA reads: no undriven bits, bit-level nets and ports, no expressions.
  lines.push('setundef -zero', 'splitnets -ports', `write_verilog -noattr -noexpr -nohex -nodec ${NETLIST}`);
  return `${lines.join('\n')}\n`;
}

export interface StaScriptParams {
  readonly top: string;
  readonly netlist: string;
  readonly clockPort: string;
  /** Nominal clock period; fmax comes from the slack against it. */
  readonly periodNs: number;
  /** Default switching activity for report_power (toggles per clock). */
  readonly activity: number;
}

export function staScript(p: StaScriptParams): string {
  return [
    `# strumgen timing of ${p.top}`,
    `read_liberty ${LIBERTY_FILE}`,
    `read_verilog ${p.netlist}`,
    `link_design ${p.top}`,
    `create_clock -name clk -period ${p.periodNs} [get_ports ${p.clockPort}]`,
    `set_input_delay 0 -clock clk [delete_from_list [all_inputs] [get_ports ${p.clockPort}]]`,
    'set_output_delay 0 -clock clk [all_outputs]',
    'report_checks -path_delay max -format full -digits 4',
    `set_power_activity -global -activity ${p.activity}`,
    'report_power -digits 6',
    'exit',
    '',
  ].join('\n');
}
