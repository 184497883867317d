// The INT8 baseline a StruM design is compared against: the same config (block size,
// array, widths, accumulator, pipeline) with every lane a full INT8 lane and no mask.
import { configOf, type ResolvedDpu, resolveConfig } from '../config/resolve.ts';
import { int8Format } from '../format/int8.ts';
import { parameterisedFormats } from '../format/registry.ts';

/**
 * The baseline's name. Fixed (not derived from the design's name) so that designs that
 * differ only in their PE kind share one baseline run in the cache.
 */
export const BASELINE_NAME = 'int8_base';

export function baselineConfig(cfg: ResolvedDpu): ResolvedDpu {
  const c: Record<string, unknown> & ReturnType<typeof configOf> = { ...configOf(cfg) };
  // The design's format parameters mean nothing to the baseline.
  for (const f of parameterisedFormats()) delete c[f.name];
  return resolveConfig(
    {
      ...c,
      name: BASELINE_NAME,
      pe: { block: c.pe.block, high: c.pe.block, low: int8Format.name, mode: 'static' },
    },
    `baseline of ${cfg.name}`,
  );
}
