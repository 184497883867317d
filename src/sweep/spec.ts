// The sweep spec (`strumgen sweep <spec.json|spec.ts>`): a base config, axes over any config
// field, the metrics to measure. Validated with one line per problem naming the field;
// expanded deterministically (random axes from the spec's seed) into points, so a point's
// index means the same point in every process (local children, Slurm array tasks).
import { createHash } from 'node:crypto';
import { basename, dirname, extname, resolve } from 'node:path';
import { z } from 'zod';
import { UserError } from '../config/errors.ts';
import { applyOverrides, loadDescription } from '../config/load.ts';
import { maskScopeOf } from '../config/mask-scope.ts';
import { ConfigError, canonicalJson, type ResolvedDpu, resolveConfig } from '../config/resolve.ts';
import { isBaselineFormat } from '../format/registry.ts';
import { Rng } from '../io/rng.ts';
import { baselineConfig } from '../synth/baseline.ts';

/** 'energy': per MAC (P / (f B)); 'inference': per inference of the accuracy task's network. */
export const METRICS = ['area', 'fmax', 'power', 'energy', 'inference', 'sqnr', 'accuracy'] as const;
export type Metric = (typeof METRICS)[number];
export const ACCURACY_TASKS = ['fashion-mnist', 'ocr'] as const;

const scalar = z.union([z.number(), z.string(), z.boolean()]);
const fieldPath = z
  .string()
  .regex(/^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$/, 'a dotted config path, e.g. pe.block');

const axisSchema = z
  .object({
    field: fieldPath,
    /** Explicit values. */
    values: z.array(scalar).min(1).optional(),
    /** from..to by step (arithmetic) or times factor (geometric). */
    range: z
      .object({
        from: z.number(),
        to: z.number(),
        step: z.number().positive().optional(),
        factor: z.number().gt(1).optional(),
      })
      .strict()
      .refine(
        (r) => (r.step === undefined) !== (r.factor === undefined),
        'give exactly one of step or factor',
      )
      .refine((r) => r.to >= r.from, 'to must be >= from')
      .optional(),
    /** count values drawn uniformly in [min, max] with the spec's seed. */
    random: z
      .object({
        count: z.number().int().min(1).max(10000),
        min: z.number(),
        max: z.number(),
        integer: z.boolean().default(true),
      })
      .strict()
      .refine((r) => r.max >= r.min, 'max must be >= min')
      .optional(),
    /** The value is this other field's value times each value (e.g. pe.high = pe.block * 0.5). */
    ratioOf: fieldPath.optional(),
  })
  .strict()
  .refine((a) => [a.values, a.range, a.random].filter((v) => v !== undefined).length === 1, {
    message: 'give exactly one of values, range or random',
  });

/** A further region of the design space: its own overrides (on top of the spec's `set`) and axes. */
const spaceSchema = z
  .object({
    set: z.record(fieldPath, scalar).default({}),
    axes: z.array(axisSchema).min(1).max(16),
  })
  .strict();

const specSchema = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . -')
      .optional(),
    /** A preset name, a config file (relative to the spec), or an inline config object. */
    base: z.union([z.string().min(1), z.record(z.string(), z.unknown())]),
    /** Dotted-path overrides applied to the base before the axes. */
    set: z.record(fieldPath, scalar).default({}),
    axes: z.array(axisSchema).min(1).max(16),
    /**
     * More regions of the space (e.g. mask scopes only where they matter): each expanded like
     * the main axes with its own `set`; the points are the union (a config met twice is one point).
     */
    spaces: z.array(spaceSchema).max(16).default([]),
    /** Add the INT8 baseline of every legal point (same B and pipeline) as a point of its own. */
    int8: z.boolean().default(true),
    seed: z.number().int().default(1),
    metrics: z.array(z.enum(METRICS)).min(1),
    accuracy: z
      .object({
        task: z.enum(ACCURACY_TASKS).default('fashion-mnist'),
        limit: z.number().int().positive().optional(),
      })
      .strict()
      .default({ task: 'fashion-mnist' }),
    power: z
      .object({
        cycles: z.number().int().min(10).max(1_000_000).default(2000),
        weights: z.string().optional(),
        layer: z.string().optional(),
        seed: z.number().int().default(1),
      })
      .strict()
      .default({ cycles: 2000, seed: 1 }),
    sqnr: z.object({ weights: z.string().optional(), layer: z.string().optional() }).strict().default({}),
    /** Points larger than this are refused before any work (a typo in a range). */
    maxPoints: z.number().int().positive().default(2000),
  })
  .strict();

export type SweepSpecInput = z.input<typeof specSchema>;
export type SweepSpec = z.output<typeof specSchema> & {
  /** The spec file's absolute path (or '' inline), for messages and child processes. */
  readonly file: string;
  /** sha256 of the canonical spec: names the sweep's Slurm directory. */
  readonly hash: string;
};
export type Axis = z.output<typeof axisSchema>;
export type Space = z.output<typeof spaceSchema>;

