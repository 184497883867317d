// renderRtl: a resolved config in, Verilog text out (pure, in-process, deterministic).
import { configOf, type ResolvedDpu, resolveConfig } from '../config/resolve.ts';
import { planRtl } from './context.ts';
import { injectFault } from './faults.ts';
import { libraryText } from './library.ts';
import { renderTemplate } from './templates.ts';
import type { RtlBundle, RtlOptions } from './types.ts';

/**
 * Verilog for one config: one module per file, leaves first. Same config, same bytes.
 * The config is re-checked first, so a hand-built or modified object cannot put
 * anything but validated identifiers and integers into the Verilog. A test-only fault
 * (options.fault) is an overlay on the finished bundle (faults.ts): the design's own
 * modules never contain fault logic.
 */
export function renderRtl(cfg: ResolvedDpu, options: RtlOptions = {}): RtlBundle {
  const checked = resolveConfig(configOf(cfg), 'renderRtl');
  if (checked.hash !== cfg.hash) {
    throw new Error('renderRtl: config does not match its hash (modified after resolveConfig?)');
  }
  const plan = planRtl(checked, { isolation: options.isolation !== false });
  const bundle: RtlBundle = {
    top: plan.top,
    pe: plan.pe,
    modules: plan.modules.map((m) => ({ name: m.module, role: m.role })),
    files: plan.modules.map((m) => ({
      name: `${m.module}.v`,
      content: 'source' in m ? libraryText(m) : renderTemplate(m.template, m.ctx),
    })),
  };
  return options.fault ? injectFault(checked, bundle, options.fault) : bundle;
}
