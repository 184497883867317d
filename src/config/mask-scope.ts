// Where a static StruM block's mask is decided, and so where the router sits
// (docs/CODESIGN.md): 'pe' = one mask per output channel and block, a router in every PE
// (the original design); 'group' = one mask per block shared by G adjacent output channels,
// routed once per column group at the array edge, PEs with fixed high/low lanes;
// 'layer' = one precision per input channel for the whole layer, input channels permuted
// so every block has its high weights in lanes 0..H-1: no router anywhere.
import { z } from 'zod';

export const MASK_SCOPES = ['pe', 'group', 'layer'] as const;
export type MaskScopeKind = (typeof MASK_SCOPES)[number];

export type MaskScope =
  | { readonly kind: 'pe' }
  | { readonly kind: 'group'; readonly channels: number }
  | { readonly kind: 'layer' };

export const maskScopeSchema = z
  .discriminatedUnion(
    'kind',
    [
      z.strictObject({ kind: z.literal('pe') }),
      z.strictObject({
        kind: z.literal('group'),
        channels: z
          .number({ error: 'must be a number' })
          .int('must be an integer')
          .min(1, 'must be at least 1')
          .max(128, 'must be at most 128')
          .default(4)
          .describe('G: output channels (array columns) sharing one mask per block'),
      }),
      z.strictObject({ kind: z.literal('layer') }),
    ],
    { error: () => `kind must be one of ${MASK_SCOPES.map((s) => `'${s}'`).join(', ')}` },
  )
  .optional()
  .describe(
    "Static StruM mask scope: {kind:'pe'} (default) a mask per output channel, router in every PE; " +
      "{kind:'group', channels: G} one mask per G output channels, router at the array edge; " +
      "{kind:'layer'} one precision per input channel, channels permuted, no router",
  );

/** The parts of a config the scope rules read. */
interface ScopeConfig {
  readonly array: { readonly cols: number };
  readonly pe: {
    readonly block: number;
    readonly high: number;
    readonly mode: string;
    readonly routeDecode?: string;
    readonly maskScope?: MaskScope;
  };
}

/** The mask scope of a config ('pe' when the field is absent). */
export function maskScopeOf(cfg: { readonly pe: { readonly maskScope?: MaskScope } }): MaskScope {
  return cfg.pe.maskScope ?? { kind: 'pe' };
}

/** G of a config: output channels per shared mask (1 for 'pe'; the whole layer for 'layer' is not a G). */
export const groupChannelsOf = (cfg: { readonly pe: { readonly maskScope?: MaskScope } }): number => {
  const s = maskScopeOf(cfg);
  return s.kind === 'group' ? s.channels : 1;
};

/** Cross-field rules of pe.maskScope: one issue per broken rule. */
export function maskScopeIssues(c: ScopeConfig, hasLow: boolean): { path: string; message: string }[] {
  const s = maskScopeOf(c);
  if (s.kind === 'pe') return [];
  const issues: { path: string; message: string }[] = [];
  const what = s.kind === 'group' ? 'a shared mask' : 'per-input-channel precision';
  if (!hasLow || c.pe.mode !== 'static') {
    issues.push({
      path: 'pe.maskScope.kind',
      message: `'${s.kind}' needs a static StruM PE (pe.mode 'static' with a low format): ${what} has nothing to do otherwise`,
    });
  } else if (c.pe.high === 0 || c.pe.high === c.pe.block) {
    issues.push({
      path: 'pe.maskScope.kind',
      message: `'${s.kind}' needs 0 < pe.high < pe.block (got ${c.pe.high} of ${c.pe.block}): with one precision there is no mask`,
    });
  }
  if (c.pe.routeDecode === 'column' && hasLow && c.pe.mode === 'static') {
    issues.push({
      path: 'pe.routeDecode',
      message: `'column' decodes the PE router's selects; with pe.maskScope '${s.kind}' the PE has no router`,
    });
  }
  if (s.kind === 'group' && c.array.cols % s.channels !== 0) {
    issues.push({
      path: 'pe.maskScope.channels',
      message: `${s.channels} does not divide array.cols (${c.array.cols}): each column group shares one edge router`,
    });
  }
  return issues;
}

/**
 * Register stages in front of the PEs: scope 'group' registers each edge router's output
 * (and the weights beside it) so the router stays off the PE's critical path.
 */
export const edgeStagesOf = (cfg: { readonly pe: { readonly maskScope?: MaskScope } }): number =>
  maskScopeOf(cfg).kind === 'group' ? 1 : 0;

/**
 * The activation block in the lane order of a PE without a router: the high positions
 * (mask 0) in block order, then the low ones (mask 1). What the edge router sends a
 * 'group' PE; a 'layer' block is already in this order.
 */
export function laneOrder<T>(acts: readonly T[], low: readonly boolean[]): T[] {
  return [...acts.filter((_, i) => !low[i]), ...acts.filter((_, i) => low[i])];
}
