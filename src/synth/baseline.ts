// The INT8 baseline a StruM design is compared against: the same config (block size,
// array, widths, accumulator, pipeline) with every lane a full INT8 lane and no mask.
import { configOf, type ResolvedDpu, resolveConfig } from '../config/resolve.ts';

/** Longest name whose baseline name `${name}_base` is still a legal config name. */
const MAX_NAME = 48 - '_base'.length;

export function baselineConfig(cfg: ResolvedDpu): ResolvedDpu {
  const c = configOf(cfg);
  return resolveConfig(
    {
      ...c,
      name: `${c.name.slice(0, MAX_NAME)}_base`,
      pe: { block: c.pe.block, high: c.pe.block, low: 'none', mode: 'static' },
    },
    `baseline of ${cfg.name}`,
  );
}
