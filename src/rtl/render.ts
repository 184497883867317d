// renderRtl: a resolved config in, Verilog text out (pure, in-process, deterministic).
import { configOf, type ResolvedDpu, resolveConfig } from '../config/resolve.ts';
import { planRtl } from './context.ts';
import { renderTemplate } from './templates.ts';
import type { RtlBundle, RtlOptions } from './types.ts';

/**
 * Verilog for one config: one module per file, leaves first. Same config, same bytes.
 * The config is re-checked first, so a hand-built or modified object cannot put
 * anything but validated identifiers and integers into the Verilog.
 */
export function renderRtl(cfg: ResolvedDpu, options: RtlOptions = {}): RtlBundle {
  const checked = resolveConfig(configOf(cfg), 'renderRtl');
  if (checked.hash !== cfg.hash) {
    throw new Error('renderRtl: config does not match its hash (modified after resolveConfig?)');
  }
  const plan = planRtl(checked, options);
  return {
    top: plan.top,
    pe: plan.pe,
    modules: plan.modules.map((m) => ({ name: m.module, role: m.role })),
    files: plan.modules.map((m) => ({
      name: `${m.module}.v`,
      content: renderTemplate(m.template, m.ctx, m.templateFile),
    })),
  };
}
