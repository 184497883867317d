// pe.sdp: Structured Dynamic Precision activations (src/format/sdp.ts, docs/FORMATS.md). Every
// group of G activations of a block keeps its K most important nibble parts, chosen at run time
// by a top-K selector in the PE; K narrow part-lanes (a part x an INT8 weight, shifted by 0 or
// the low part's width) replace the B full lanes. Weights stay INT8 (pe.low 'none').
import { z } from 'zod';

const int = (min: number, max: number) =>
  z
    .number({ error: 'must be a number' })
    .int('must be an integer')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);

export const sdpSchema = z
  .strictObject({
    group: int(1, 16).default(4).describe('G: activations per selection group (a divisor of pe.block)'),
    keep: int(1, 31)
      .default(4)
      .describe('K: parts kept (and part-lanes) per group of G activations, of its 2G parts (K < 2G)'),
  })
  .optional()
  .describe(
    'Structured dynamic precision on the activations (pe.low none): each activation is a signed high ' +
      'and an unsigned low nibble, and every group of G keeps its K most important parts, chosen at run time',
  );

interface SdpCheckConfig {
  readonly pe: {
    readonly block: number;
    readonly low: string;
    readonly mode: string;
    readonly sdp?: { readonly group: number; readonly keep: number } | undefined;
  };
  readonly activation: { readonly bits: number };
}

/** Cross-field rules of pe.sdp (one issue per broken rule). */
export function sdpIssues(c: SdpCheckConfig, isBaseline: boolean): { path: string; message: string }[] {
  const sdp = c.pe.sdp;
  if (!sdp) return [];
  const issues: { path: string; message: string }[] = [];
  if (!isBaseline) {
    issues.push({
      path: 'pe.sdp',
      message: `needs INT8 weights (pe.low 'none'; got '${c.pe.low}'): SDP splits the activations`,
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
  if (c.activation.bits < 2) {
    issues.push({ path: 'activation.bits', message: 'must be at least 2 to split into two parts' });
  }
  return issues;
}
