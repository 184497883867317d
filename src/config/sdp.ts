// pe.sdp: Structured Dynamic Precision (src/format/sdp.ts, docs/FORMATS.md). operand
// 'activations' (dynamic): every group of G activations of a block keeps its K most important
// nibble parts, chosen at run time by a top-K selector in the PE; weights stay INT8.
// operand 'weights' (static): every group of G weights keeps at most K parts, chosen offline by
// the quantizer (least error) and stored in the weight block with the index of each kept part;
// activations stay full. Either way K narrow part-lanes per group (a part x a full operand,
// shifted by 0 or the low part's width) replace the B full lanes (pe.low 'none').
import { z } from 'zod';
import { type SdpParams, sdpOperandOf } from '../format/sdp.ts';

export type { SdpParams };

const int = (min: number, max: number) =>
  z
    .number({ error: 'must be a number' })
    .int('must be an integer')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);

export const sdpSchema = z
  .strictObject({
    group: int(1, 16)
      .default(4)
      .describe('G: values (activations or weights) per selection group (a divisor of pe.block)'),
    keep: int(1, 31)
      .default(4)
      .describe('K: parts kept (and part-lanes) per group of G values, of its 2G parts (K < 2G)'),
    operand: z
      .enum(['activations', 'weights'])
      .default('activations')
      .describe(
        "What is split: 'activations' (selected at run time by a top-K selector in the PE) or 'weights' " +
          '(selected offline by the quantizer, the kept parts and their indices stored in the weight block)',
      ),
  })
  .optional()
  .describe(
    'Structured dynamic precision (pe.low none): each activation (or weight) is a signed high and an ' +
      'unsigned low nibble, and every group of G keeps K parts: the most important, chosen at run time ' +
      '(activations), or the least-error selection stored with the weights',
  );

interface SdpCheckConfig {
  readonly pe: {
    readonly block: number;
    readonly low: string;
    readonly mode: string;
    readonly sdp?: SdpParams | undefined;
  };
  readonly activation: { readonly bits: number };
}

/** Cross-field rules of pe.sdp (one issue per broken rule). */
export function sdpIssues(c: SdpCheckConfig, isBaseline: boolean): { path: string; message: string }[] {
  const sdp = c.pe.sdp;
  if (!sdp) return [];
  const issues: { path: string; message: string }[] = [];
  const weights = sdpOperandOf(c) === 'weights';
  if (!isBaseline) {
    issues.push({
      path: 'pe.sdp',
      message: weights
        ? `needs pe.low 'none' (got '${c.pe.low}'): with operand 'weights' the kept parts are the weight format`
        : `needs INT8 weights (pe.low 'none'; got '${c.pe.low}'): SDP splits the activations`,
    });
  }
  if (c.pe.block % sdp.group !== 0) {
    issues.push({ path: 'pe.sdp.group', message: `${sdp.group} must divide pe.block (${c.pe.block})` });
  }
  if (sdp.keep >= 2 * sdp.group) {
    issues.push({
      path: 'pe.sdp.keep',
      message: `${sdp.keep} must be less than 2 x pe.sdp.group (${2 * sdp.group} parts): else nothing is dropped`,
    });
  }
  if (!weights && c.activation.bits < 2) {
    issues.push({ path: 'activation.bits', message: 'must be at least 2 to split into two parts' });
  }
  // weightBits >= 2 always holds (schema): a weight splits into two parts.
  return issues;
}
