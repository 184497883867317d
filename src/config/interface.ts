// The array's port contract (derived.interface): every top-level port with its width and
// meaning, defined once. The RTL's array module, PORTS.md, the co-simulation wrapper, the
// C++ harness (through the wrapper and its record layout), the stimulus writer and the
// checker all read it; none of them derives a width again.
import { bitsFor } from '../format/bits.ts';
import type { MetaField } from '../format/spec.ts';

export type PortRole =
  | 'clock'
  | 'reset'
  | 'valid'
  | 'clear'
  | 'last'
  | 'act'
  | 'wgt'
  | 'meta'
  | 'out_valid'
  | 'out_row'
  | 'out_data';

export interface PortSpec {
  readonly name: string;
  readonly dir: 'in' | 'out';
  readonly bits: number;
  readonly role: PortRole;
  readonly meaning: string;
}

/** One layer-scope metadata port: the field, its port, and its bits in the harness's meta image. */
export interface MetaPort {
  readonly field: MetaField;
  readonly port: string;
  /** Offset of the value in the concatenated layer-metadata image (first field at bit 0). */
  readonly offset: number;
}

export interface ArrayInterface {
  /** Every port in declaration order. */
  readonly ports: readonly PortSpec[];
  /** in_act: rows x activation block. */
  readonly actBits: number;
  /** in_wgt: cols x weight block. */
  readonly wgtBits: number;
  /** out_row: selects a result row (at least 1 bit). */
  readonly outRowBits: number;
  /** out_data: cols x accumulator. */
  readonly outBits: number;
  /** The format's layer-scope metadata ports (e.g. in_shift for DLIQ per layer). */
  readonly layerMeta: readonly MetaPort[];
  /** Total bits of the layer metadata (the harness carries them in control-word bits 8..31). */
  readonly layerMetaBits: number;
}

/** Most layer-metadata bits the harness record carries (control word bits 8..31). */
export const MAX_LAYER_META_BITS = 24;

export interface InterfaceParams {
  readonly rows: number;
  readonly cols: number;
  readonly activationBits: number;
  readonly activationBlockBits: number;
  readonly weightBlockBits: number;
  readonly accumulatorBits: number;
  readonly latency: number;
  readonly meta: readonly MetaField[];
}

export function arrayInterface(p: InterfaceParams): ArrayInterface {
  const { rows: R, cols: C, activationBlockBits: abb, weightBlockBits: wbb, accumulatorBits: ACC } = p;
  let offset = 0;
  const layerMeta = p.meta
    .filter((m) => m.scope === 'layer')
    .map((field) => {
      const port = { field, port: `in_${field.name}`, offset };
      offset += field.bits;
      return port;
    });
  const outRowBits = Math.max(1, bitsFor(R - 1));
  const ports: PortSpec[] = [
    { name: 'clk', dir: 'in', bits: 1, role: 'clock', meaning: 'clock, rising edge' },
    {
      name: 'rst',
      dir: 'in',
      bits: 1,
      role: 'reset',
      meaning: 'synchronous, active high: clears accumulators, result registers, valid pipeline',
    },
    {
      name: 'in_valid',
      dir: 'in',
      bits: 1,
      role: 'valid',
      meaning: 'this cycle carries a block for every row and column',
    },
    {
      name: 'in_clear',
      dir: 'in',
      bits: 1,
      role: 'clear',
      meaning: 'start a new accumulation with this block (only with in_valid)',
    },
    {
      name: 'in_last',
      dir: 'in',
      bits: 1,
      role: 'last',
      meaning: 'this block ends a tile (only with in_valid)',
    },
    {
      name: 'in_act',
      dir: 'in',
      bits: R * abb,
      role: 'act',
      meaning: `row r's activation block at [r*${abb} +: ${abb}], lane i at [i*${p.activationBits} +: ${p.activationBits}]`,
    },
    {
      name: 'in_wgt',
      dir: 'in',
      bits: C * wbb,
      role: 'wgt',
      meaning: `column c's packed weight block at [c*${wbb} +: ${wbb}] (docs/FORMATS.md)`,
    },
    ...layerMeta.map(
      (m): PortSpec => ({
        name: m.port,
        dir: 'in',
        bits: m.field.bits,
        role: 'meta',
        meaning: m.field.meaning,
      }),
    ),
    {
      name: 'out_valid',
      dir: 'out',
      bits: 1,
      role: 'out_valid',
      meaning: `1 during cycle t+${p.latency} when the in_last block was presented in cycle t: results captured`,
    },
    {
      name: 'out_row',
      dir: 'in',
      bits: outRowBits,
      role: 'out_row',
      meaning: 'result row to read (rows beyond the array read 0)',
    },
    {
      name: 'out_data',
      dir: 'out',
      bits: C * ACC,
      role: 'out_data',
      meaning: `row out_row's results, column c at [c*${ACC} +: ${ACC}], two's complement`,
    },
  ];
  return {
    ports,
    actBits: R * abb,
    wgtBits: C * wbb,
    outRowBits,
    outBits: C * ACC,
    layerMeta,
    layerMetaBits: offset,
  };
}
