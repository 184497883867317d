// The parameterised Verilog library (templates/lib/*.v): plain Verilog-2005 modules, one per
// file, that every generated design instantiates with bound parameters. Only the PE and the
// array are generated per config (templates/pe.v.hbs, array.v.hbs); everything else is here.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DatapathModule } from '../format/structure.ts';
import type { RtlModule } from './types.ts';
import { ident, int } from './verilog.ts';

export const LIBRARY_DIR = fileURLToPath(new URL('../../templates/lib/', import.meta.url));

/** A library module the planner uses: its name, role, source file and the library modules it instantiates. */
export interface LibraryModule {
  readonly module: string;
  readonly role: RtlModule['role'];
  readonly source: string;
  readonly uses: readonly LibraryModule[];
}

export const libraryModule = (
  module: string,
  role: RtlModule['role'],
  source?: string,
  uses: readonly LibraryModule[] = [],
): LibraryModule => ({
  module: ident(module),
  role,
  source: source ?? `${LIBRARY_DIR}${module}.v`,
  uses,
});

/** `modules` with every module they instantiate, leaves first, each once. */
export function withUses(modules: readonly LibraryModule[]): LibraryModule[] {
  const out: LibraryModule[] = [];
  const add = (m: LibraryModule) => {
    if (out.some((x) => x.module === m.module)) return;
    m.uses.forEach(add);
    out.push(m);
  };
  modules.forEach(add);
  return out;
}

/** The lane module of a lane kind: strum_lane_<kind> (a format outside the repository names its file). */
export const laneModule = (kind: string, source?: string) =>
  libraryModule(`strum_lane_${kind}`, 'lane', source);

/** The library module of a PE structure's datapath (src/format/structure.ts), with the modules it instantiates. */
export const datapathModule = (m: DatapathModule): LibraryModule =>
  libraryModule(m.module, m.role, undefined, m.uses.map(datapathModule));

// The gather (stable compaction / partition) behind every router (and a structure's part select).
const gather = libraryModule('strum_gather', 'route');
const routeDecode = libraryModule('strum_route_decode', 'route', undefined, [gather]);
const routeMux = libraryModule('strum_route_mux', 'route', undefined, [gather]);
const laneFull = libraryModule('strum_lane_full', 'lane');

export const LIB = {
  gather,
  laneFull,
  laneDyn: libraryModule('strum_lane_dyn', 'lane'),
  router: libraryModule('strum_router', 'route', undefined, [gather]),
  routeDecode,
  routeMux,
  adderTree: libraryModule('strum_adder_tree', 'adder_tree'),
  accumulator: libraryModule('strum_accumulator', 'accumulator'),
} as const;

const texts = new Map<string, string>();

/** The text of a library file (read once per process); it must define exactly `module`. */
export function libraryText(m: Pick<LibraryModule, 'module' | 'source'>): string {
  let text = texts.get(m.source);
  if (text === undefined) {
    text = readFileSync(m.source, 'utf8');
    const defined = [...text.matchAll(/^module\s+(\w+)/gm)].map((x) => x[1]);
    if (defined.length !== 1 || defined[0] !== m.module)
      throw new Error(`rtl: ${m.source} must define exactly the module ${m.module}`);
    texts.set(m.source, text);
  }
  return text;
}

/** A Verilog parameter binding: name and integer value (or a literal built by the planner). */
export interface ParamBinding {
  readonly name: string;
  readonly value: string;
}

/** Bind integer parameters (checked: only validated integers reach the Verilog). */
export const bind = (params: Readonly<Record<string, number | string>>): ParamBinding[] =>
  Object.entries(params).map(([name, v]) => ({
    name: ident(name),
    value: typeof v === 'number' ? String(int(v, name)) : v,
  }));

/** A packed list of 8-bit values, element 0 in the LSBs: {8'dN-1, ..., 8'd0}. */
export function byteList(values: readonly number[]): string {
  for (const v of values) if (int(v, 'list value') > 255) throw new Error(`rtl: ${v} does not fit 8 bits`);
  return `{${[...values]
    .reverse()
    .map((v) => `8'd${v}`)
    .join(', ')}}`;
}
