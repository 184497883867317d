// Area from Yosys `stat -json` (cell counts per module, any Yosys version) and the
// liberty's cell areas: totals, combinational / sequential, cells by type, and the area of
// each module and role through the hierarchy. `stat -liberty` text is parsed only to
// cross-check the total against Yosys's own figure.
import type { Liberty, LibertyCell } from './liberty.ts';
import { baseModuleName } from './netlist.ts';

/** Cell counts of each module, keyed by Yosys module name without the leading backslash. */
export type StatModules = ReadonlyMap<string, ReadonlyMap<string, number>>;

const unescapeName = (n: string) => (n.startsWith('\\') ? n.slice(1) : n);

/** The text of the JSON value that starts at `open` (an object), or null when it is not closed. */
function objectAt(text: string, open: number): string | null {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
    } else if (ch === '{') depth++;
    else if (ch === '}' && --depth === 0) return text.slice(open, i + 1);
  }
  return null;
}

/**
 * Parse `stat -json` output (the file written by `tee -o`). Only its "modules" object is
 * read: Yosys 0.23 writes plain-text hierarchy lines into the "design" part when modules
 * nest three deep, which makes the whole file invalid JSON.
 */
export function parseStatJson(text: string): StatModules {
  const key = text.indexOf('"modules"');
  const open = key < 0 ? -1 : text.indexOf('{', key);
  const body = open < 0 ? null : objectAt(text, open);
  if (body === null) throw new Error('stat -json output has no "modules" object');
  let modules: Record<string, { num_cells_by_type?: Record<string, number> }>;
  try {
    modules = JSON.parse(body);
  } catch (e) {
    throw new Error(`stat -json "modules" is not JSON (${(e as Error).message})`);
  }
  const out = new Map<string, Map<string, number>>();
  for (const [name, m] of Object.entries(modules)) {
    const cells = new Map<string, number>();
    for (const [type, n] of Object.entries(m.num_cells_by_type ?? {}))
      cells.set(unescapeName(type), Number(n));
    out.set(unescapeName(name), cells);
  }
  return out;
}

/** Yosys's own top-level area from `stat -liberty` text (the last 'Chip area' line), or null. */
export function parseStatChipArea(text: string): number | null {
  const all = [...text.matchAll(/Chip area for (?:top )?module '([^']*)': ([0-9.eE+-]+)/g)];
  const last = all.at(-1);
  return last ? Number(last[2]) : null;
}

export type Role = string;

export interface ModuleArea {
  /** Module name in the RTL (parameterised variants carry their base name). */
  readonly module: string;
  readonly role: Role;
  /** How many times it occurs in the design under the top. */
  readonly instances: number;
  /** Area of one instance, submodules included. */
  readonly area: number;
  /** Area of one instance's own cells (submodules excluded). */
  readonly ownArea: number;
}

export interface CellUse {
  readonly count: number;
  readonly area: number;
  readonly sequential: boolean;
}

export interface AreaBreakdown {
  readonly total: number;
  readonly combinational: number;
  readonly sequential: number;
  /** Area of the cells of each role's modules, over all their instances; sums to total. */
  readonly byRole: Readonly<Record<Role, number>>;
  /** One entry per module (variants of one RTL module kept apart), top first. */
  readonly modules: readonly ModuleArea[];
  /** Liberty cells used in the whole design. */
  readonly cells: Readonly<Record<string, CellUse>>;
  readonly cellCount: number;
}

/**
 * Area of `top` and everything under it. `roleOf` names the role of an RTL module (by base
 * name); modules it does not know are 'other'. Throws when a cell is neither a liberty
 * cell nor a module (an unmapped cell means the flow is broken).
 */
export function areaBreakdown(
  stat: StatModules,
  lib: Pick<Liberty, 'cells'>,
  top: string,
  roleOf: (module: string) => Role | undefined,
): AreaBreakdown {
  const topKey = unescapeName(top);
  if (!stat.has(topKey))
    throw new Error(`stat has no module ${top} (modules: ${[...stat.keys()].join(', ')})`);
  const instances = new Map<string, number>();
  const byRole: Record<Role, number> = {};
  const cells: Record<string, { count: number; area: number; sequential: boolean }> = {};
  let combinational = 0;
  let sequential = 0;
  let cellCount = 0;
  const own = new Map<string, number>();
  const full = new Map<string, number>();

  const visit = (name: string, times: number, stack: string[]) => {
    if (stack.includes(name)) throw new Error(`recursive hierarchy at ${name}`);
    instances.set(name, (instances.get(name) ?? 0) + times);
    const role = roleOf(baseModuleName(name)) ?? 'other';
    let ownArea = 0;
    for (const [type, n] of stat.get(name)!) {
      if (stat.has(type)) {
        visit(type, times * n, [...stack, name]);
        continue;
      }
      const cell: LibertyCell | undefined = lib.cells.get(type);
      if (!cell) throw new Error(`cell ${type} in ${name} is not in the liberty (unmapped cell)`);
      ownArea += cell.area * n;
      cells[type] ??= { count: 0, area: 0, sequential: cell.sequential };
      const use = cells[type];
      use.count += n * times;
      use.area += cell.area * n * times;
      cellCount += n * times;
      if (cell.sequential) sequential += cell.area * n * times;
      else combinational += cell.area * n * times;
    }
    own.set(name, ownArea);
    byRole[role] = (byRole[role] ?? 0) + ownArea * times;
  };
  visit(topKey, 1, []);

  const areaOf = (name: string): number => {
    const known = full.get(name);
    if (known !== undefined) return known;
    let a = own.get(name)!;
    for (const [type, n] of stat.get(name)!) if (stat.has(type)) a += areaOf(type) * n;
    full.set(name, a);
    return a;
  };
  const modules: ModuleArea[] = [...instances.entries()].map(([name, count]) => ({
    module: baseModuleName(name),
    role: roleOf(baseModuleName(name)) ?? 'other',
    instances: count,
    area: areaOf(name),
    ownArea: own.get(name)!,
  }));
  return {
    total: areaOf(topKey),
    combinational,
    sequential,
    byRole,
    modules,
    cells: Object.fromEntries(Object.entries(cells).sort(([a], [b]) => (a < b ? -1 : 1))),
    cellCount,
  };
}
