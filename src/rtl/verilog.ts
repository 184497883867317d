// Small builders for the Verilog text the context builders hand to the templates. Every
// width is baked in as a literal, so these check that each number really is an integer:
// nothing but validated identifiers and integers ever reaches the generated files.

/** A width, count or offset: a non-negative safe integer (min 1 for widths). */
export function int(value: number, what: string, min = 0): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new Error(`rtl: ${what} must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

/** `[bits-1:0]`; a 1-bit signal is declared `[0:0]` so it can always be indexed. */
export function range(bits: number): string {
  return `[${int(bits, 'width', 1) - 1}:0]`;
}

/** Sized decimal literal, e.g. `lit(4, 0)` = `4'd0`. */
export function lit(bits: number, value: number): string {
  int(value, 'literal value');
  if (value >= 2 ** int(bits, 'literal width', 1)) throw new Error(`rtl: ${value} does not fit ${bits} bits`);
  return `${bits}'d${value}`;
}

/**
 * Widen `sig` (a plain name, `from` bits wide) to `to` bits by sign or zero extension.
 * Widening only: callers that drop bits do so visibly with a part-select.
 */
export function extend(sig: string, from: number, to: number, signed: boolean): string {
  int(from, 'width', 1);
  int(to, 'width', 1);
  if (to < from) throw new Error(`rtl: cannot extend ${sig} from ${from} to ${to} bits`);
  if (to === from) return sig;
  const n = to - from;
  return signed ? `{{${n}{${sig}[${from - 1}]}}, ${sig}}` : `{${n}'d0, ${sig}}`;
}

/** Part-select of `bits` bits at `offset` of `sig`: `sig[msb:lsb]`. */
export function slice(sig: string, offset: number, bits: number): string {
  int(offset, 'offset');
  int(bits, 'width', 1);
  return `${sig}[${offset + bits - 1}:${offset}]`;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Throws unless `name` is a plain Verilog identifier (module and signal names we build). */
export function ident(name: string): string {
  if (!IDENT.test(name)) throw new Error(`rtl: '${name}' is not a Verilog identifier`);
  return name;
}