/** The spec's regions: the main one (its `set` and `axes`) and every entry of `spaces`. */
export const specSpaces = (s: Pick<SweepSpec, 'axes' | 'spaces'>): Space[] => [
  { set: {}, axes: s.axes },
  ...s.spaces,
];

/** Every field any region sweeps, in first-seen order (the report's columns). */
export const sweptFields = (s: Pick<SweepSpec, 'axes' | 'spaces'>): string[] => [
  ...new Set(specSpaces(s).flatMap((sp) => sp.axes.map((a) => a.field))),
];

/** Typed identity for spec files: `export default defineSweep({...})`. */
export function defineSweep(spec: SweepSpecInput): SweepSpecInput {
  return spec;
}

/** Validate a plain spec object; one line per problem, each naming the field. */
export function parseSpec(input: unknown, file = ''): SweepSpec {
  const r = specSchema.safeParse(input);
  const where = file ? `${file}: ` : '';
  if (!r.success) {
    const lines = r.error.issues.map((i) => {
      const path = i.path.map(String).join('.') || '(spec)';
      const msg = i.code === 'unrecognized_keys' ? `unknown key ${i.keys.join(', ')}` : i.message;
      return `${where}${path}: ${msg}`;
    });
    throw new UserError(lines.join('\n'), 2);
  }
  const s = r.data;
  specSpaces(s).forEach((sp, k) => {
    const fields = new Set<string>();
    const at = k === 0 ? 'axes' : `spaces.${k - 1}.axes`;
    sp.axes.forEach((a, i) => {
      if (fields.has(a.field)) throw new UserError(`${where}${at}.${i}.field: ${a.field} is swept twice`, 2);
      fields.add(a.field);
    });
  });
  const hash = createHash('sha256').update(canonicalJson(s)).digest('hex');
  return { ...s, file, hash };
}

/** Load a .json or .ts spec file and validate it. */
export async function loadSpec(path: string): Promise<SweepSpec> {
  const ext = extname(path).toLowerCase();
  if (!['.json', '.ts', '.mts', '.js', '.mjs'].includes(ext))
    throw new UserError(`${path}: a sweep spec is a .json or .ts file`, 2);
  let raw: Record<string, unknown>;
  try {
    raw = await loadDescription(path);
  } catch (e) {
    // loadDescription speaks of configs; a spec file is named as such.
    if (e instanceof UserError)
      throw new UserError(e.message.replace(/no such preset or file.*$/, 'no such spec file'), 2);
    throw e;
  }
  const spec = parseSpec(raw, path);
  return { ...spec, file: resolve(path) };
}

/** The values of one axis (before ratioOf is applied). */
export function axisValues(a: Axis, rng: Rng): (string | number | boolean)[] {
  if (a.values) return a.values;
  if (a.range) {
    const out: number[] = [];
    const { from, to, step, factor } = a.range;
    for (let v = from, i = 0; v <= to + 1e-9 && i < 10001; i++) {
      out.push(Number(v.toPrecision(12)));
      v = step !== undefined ? from + (i + 1) * step : v * factor!;
    }
    return out;
  }
  const r = a.random!;
  return Array.from({ length: r.count }, () => {
    const v = r.min + rng.float() * (r.max - r.min + (r.integer ? 1 : 0));
    return r.integer ? Math.min(r.max, Math.floor(v)) : Number(v.toPrecision(6));
  });
}

export type PointKind = 'design' | 'int8';

export interface SweepPoint {
  /** Position in the expanded list: what `--point` and a Slurm array task index name. */
  readonly index: number;
  readonly kind: PointKind;
  /** Axis values (field -> value); for an INT8 point, those of the first design that asked for it. */
  readonly settings: Readonly<Record<string, unknown>>;
  readonly cfg: ResolvedDpu;
  /** Short human label, e.g. "mip2q B16 H8 op". */
  readonly label: string;
}

export interface SkippedPoint {
  readonly settings: Readonly<Record<string, unknown>>;
  /** The validation message (one line per problem joined with '; '). */
  readonly reason: string;
}

export interface Expansion {
  readonly points: readonly SweepPoint[];
  readonly skipped: readonly SkippedPoint[];
}

/** The mask scope in short: 'pe', 'g4' (one mask per 4 output channels), 'layer'. */
export function scopeName(cfg: ResolvedDpu): string {
  const m = maskScopeOf(cfg);
  return m.kind === 'group' ? `g${m.channels}` : m.kind;
}

