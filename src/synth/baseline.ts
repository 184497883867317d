// The INT8 baseline a StruM design is compared against: the same config (block size,
// array, widths, accumulator, pipeline) with every lane a full INT8 lane and no mask.
import { configOf, type ResolvedDpu, resolveConfig } from '../config/resolve.ts';

/**
 * The baseline's name. Fixed (not derived from the design's name) so that designs that
 * differ only in their PE kind share one baseline run in the cache.
 */
export const BASELINE_NAME = 'int8_base';

export function baselineConfig(cfg: ResolvedDpu): ResolvedDpu {
  const c = configOf(cfg);
  return resolveConfig(
    {
      ...c,
      name: BASELINE_NAME,
      pe: { block: c.pe.block, high: c.pe.block, low: 'none', mode: 'static' },
    },
    `baseline of ${cfg.name}`,
  );
}
