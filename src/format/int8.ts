// pe.low = 'none': the INT8 baseline. Every weight is full precision; no mask, no low lanes.
import type { LowFormatSpec } from './spec.ts';

export const int8Format: LowFormatSpec<Record<string, never>, 'none'> = {
  name: 'none',
  hasLow: false,
  color: '#555555',
  summary: 'INT8 baseline: every weight full precision (no mask, no low weights)',
  bind: () => ({
    name: 'none',
    hasLow: false,
    codeBits: 0,
    codes: [],
    codeProblem: () => 'the INT8 baseline has no low weights',
    decode: () => {
      throw new Error('the INT8 baseline has no low weights');
    },
    valueRange: [0, 0],
    meta: [],
    metaCandidates: [[]],
    edgeCodes: { negative: 0, positive: 0 },
    lane: null,
    describe: null,
  }),
};
