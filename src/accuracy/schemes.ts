// The weight schemes `strumgen accuracy` compares, and how each turns a float weight tensor
// into the values the network then runs with (fake quantization: value * scale, in the
// tensor's own layout). Every hardware scheme is a resolved config, so the weights are
// exactly the ones that config's array multiplies (quantizeMatrix, docs/QUANTIZATION.md).
import { UserError } from '../config/errors.ts';
import { applyOverrides, loadDescription, type Overrides } from '../config/load.ts';
import type { MaskScope } from '../config/mask-scope.ts';
import { PRESETS } from '../config/presets.ts';
import { ConfigError, configOf, type ResolvedDpu, resolveConfig } from '../config/resolve.ts';
import { int8Format } from '../format/int8.ts';
import { formatOf, isBaselineFormat, lowFormatNames, lowFormatSpec } from '../format/registry.ts';
import { STRUCTURE_KEYS, structureOf } from '../format/structure.ts';
import {
  type Layer,
  layerMatrix,
  type QuantizedMatrix,
  quantizeMatrix,
  quantizeUniform,
  SELECT_POLICIES,
  type SelectPolicy,
} from '../quant/index.ts';
import { type ChannelPlan, inLayerOrder } from '../quant/scope.ts';

export type Scheme =
  | { readonly kind: 'float'; readonly id: string }
  | { readonly kind: 'int4'; readonly id: string }
  | {
      readonly kind: 'config';
      readonly id: string;
      readonly cfg: ResolvedDpu;
      readonly select: SelectPolicy;
    };

/** The low formats a scheme may name: every registered format with low weights (the registry's list). */
export const formatSchemes = (): string[] => lowFormatNames().filter((n) => lowFormatSpec(n).hasLow);

/**
 * What `--schemes all` means: float, the INT8 and INT4 baselines, each format x policy. A
 * format whose low weights all take one value and carry no metadata (sparse: 0) is listed
 * with the magnitude policy only. A format that needs other settings than the defaults
 * (lowint: lowBits 2 or 3) is left out: name it with a `--config` that sets them.
 */
export function allSchemes(): string[] {
  const defaultFormat = (name: string) => {
    try {
      return formatOf(resolveConfig({ name: 'acc_all', pe: { low: name } }, name));
    } catch (e) {
      if (e instanceof ConfigError) return null;
      throw e;
    }
  };
  return [
    'float',
    'int8',
    'int4',
    ...formatSchemes().flatMap((n) => {
      const f = defaultFormat(n);
      if (!f) return [];
      return f.codes.length <= 1 && f.meta.length === 0
        ? [`${n}:magnitude`]
        : SELECT_POLICIES.map((p) => `${n}:${p}`);
    }),
  ];
}

/** The INT8 reference: INT8 weights on a plain PE (an SDP design also has pe.low 'none'). */
export const isInt8 = (s: Scheme) =>
  s.kind === 'config' && isBaselineFormat(s.cfg.pe.low) && structureOf(s.cfg).name === null;

/** Human label: the id plus B and H for the StruM schemes. */
export function schemeLabel(s: Scheme): string {
  const structure = s.kind === 'config' ? structureOf(s.cfg).label : null;
  if (structure) return `${s.id} ${structure}`;
  if (s.kind !== 'config' || isBaselineFormat(s.cfg.pe.low)) return s.id;
  const { block, high, mode, mid } = s.cfg.pe;
  const m = mid ? ` M=${mid.lanes} ${mid.format}${mid.bits}` : '';
  return `${s.id} B=${block} H=${high}${m}${mode === 'dynamic' ? ' dynamic' : ''}`;
}

export interface SchemeContext {
  /** `--config` (preset or file); formats take B, H, mode and format fields from it. */
  readonly config?: string;
  readonly overrides: Overrides;
  /** Policy for names without one (`--select`). */
  readonly select: SelectPolicy;
}

/**
 * Parse a comma list: float, int8, int4, all, a registered format (mip2q, dliq, sparse), a preset
 * (strum-dliq, ...) or `config` (the --config exactly); each but float/int4 may end in
 * `:magnitude` or `:error`. Formats and presets take the command's overrides.
 */
export async function parseSchemes(list: string, ctx: SchemeContext): Promise<Scheme[]> {
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .flatMap((s) => (s === 'all' ? allSchemes() : [s]));
  if (names.length === 0) throw new UserError('--schemes: name at least one scheme');
  const base = applyOverrides(await loadDescription(ctx.config ?? 'strum-mip2q'), ctx.overrides);
  const out: Scheme[] = [];
  for (const name of names) {
    const [full, policy, extra] = name.split(':') as [string, string | undefined, unknown];
    const [head, scopeText, extraScope] = full.split('@') as [string, string | undefined, unknown];
    const scope = scopeText === undefined ? undefined : parseScope(name, scopeText);
    if (extraScope !== undefined || (scope && (head === 'float' || head === 'int4' || head === 'int8'))) {
      throw new UserError(
        `--schemes: '${name}': a mask scope (@pe, @g<G>, @layer) goes after a StruM format or preset`,
      );
    }
    if (
      extra !== undefined ||
      (policy !== undefined && !(SELECT_POLICIES as readonly string[]).includes(policy))
    ) {
      throw new UserError(`--schemes: '${name}': the policy after ':' is magnitude or error`);
    }
    const select = (policy ?? ctx.select) as SelectPolicy;
    if (head === 'float' || head === 'int4') {
      if (policy) throw new UserError(`--schemes: '${name}': ${head} has no selection policy`);
      out.push({ kind: head, id: head });
      continue;
    }
    let description: Record<string, unknown>;
    if (head === 'int8' || formatSchemes().includes(head)) {
      const pe = { ...(base.pe as Record<string, unknown>) };
      if (head === 'int8') {
        pe.low = int8Format.name;
        pe.mode = 'static';
        delete pe.high;
        delete pe.maskScope;
        for (const key of STRUCTURE_KEYS) delete pe[key];
      } else {
        if (pe.low === undefined || isBaselineFormat(String(pe.low))) delete pe.high;
        pe.low = head;
      }
      description = { ...base, name: `acc_${head}`, pe };
    } else if (PRESETS[head]) {
      description = applyOverrides(await loadDescription(head), ctx.overrides);
    } else if (head === 'config') {
      description = base;
    } else {
      throw new UserError(
        `--schemes: unknown scheme '${head}' (float, int8, int4, all, ${formatSchemes().join(', ')}, ` +
          `config, or a preset: ${Object.keys(PRESETS).join(', ')})`,
      );
    }
    if (scope) description = withScope(description, scope);
    const cfg = resolveConfig(description, `--schemes ${name}`);
    const id =
      isBaselineFormat(cfg.pe.low) && head !== 'config'
        ? head
        : `${head === 'config' ? cfg.name : full}:${select}`;
    out.push({ kind: 'config', id, cfg, select });
  }
  const seen = new Set<string>();
  return out.filter((s) => !seen.has(s.id) && seen.add(s.id));
}