export function pointLabel(cfg: ResolvedDpu): string {
  const p = cfg.pipeline;
  const pipe = [p.operands && 'op', p.multiply && 'mul', p.adderTree && 'tree'].filter(Boolean).join('+');
  const kind = isBaselineFormat(cfg.pe.low)
    ? 'INT8'
    : `${cfg.pe.mode === 'dynamic' ? 'dyn-' : ''}${cfg.pe.low}`;
  const h = isBaselineFormat(cfg.pe.low) ? '' : ` H${cfg.pe.high}`;
  const scope = scopeName(cfg);
  return `${kind} B${cfg.pe.block}${h}${scope === 'pe' ? '' : ` ${scope}`}${pipe ? ` ${pipe}` : ''}`;
}

/** The base description: preset, file (relative to the spec), or inline object. */
async function baseDescription(spec: SweepSpec): Promise<Record<string, unknown>> {
  if (typeof spec.base !== 'string') return structuredClone(spec.base) as Record<string, unknown>;
  const isFile = /\.(json|ts|mts|js|mjs)$/i.test(spec.base);
  const target = isFile && spec.file ? resolve(dirname(spec.file), spec.base) : spec.base;
  try {
    return await loadDescription(target);
  } catch (e) {
    if (e instanceof UserError)
      throw new UserError(`${spec.file ? `${basename(spec.file)}: ` : ''}base: ${e.message}`, 2);
    throw e;
  }
}

/** Every combination of the axes, resolved; illegal ones skipped with their message; INT8 points added. */
export async function expandSpec(spec: SweepSpec): Promise<Expansion> {
  const specBase = applyOverrides(await baseDescription(spec), spec.set);
  const rng = new Rng(spec.seed);
  const regions = specSpaces(spec).map((sp) => ({ sp, lists: sp.axes.map((a) => axisValues(a, rng)) }));
  const total = regions.reduce((t, r) => t + r.lists.reduce((n, l) => n * l.length, 1), 0);
  const where = spec.file ? `${basename(spec.file)}: ` : '';
  if (total > spec.maxPoints)
    throw new UserError(
      `${where}axes: ${total} combinations exceed maxPoints (${spec.maxPoints}); raise it or narrow the axes`,
      2,
    );
  const points: SweepPoint[] = [];
  const skipped: SkippedPoint[] = [];
  const seen = new Set<string>();
  const int8s: { cfg: ResolvedDpu; settings: Record<string, unknown> }[] = [];
  for (const { sp, lists } of regions) {
    const base = applyOverrides(specBase, sp.set);
    const axes = sp.axes;
    const count = lists.reduce((n, l) => n * l.length, 1);
    const idx = new Array<number>(lists.length).fill(0);
    for (let n = 0; n < count; n++) {
      let rem = n;
      for (let i = lists.length - 1; i >= 0; i--) {
        idx[i] = rem % lists[i]!.length;
        rem = Math.floor(rem / lists[i]!.length);
      }
      const settings: Record<string, unknown> = {};
      // Plain axes first, then ratioOf axes (which read the value of another field).
      axes.forEach((a, i) => {
        if (a.ratioOf === undefined) settings[a.field] = lists[i]![idx[i]!];
      });
      let desc = applyOverrides(base, settings);
      const ratios: Record<string, unknown> = {};
      axes.forEach((a, i) => {
        if (a.ratioOf === undefined) return;
        const of = getPath(desc, a.ratioOf);
        const r = Number(lists[i]![idx[i]!]);
        ratios[a.field] = typeof of === 'number' ? of * r : Number.NaN;
        settings[`${a.field}/${a.ratioOf}`] = r;
      });
      desc = applyOverrides(desc, ratios);
      let cfg: ResolvedDpu;
      try {
        const missing = Object.entries(ratios).find(([, v]) => Number.isNaN(v));
        if (missing) throw new UserError(`${missing[0]}: its ratioOf field has no numeric value`);
        cfg = resolveConfig(desc);
      } catch (e) {
        if (!(e instanceof UserError)) throw e;
        const reason =
          e instanceof ConfigError ? e.issues.map((i) => `${i.path}: ${i.message}`).join('; ') : e.message;
        skipped.push({ settings, reason });
        continue;
      }
      if (seen.has(cfg.hash)) continue;
      seen.add(cfg.hash);
      const kind: PointKind = isBaselineFormat(cfg.pe.low) ? 'int8' : 'design';
      points.push({ index: points.length, kind, settings, cfg, label: pointLabel(cfg) });
      if (spec.int8 && kind === 'design') int8s.push({ cfg: baselineConfig(cfg), settings });
    }
  }
  for (const { cfg, settings } of int8s) {
    if (seen.has(cfg.hash)) continue;
    seen.add(cfg.hash);
    points.push({ index: points.length, kind: 'int8', settings, cfg, label: pointLabel(cfg) });
  }
  return { points, skipped };
}

function getPath(obj: Record<string, unknown>, path: string): unknown {
  let node: unknown = obj;
  for (const k of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[k];
  }
  return node;
}
