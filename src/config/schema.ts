// The one schema for a strumgen PE-array description: types, defaults and the
// per-field rules live here; cross-field rules live in resolve.ts. Each low-precision
// format contributes its parameter group (src/format/registry.ts): the group is validated
// when given, and exists in the resolved config only when pe.low names that format.
import { z } from 'zod';
import { type BUILTIN_FORMATS, lowFormatNames, parameterisedFormats } from '../format/registry.ts';
import type { LowFormatSpec } from '../format/spec.ts';
import { maskScopeSchema } from './mask-scope.ts';
import { midLevelSchema } from './mid-level.ts';
import { sdpSchema } from './sdp.ts';

/** Verilog-2005 keywords plus SystemVerilog ones Verilator reserves: a name must not be one. */
export const VERILOG_KEYWORDS = new Set(
  (
    'always and assign automatic begin buf bufif0 bufif1 case casex casez cell cmos config deassign default ' +
    'defparam design disable edge else end endcase endconfig endfunction endgenerate endmodule endprimitive ' +
    'endspecify endtable endtask event for force forever fork function generate genvar highz0 highz1 if ifnone ' +
    'incdir include initial inout input instance integer join large liblist library localparam macromodule ' +
    'medium module nand negedge nmos nor noshowcancelled not notif0 notif1 or output parameter pmos posedge ' +
    'primitive pull0 pull1 pulldown pullup pulsestyle_ondetect pulsestyle_onevent rcmos real realtime reg ' +
    'release repeat rnmos rpmos rtran rtranif0 rtranif1 scalared showcancelled signed small specify specparam ' +
    'strong0 strong1 supply0 supply1 table task time tran tranif0 tranif1 tri tri0 tri1 triand trior trireg ' +
    'unsigned use uwire vectored wait wand weak0 weak1 while wire wor xnor xor ' +
    'alias always_comb always_ff always_latch assert assume bit break byte chandle class clocking const ' +
    'constraint context continue cover dist do endclass endclocking endinterface endpackage endprogram ' +
    'endproperty endsequence enum export extends extern final first_match foreach forkjoin iff import inside ' +
    'int interface intersect join_any join_none local logic longint modport new null package packed priority ' +
    'program property protected pure rand randc randcase randsequence ref return sequence shortint shortreal ' +
    'solve static string struct super this throughout timeprecision timeunit type typedef union unique var ' +
    'virtual void wait_order wildcard with within'
  ).split(' '),
);

const IDENT = /^[A-Za-z][A-Za-z0-9_]*$/;

/** A name that reaches Verilog as a module prefix: a plain identifier, no escapes, no keywords. */
export const verilogIdentifier = z
  .string()
  .min(1, 'must not be empty')
  .max(48, 'must be at most 48 characters (it prefixes every module name)')
  .refine((s) => IDENT.test(s), {
    message: 'must be a Verilog identifier: a letter, then letters, digits or _',
  })
  .refine((s) => !VERILOG_KEYWORDS.has(s), { message: 'is a Verilog keyword' });

const int = (min: number, max: number) =>
  z
    .number({ error: 'must be a number' })
    .int('must be an integer')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);

/** A pe.low value: the name of a registered format (src/format/registry.ts). */
export type LowFormat = string;
export const PE_MODES = ['static', 'dynamic'] as const;
export type PeMode = (typeof PE_MODES)[number];
export const DATAFLOWS = ['output-stationary'] as const;
export const ROUTE_DECODES = ['pe', 'column'] as const;
export type RouteDecode = (typeof ROUTE_DECODES)[number];

const lowFormat = z
  .string({ error: 'must be a string' })
  .refine((name) => lowFormatNames().includes(name), {
    error: (issue) =>
      `must be one of ${lowFormatNames()
        .map((n) => `'${n}'`)
        .join(', ')} (got '${String(issue.input)}')`,
  })
  .default('mip2q')
  .describe("Low-precision format of the L = B - H low weights; 'none' is the INT8 baseline");

