// pe.low = 'sparse': N:M structured sparsity. The L low weights of a block are zero: they
// carry no code, and the PE drops them (no low lanes; the router feeds the H high lanes).
import type { LowFormatSpec } from './spec.ts';

export const sparseFormat: LowFormatSpec<Record<string, never>, 'sparse'> = {
  name: 'sparse',
  hasLow: true,
  color: '#2ca02c',
  summary: 'N:M structured sparsity: the L low weights of a block are zero (no code, no lane)',
  bind: () => ({
    name: 'sparse',
    hasLow: true,
    codeBits: 0,
    codes: [0],
    codeProblem: (code) => (code === 0 ? null : 'a sparse low weight must be 0'),
    decode: () => 0,
    valueRange: [0, 0],
    meta: [],
    metaCandidates: [[]],
    edgeCodes: { negative: 0, positive: 0 },
    lane: null,
    describe: null,
  }),
};
