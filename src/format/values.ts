// Value ranges and code checks of a config's weights and activations, through its format.
import { productRange, type Range, signedRange } from './bits.ts';
import { formatOf } from './registry.ts';
import type { FormatConfig } from './spec.ts';

/** Range of a full-precision (high) weight: all of two's complement. */
export const highRange = (c: Pick<FormatConfig, 'weightBits'>): [number, number] => signedRange(c.weightBits);

/** Range of activations. */
export function activationRange(c: Pick<FormatConfig, 'activation'>): [number, number] {
  const b = c.activation.bits;
  return c.activation.signed ? signedRange(b) : [0, 2 ** b - 1];
}

/** Range of one full (high) lane's product: activation x full-precision weight. */
export const highProductRange = (c: Pick<FormatConfig, 'activation' | 'weightBits'>): [number, number] =>
  productRange(activationRange(c), highRange(c));

/**
 * Range of the INT8 baseline PE's block sum for this config: pe.block full products. A PE whose
 * tree and accumulator are sized as the baseline's uses it (fixed-lane PEs, src/rtl/pe.ts).
 */
export function fullBlockSumRange(
  c: Pick<FormatConfig, 'activation' | 'weightBits' | 'pe'>,
): [number, number] {
  const [lo, hi] = highProductRange(c);
  return [c.pe.block * lo, c.pe.block * hi];
}

/** Integer value of a low weight from its code and the metadata values (format order). */
export const decodeLow = (c: FormatConfig, code: number, meta: readonly number[] = []): number =>
  formatOf(c).decode(code, meta);

/** Range of a decoded low weight over every code and metadata value; [0, 0] without lows. */
export const lowValueRange = (c: FormatConfig): Range => formatOf(c).valueRange;

/** Why a low code is not legal for this config, or null when it is. */
export const lowCodeProblem = (c: FormatConfig, code: number): string | null => formatOf(c).codeProblem(code);

/** Every legal low code of the config's low format, ascending (sparse: [0]; none: []). */
export const legalLowCodes = (c: FormatConfig): readonly number[] => formatOf(c).codes;