const baseSchema = z.strictObject({
  name: verilogIdentifier.describe('Verilog identifier used as the prefix of every generated module'),
  array: z
    .strictObject({
      rows: int(1, 128).default(4).describe('PE rows (activation rows / output rows)'),
      cols: int(1, 128).default(4).describe('PE columns (weight columns / output channels)'),
    })
    .prefault({}),
  dataflow: z.enum(DATAFLOWS).default('output-stationary').describe('How data moves through the array'),
  pe: z
    .strictObject({
      block: int(1, 64).default(16).describe('B: weights per block (the PE consumes one block per cycle)'),
      high: int(0, 64)
        .optional()
        .describe('H: weights per block kept at full precision; default B/2, or B when low is none'),
      low: lowFormat,
      mode: z
        .enum(PE_MODES)
        .default('static')
        .describe('static: H high + L low lanes; dynamic: B full lanes switched to low mode at run time'),
      routeDecode: z
        .enum(ROUTE_DECODES)
        .default('pe')
        .describe(
          "Static StruM router selects: 'pe' decodes the block mask in every PE; 'column' decodes it once " +
            'per array column and sends one-hot select lines down the column with the weights (static only)',
        ),
      maskScope: maskScopeSchema,
      mid: midLevelSchema,
      sdp: sdpSchema,
    })
    .prefault({}),
  activation: z
    .strictObject({
      bits: int(2, 16).default(8).describe('Activation width in bits'),
      signed: z.boolean().default(true).describe('Activations are two’s complement (else unsigned)'),
    })
    .prefault({}),
  weightBits: int(2, 16).default(8).describe('Width of a full-precision (high) weight'),
  lowBits: int(2, 8).default(4).describe('Width of a low-precision weight code'),
  accumulator: z
    .strictObject({
      bits: int(8, 48).default(32).describe('Accumulator width; sums wrap modulo 2^bits'),
      reductionLength: int(1, 1 << 24)
        .default(4608)
        .describe('Longest reduction (K) the user will run; the accumulator must hold it without wrap'),
    })
    .prefault({}),
  pipeline: z
    .strictObject({
      operands: z
        .boolean()
        .default(false)
        .describe(
          "Register the lane operands (the router's activations and their weights) before the lanes, so router glitches stop there",
        ),
      multiply: z.boolean().default(false).describe('Register the lane products'),
      adderTree: z.boolean().default(false).describe('Register the adder-tree sum'),
    })
    .prefault({}),
});

type Builtin = (typeof BUILTIN_FORMATS)[number];
/** The parameter groups of the built-in formats, by config key (each optional). */
export type FormatGroups = {
  readonly [S in Builtin as S extends LowFormatSpec<infer P, string>
    ? keyof P extends never
      ? never
      : S['name']
    : never]?: S extends LowFormatSpec<infer P, string> ? P : never;
};
type FormatGroupsInput = { readonly [K in keyof FormatGroups]?: Partial<NonNullable<FormatGroups[K]>> };

let schemaMemo: { key: string; schema: z.ZodType } | null = null;

/**
 * The schema for the formats registered now: the base fields plus one optional group per
 * parameterised format (rebuilt when a test registers a format).
 */
export function dpuSchema(): z.ZodObject {
  const formats = parameterisedFormats();
  const key = lowFormatNames().join(',');
  if (schemaMemo?.key !== key) {
    const groups = Object.fromEntries(formats.map((f) => [f.name, (f.params as z.ZodType).optional()]));
    const shape = { ...baseSchema.shape };
    const pipeline = shape.pipeline;
    delete (shape as Partial<typeof shape>).pipeline;
    schemaMemo = { key, schema: z.strictObject({ ...shape, ...groups, pipeline }) };
  }
  return schemaMemo.schema as z.ZodObject;
}

/** What a user writes (every field but name optional). */
export type DpuInput = z.input<typeof baseSchema> & FormatGroupsInput;
/** The schema's output: defaults filled in, before cross-field checks and derived values. */
export type DpuParsed = z.output<typeof baseSchema> & FormatGroups;
