// The registered low-precision formats: the only list of them. pe.low accepts exactly these
// names; the config schema takes each one's parameter fragment from here. A format that
// exists only for tests registers itself with registerLowFormat (test/fixtures/formats/).
import { dliqFormat } from './dliq.ts';
import { intFormat } from './int.ts';
import { int8Format } from './int8.ts';
import { binaryFormat, lowintFormat, ternFormat } from './lowbit.ts';
import { lpFormat } from './lp-format.ts';
import { mip2qFormat } from './mip2q.ts';
import { sparseFormat } from './sparse.ts';
import type { BoundFormat, FormatConfig, LowFormatSpec } from './spec.ts';

// biome-ignore lint/suspicious/noExplicitAny: specs differ in their parameter types
type AnySpec = LowFormatSpec<any>;

/** The built-in formats, in the order docs and the config reference list them. */
export const BUILTIN_FORMATS = [
  int8Format,
  mip2qFormat,
  dliqFormat,
  sparseFormat,
  intFormat,
  lpFormat,
  binaryFormat,
  ternFormat,
  lowintFormat,
] as const;

const registry = new Map<string, AnySpec>(BUILTIN_FORMATS.map((f) => [f.name, f]));

/** Add a format (tests: a toy format). Names are unique; a format cannot be replaced. */
export function registerLowFormat(spec: AnySpec): void {
  const have = registry.get(spec.name);
  if (have === spec) return;
  if (have) throw new Error(`format '${spec.name}' is already registered`);
  if (!/^[a-z][a-z0-9]*$/.test(spec.name))
    throw new Error(`format name '${spec.name}' must be [a-z][a-z0-9]*`);
  registry.set(spec.name, spec);
}

/** Whether `name` is the INT8 baseline, the registered format without low weights ('none'); false for unknown names. */
export const isBaselineFormat = (name: string): boolean => registry.get(name)?.hasLow === false;

/** Every registered format name (pe.low values). */
export const lowFormatNames = (): string[] => [...registry.keys()];

export function lowFormatSpec(name: string): AnySpec {
  const spec = registry.get(name);
  if (!spec) throw new Error(`unknown low format '${name}' (known: ${lowFormatNames().join(', ')})`);
  return spec;
}

/** Every registered format with parameters: [config key, spec]. */
export const parameterisedFormats = (): AnySpec[] => [...registry.values()].filter((f) => f.params);

/** The parameters of the config's format: its config group (defaults filled in). */
export function formatParams(cfg: FormatConfig): unknown {
  const spec = lowFormatSpec(cfg.pe.low);
  if (!spec.params) return {};
  const group = (cfg as unknown as Record<string, unknown>)[spec.name];
  return spec.params.parse(group ?? {});
}

const bound = new WeakMap<object, BoundFormat>();

/** The config's low format, bound to it (memoised per config object). */
export function formatOf(cfg: FormatConfig): BoundFormat {
  const hit = bound.get(cfg);
  if (hit) return hit;
  const fmt = lowFormatSpec(cfg.pe.low).bind(cfg, formatParams(cfg));
  bound.set(cfg, fmt);
  return fmt;
}
