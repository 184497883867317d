// The RTL planner: a resolved config in, one plan per Verilog module out. The library
// (templates/lib/*.v, src/rtl/library.ts) holds every module but the PE and the array; the
// planners here only choose library modules, bind their parameters (every width from
// cfg.derived and the format) and wire them: planLanes (lanes.ts) the lanes, planPe (pe.ts)
// the PE, planArray (array.ts) the array. Templates only print.
import { maskScopeOf } from '../config/mask-scope.ts';
import type { ResolvedDpu } from '../config/resolve.ts';
import { formatOf } from '../format/registry.ts';
import { structureOf } from '../format/structure.ts';
import { planArray } from './array.ts';
import { withUses } from './library.ts';
import { planPe } from './pe.ts';
import { type RoutePlan, routePlan } from './route.ts';
import type { TreePlan } from './tree.ts';
import type { FaultKind, RtlModule } from './types.ts';
import { ident } from './verilog.ts';

/** A generated module's template in templates/ (the PE and the array; the rest is the library). */
export type TemplateName = 'pe' | 'array';

export interface Port {
  readonly decl: string;
  /** Why some bits of this input are not used (wrapped in a targeted lint_off); else null. */
  readonly unused: string | null;
}

export interface Instance {
  readonly module: string;
  readonly inst: string;
  readonly params: readonly { name: string; value: string }[];
  readonly conns: readonly { port: string; expr: string }[];
}

/** One module of the design: a library file, or a config's module printed by a template. */
export type ModulePlan =
  | {
      readonly role: RtlModule['role'];
      readonly module: string;
      /** The library file that defines the module. */
      readonly source: string;
    }
  | {
      readonly role: RtlModule['role'];
      readonly module: string;
      readonly template: TemplateName;
      /** What the template prints: always `module`, `summary`, `header` and `ports`, plus its own fields. */
      readonly ctx: Readonly<Record<string, unknown>>;
    };

export interface RtlPlan {
  readonly top: string;
  readonly pe: string;
  /** Leaves first: every module appears after the modules it instantiates. */
  readonly modules: readonly ModulePlan[];
  readonly route: RoutePlan | null;
  readonly tree: TreePlan;
  /** Static PE whose low lanes share a shift (DLIQ): the low lanes' tree (its shifted sum is a leaf of `tree`). */
  readonly lowTree: TreePlan | null;
}

/** Which test-only faults can be injected into this config (the others have nothing to break). */
export function applicableFaults(cfg: ResolvedDpu): FaultKind[] {
  const d = cfg.derived;
  // A PE structure's datapath (SDP) replaces the lanes: its own faults.
  const datapath = structureOf(cfg).datapath;
  if (datapath) return datapath.faults.map((f) => f.kind);
  const out: FaultKind[] = [];
  const fmt = formatOf(cfg);
  if (fmt.lane && (cfg.pe.mode === 'dynamic' || d.lowLanes > 0)) out.push('low-lane-sign');
  // A router exists in the PE ('pe'), at the array edge ('group'), or nowhere ('layer').
  if (
    cfg.pe.mode === 'static' &&
    fmt.hasLow &&
    routePlan(cfg.pe.block, cfg.pe.high, false) &&
    maskScopeOf(cfg).kind !== 'layer'
  )
    out.push('route-off-by-one');
  if (d.highLanes > 0) out.push('high-lane-bit');
  // A fault inside the low lane, as its format defines it (LaneSpec.fault; LP: the regime decoder).
  if (fmt.lane?.fault && d.lowLanes > 0) out.push('low-lane-internal');
  return out;
}

/** `isolation`: false only for a bench (dynamic lanes without operand isolation, docs/POWER.md). */
export function planRtl(cfg: ResolvedDpu, opts: { isolation?: boolean } = {}): RtlPlan {
  const name = ident(cfg.name);
  const header = `strumgen, config '${name}' (hash ${cfg.shortHash})`;
  const pe = planPe(cfg, header, opts.isolation !== false);
  const array = planArray(cfg, header, pe);
  // Library modules leaves first (each once, with the modules they instantiate), then the PE, then the array.
  const library = withUses([...pe.library, ...array.library]).map(({ role, module, source }) => ({
    role,
    module,
    source,
  }));
  return {
    top: array.plan.module,
    pe: pe.plan.module,
    modules: [...library, pe.plan, array.plan],
    route: pe.route,
    tree: pe.tree,
    lowTree: pe.lowTree,
  };
}
