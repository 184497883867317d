// pe.mid: the middle precision level of three-level per-input-channel precision
// (docs/CODESIGN.md). With pe.maskScope 'layer', every input channel of a layer gets one of
// three levels: high (pe.high lanes, full precision), middle (pe.mid.lanes lanes of
// pe.mid.format with pe.mid.bits-bit codes, e.g. INT4) or low (the rest: pe.low), in fixed
// per-layer proportions H : M : B - H - M that match the PE's lanes. src/format/levels.ts
// binds the middle format; the quantizer (src/quant/scope.ts) assigns the levels.
import { z } from 'zod';
import { midFormatProblem } from '../format/levels.ts';
import { lowFormatNames } from '../format/registry.ts';
import { maskScopeOf } from './mask-scope.ts';

export const midLevelSchema = z
  .strictObject({
    lanes: z
      .number({ error: 'must be a number' })
      .int('must be an integer')
      .min(1, 'must be at least 1')
      .max(63, 'must be at most 63')
      .describe('M: middle-precision weights (and lanes) per block'),
    format: z
      .string({ error: 'must be a string' })
      .refine((name) => lowFormatNames().includes(name), {
        error: (issue) =>
          `must be one of ${lowFormatNames()
            .map((n) => `'${n}'`)
            .join(', ')} (got '${String(issue.input)}')`,
      })
      .default('int')
      .describe("The middle level's format (a pe.low value without parameters or metadata); default 'int'"),
    bits: z
      .number({ error: 'must be a number' })
      .int('must be an integer')
      .min(2, 'must be at least 2')
      .max(8, 'must be at most 8')
      .default(4)
      .describe("Width of a middle code (the middle format's lowBits)"),
  })
  .optional()
  .describe(
    'Three-level per-input-channel precision (pe.maskScope layer only): M of the L = B - H low ' +
      "positions of every block hold pe.mid.format (e.g. {lanes: 4, format: 'int', bits: 4}: INT4)",
  );

interface MidConfig {
  readonly weightBits: number;
  readonly pe: {
    readonly block: number;
    readonly high: number;
    readonly mode: string;
    readonly mid?: { readonly lanes: number; readonly format: string; readonly bits: number };
    readonly maskScope?: { readonly kind: string };
  };
}

/**
 * Cross-field rules of pe.mid (one issue per broken rule); `fmt` binds the middle format
 * for the last checks (metadata, lane), called only when the earlier ones pass.
 */
export function midLevelIssues(
  c: MidConfig,
  hasLow: boolean,
  bound: () => { meta: readonly unknown[]; lane: unknown } | null,
): { path: string; message: string }[] {
  const mid = c.pe.mid;
  if (!mid) return [];
  const issues: { path: string; message: string }[] = [];
  if (maskScopeOf(c as never).kind !== 'layer') {
    issues.push({
      path: 'pe.mid',
      message:
        "needs pe.maskScope {kind: 'layer'}: three levels sit in fixed lanes only when the input channels are permuted",
    });
  }
  if (!hasLow || c.pe.mode !== 'static') {
    issues.push({ path: 'pe.mid', message: 'needs a static StruM PE with a low format' });
  }
  const L = c.pe.block - c.pe.high;
  if (mid.lanes >= L) {
    issues.push({
      path: 'pe.mid.lanes',
      message: `${mid.lanes} must be less than B - H = ${L} (at least one low lane: else it is two levels)`,
    });
  }
  if (mid.bits > c.weightBits) {
    issues.push({ path: 'pe.mid.bits', message: `${mid.bits} exceeds weightBits (${c.weightBits})` });
  }
  const problem = midFormatProblem(mid.format);
  if (problem) issues.push({ path: 'pe.mid.format', message: problem });
  if (issues.length) return issues;
  const f = bound();
  if (f && (f.meta.length > 0 || f.lane === null)) {
    issues.push({
      path: 'pe.mid.format',
      message: `'${mid.format}' must have a lane and no metadata to be a middle level`,
    });
  }
  return issues;
}
