// Built-in starting points. Each is a plain description that resolveConfig() checks
// like any user file; CLI overrides apply on top.
import type { DpuInput } from './schema.ts';

const small = { array: { rows: 4, cols: 4 } } as const;

export const PRESETS: Readonly<Record<string, { readonly summary: string; readonly config: DpuInput }>> = {
  int8: {
    summary: 'INT8 baseline PE: B full 8x8 lanes, no mask; what every StruM result is compared against',
    config: { name: 'int8', ...small, pe: { block: 16, low: 'none', mode: 'static' } },
  },
  'strum-mip2q': {
    summary: 'static StruM, B=16 H=8: 8 INT8 lanes + 8 shift-and-negate (power-of-two) lanes',
    config: { name: 'strum_mip2q', ...small, pe: { block: 16, low: 'mip2q', mode: 'static' } },
  },
  'strum-dliq': {
    summary: 'static StruM, B=16 H=8: 8 INT8 lanes + 8 8x4-bit lanes with a per-block shift',
    config: { name: 'strum_dliq', ...small, pe: { block: 16, low: 'dliq', mode: 'static' } },
  },
  'strum-sparse': {
    summary: 'N:M structured-sparsity baseline, B=16 H=8: 8 INT8 lanes, the low half is zero',
    config: { name: 'strum_sparse', ...small, pe: { block: 16, low: 'sparse', mode: 'static' } },
  },
  'strum-dynamic': {
    summary: 'dynamic StruM (MIP2Q), B=16: 16 full lanes, each switched to shift mode per weight at run time',
    config: { name: 'strum_dynamic', ...small, pe: { block: 16, low: 'mip2q', mode: 'dynamic' } },
  },
  'strum-mip2q-group': {
    summary:
      'static MIP2Q, B=16 H=8, one mask per 4 output channels: routers at the array edge (rows x cols / 4), PEs with fixed lanes',
    config: {
      name: 'strum_mip2q_group',
      ...small,
      pe: { block: 16, low: 'mip2q', mode: 'static', maskScope: { kind: 'group', channels: 4 } },
    },
  },
  'strum-mip2q-layer': {
    summary:
      'static MIP2Q, B=16 H=8, one precision per input channel (channels permuted): no router anywhere',
    config: {
      name: 'strum_mip2q_layer',
      ...small,
      pe: { block: 16, low: 'mip2q', mode: 'static', maskScope: { kind: 'layer' } },
    },
  },
  'strum-layer3': {
    summary:
      'three levels per input channel, B=16: 8 INT8 + 4 INT4 + 4 MIP2Q lanes in fixed positions (channels permuted): no router',
    config: {
      name: 'strum_layer3',
      ...small,
      pe: {
        block: 16,
        high: 8,
        low: 'mip2q',
        mode: 'static',
        maskScope: { kind: 'layer' },
        mid: { lanes: 4, format: 'int', bits: 4 },
      },
    },
  },
  'strum-lp': {
    summary:
      'static StruM, B=16 H=8: 8 INT8 lanes + 8 LP4 lanes (logarithmic posit, es=0 rs=3, sf per layer; docs/FORMATS.md)',
    config: { name: 'strum_lp', ...small, pe: { block: 16, low: 'lp', mode: 'static' } },
  },
  lp8: {
    summary:
      'all-LP PE (LPA style), B=16: 16 LP8 lanes (es=0 rs=5, sf per layer) on a 10-bit weight grid, no INT8 lanes (pe.high = 0)',
    config: {
      name: 'lp8',
      ...small,
      pe: { block: 16, high: 0, low: 'lp', mode: 'static' },
      lowBits: 8,
      weightBits: 10,
      lp: { es: 0, rs: 5 },
    },
  },
  'tern-bs4': {
    summary:
      'all-ternary PE, B=16: 16 add/subtract/skip lanes ({-1, 0, +1} x a per-channel scale), 4x block sparsity skipped by the schedule (docs/LOWBIT.md)',
    config: {
      name: 'tern_bs4',
      ...small,
      pe: { block: 16, high: 0, low: 'tern', mode: 'static' },
      tern: { compression: 4 },
    },
  },
  sdp: {
    summary:
      'structured dynamic precision, B=16: INT8 weights, activations split into nibbles, each group of 4 keeps its 4 most important of 8 parts (top-K selector in the PE, 16 4x8-bit part-lanes)',
    config: {
      name: 'sdp',
      ...small,
      pe: { block: 16, low: 'none', mode: 'static', sdp: { group: 4, keep: 4 } },
    },
  },
  'sdp-w': {
    summary:
      'static SDP on the weights, B=16: each group of 4 INT8 weights keeps at most 4 of its 8 nibble parts (least-error selection by the quantizer, stored with their indices: 7 bits per weight); full activations, 16 part-lanes, no selector',
    config: {
      name: 'sdp_w',
      ...small,
      pe: { block: 16, low: 'none', mode: 'static', sdp: { group: 4, keep: 4, operand: 'weights' } },
    },
  },
};

export const DEFAULT_PRESET = 'strum-mip2q';