/** '@pe', '@g4' (shared masks over 4 output channels), '@layer' (per input channel): pe.maskScope. */
function parseScope(name: string, text: string): MaskScope {
  if (text === 'pe' || text === 'layer') return { kind: text };
  const g = /^g(\d+)$/.exec(text);
  if (g) return { kind: 'group', channels: Number(g[1]) };
  throw new UserError(`--schemes: '${name}': unknown mask scope '@${text}' (@pe, @g<G> such as @g4, @layer)`);
}

/** The description with that mask scope; a group scope widens array.cols to a multiple of G. */
function withScope(description: Record<string, unknown>, scope: MaskScope): Record<string, unknown> {
  const pe = { ...(description.pe as Record<string, unknown>), maskScope: scope };
  const array = { ...((description.array as Record<string, unknown>) ?? {}) };
  if (scope.kind === 'group') {
    const cols = Number(array.cols ?? 4);
    if (cols % scope.channels !== 0) array.cols = scope.channels * Math.ceil(cols / scope.channels);
  }
  return { ...description, pe, array };
}

/** [N, K] matrix order (layerMatrix) back to the tensor's output-channels-first layout. */
function fromMatrix(shape: readonly number[], mat: Float32Array): Float32Array {
  if (shape.length === 2) return mat;
  const N = shape[0]!;
  const I = shape[1]!;
  const K = mat.length / N;
  const P = K / I;
  const out = new Float32Array(mat.length);
  for (let n = 0; n < N; n++) {
    const base = n * K;
    for (let i = 0; i < I; i++) for (let p = 0; p < P; p++) out[base + i * P + p] = mat[base + p * I + i]!;
  }
  return out;
}

/** Per-layer quantization (hardware schemes keep the matrix for the integer path). */
export interface QuantizedLayer {
  readonly name: string;
  /** The fake-quantized tensor, same layout as the Layer (output channels first). */
  readonly data: Float32Array;
  /** For config schemes: the quantized [N, Kp] matrix (values, scales). */
  readonly qm?: QuantizedMatrix;
  /** The scheme this layer really got (an exception may keep it INT8). */
  readonly scheme: Scheme;
}

/** Quantize one layer under a scheme. */
export function quantizeLayer(
  layer: Layer,
  scheme: Scheme,
  channelPlan?: ChannelPlan,
  /** Per input channel: the mean square calibration activation (sensitivity.ts). */
  sensitivity?: Float64Array,
): QuantizedLayer {
  if (scheme.kind === 'float') return { name: layer.name, data: layer.data, scheme };
  const m = layerMatrix(layer);
  const mat = new Float32Array(m.N * m.K);
  let qm: QuantizedMatrix | undefined;
  if (scheme.kind === 'int4') {
    const u = quantizeUniform(m.data, m.N, m.K, 4);
    for (let n = 0; n < m.N; n++)
      for (let k = 0; k < m.K; k++) mat[n * m.K + k] = u.values[n * m.K + k]! * u.scales[n]!;
  } else {
    qm = quantizeMatrix(scheme.cfg, m.data, m.N, m.K, {
      select: scheme.select,
      channels: m.channels,
      ...(channelPlan ? { channelPlan } : {}),
      ...(sensitivity && sensitivity.length === m.channels ? { sensitivity } : {}),
    });
    // Scope 'layer' permutes the input channels for the array; the graph keeps its own order.
    const values = inLayerOrder(qm.values, qm);
    for (let n = 0; n < m.N; n++)
      for (let k = 0; k < m.K; k++) mat[n * m.K + k] = values[n * qm.Kp + k]! * qm.scales[n]!;
  }
  return { name: layer.name, data: fromMatrix(layer.shape, mat), scheme, ...(qm ? { qm } : {}) };
}

/** The INT8 twin of a scheme (same config fields, low 'none'): a per-layer exception. */
export function int8Of(s: Scheme): Scheme {
  const cfg =
    s.kind === 'config'
      ? resolveConfig(
          { ...configOf(s.cfg), pe: { block: s.cfg.pe.block, low: int8Format.name, mode: 'static' } },
          'int8 exception',
        )
      : resolveConfig({ name: 'acc_int8', pe: { block: 16, low: int8Format.name } }, 'int8 exception');
  return { kind: 'config', id: 'int8', cfg, select: 'magnitude' };
}
