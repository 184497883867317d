// Where a description comes from: a preset name, a .json file or a .ts/.js module
// whose default export is a description; then dotted-path overrides on top.
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { register } from 'node:module';
import { basename, dirname, extname, join, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { registerTemp, removeTemp } from '../io/process.ts';
import { UserError } from './errors.ts';
import { PRESETS } from './presets.ts';
import { type ResolvedDpu, resolveConfig } from './resolve.ts';

export type Overrides = Readonly<Record<string, unknown>>;

const MODULE_EXTS = new Set(['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs']);

/** The "type" of the package.json that governs `file` ('commonjs' when there is none). */
function packageType(file: string): string {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        return (JSON.parse(readFileSync(pj, 'utf8')) as { type?: string }).type ?? 'commonjs';
      } catch {
        return 'commonjs';
      }
    }
    if (dirname(dir) === dir) return 'commonjs';
  }
}

/**
 * Import a config module with tsx. A .ts file outside an ESM package would be compiled as
 * CommonJS, which cannot load strumgen's ESM-only dependencies, so it is imported through
 * a temporary .mts twin beside it (same folder, so its relative imports still resolve).
 */
async function importConfigModule(path: string): Promise<{ default?: unknown }> {
  await typescriptLoader();
  // A query makes each load fresh (a config edited between two loads in one process).
  const load = (p: string) =>
    import(`${pathToFileURL(p).href}?strumgen=${Date.now()}-${loads++}`) as Promise<{ default?: unknown }>;
  if (extname(path) !== '.ts' || packageType(path) === 'module') return load(path);
  const twin = registerTemp(join(dirname(path), `.${basename(path, '.ts')}.strumgen-${process.pid}.mts`));
  try {
    copyFileSync(path, twin);
  } catch (e) {
    throw new UserError(
      `${path}: cannot load: its folder is not writable (${(e as NodeJS.ErrnoException).code}); give it a .mts extension`,
    );
  }
  try {
    return await load(twin);
  } catch (e) {
    // Messages name the user's file, not the hidden twin.
    const err = e as Error;
    const twinName = new RegExp(
      `\\.${escapeRegExp(basename(path, '.ts'))}\\.strumgen-${process.pid}\\.m?ts`,
      'g',
    );
    err.message = err.message.replace(twinName, basename(path));
    throw err;
  } finally {
    removeTemp(twin);
  }
}

let loads = 0;
let loader: Promise<void> | undefined;
/**
 * tsx's loader for this process (TypeScript configs and what they import), and
 * `import 'strumgen'` resolving to this package from a config file anywhere.
 */
function typescriptLoader(): Promise<void> {
  loader ??= (async () => {
    const target = new URL('../../src/index.ts', import.meta.url).href;
    const hook = `export async function resolve(s, c, next) {
      if (s === 'strumgen') return next(${JSON.stringify(target)}, c);
      return next(s, c);
    }`;
    register(`data:text/javascript,${encodeURIComponent(hook)}`);
    const { register: registerTsx } = await import('tsx/esm/api');
    registerTsx();
  })();
  return loader;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The line of an esbuild/tsx error that names file:line:column, or the first line. */
function loadErrorLine(e: Error): string {
  const lines = e.message.split('\n').map((l) => l.trim());
  return lines.find((l) => /:\d+:\d+: ERROR: /.test(l)) ?? lines.find((l) => l !== '') ?? String(e);
}

/** Read a preset or config file into a plain (unvalidated) description. */
export async function loadDescription(spec: string): Promise<Record<string, unknown>> {
  const preset = PRESETS[spec];
  if (preset) return structuredClone(preset.config) as Record<string, unknown>;
  const path = resolvePath(spec);
  if (!existsSync(path)) {
    const names = Object.keys(PRESETS).join(', ');
    throw new UserError(`${spec}: no such preset or file (presets: ${names})`);
  }
  const ext = extname(path).toLowerCase();
  let value: unknown;
  if (ext === '.json') {
    try {
      // A UTF-8 byte-order mark (Windows editors) is not JSON but is no reason to fail.
      value = JSON.parse(readFileSync(path, 'utf8').replace(/^\uFEFF/, ''));
    } catch (e) {
      throw new UserError(`${spec}: not valid JSON (${(e as Error).message})`);
    }
  } else if (MODULE_EXTS.has(ext)) {
    try {
      // tsx loads TypeScript configs in-process; plain JS goes through it unchanged.
      value = (await importConfigModule(path)).default;
      // A .ts file outside an ESM package is compiled as CommonJS: its default sits one level down.
      const inner = value as { __esModule?: boolean; default?: unknown } | undefined;
      if (inner && typeof inner === 'object' && 'default' in inner && Object.keys(inner).length <= 2) {
        value = inner.default;
      }
    } catch (e) {
      if (e instanceof UserError) throw e;
      throw new UserError(`${spec}: could not load (${loadErrorLine(e as Error)})`);
    }
    if (value === undefined)
      throw new UserError(`${spec}: has no default export (export default defineDpu({...}))`);
  } else {
    throw new UserError(`${spec}: unknown config file type '${ext}' (use .json or .ts)`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new UserError(`${spec}: a config must be an object`);
  }
  return value as Record<string, unknown>;
}

/** Parse `key=value` override text: JSON where it parses (numbers, booleans), else a string. */
export function parseOverride(text: string): [string, unknown] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new UserError(`--set ${text}: expected path=value, e.g. pe.block=8`);
  const raw = text.slice(eq + 1);
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    // a bare word such as mip2q stays a string
  }
  return [text.slice(0, eq), value];
}

/** Set dotted paths on a copy of the description. Unknown paths are left for the schema to reject. */
export function applyOverrides(
  description: Record<string, unknown>,
  overrides: Overrides,
): Record<string, unknown> {
  const out = structuredClone(description);
  for (const [path, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    const keys = path.split('.');
    const bad = keys.find((k) => k === '__proto__' || k === 'constructor' || k === 'prototype' || k === '');
    if (bad !== undefined) throw new UserError(`--set ${path}: '${bad}' is not a config field`);
    let node: Record<string, unknown> = out;
    for (const key of keys.slice(0, -1)) {
      const next = Object.hasOwn(node, key) ? node[key] : undefined;
      if (next === undefined) node[key] = {};
      else if (next === null || typeof next !== 'object') {
        throw new UserError(`--set ${path}: '${key}' is not an object`);
      }
      node = node[key] as Record<string, unknown>;
    }
    node[keys[keys.length - 1]!] = value;
  }
  return out;
}

/** Preset or file, plus overrides, resolved. */
export async function loadConfig(spec: string, overrides: Overrides = {}): Promise<ResolvedDpu> {
  const description = applyOverrides(await loadDescription(spec), overrides);
  return resolveConfig(description, spec);
}
