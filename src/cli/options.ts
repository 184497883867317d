// Options every config-taking command shares: the preset/file positional and overrides.
import { join } from 'node:path';
import type { Argv } from 'yargs';
import { UserError } from '../config/errors.ts';
import { loadConfig, type Overrides, parseOverride } from '../config/load.ts';
import { DEFAULT_PRESET, PRESETS } from '../config/presets.ts';
import type { ResolvedDpu } from '../config/resolve.ts';
import { lowFormatNames } from '../format/registry.ts';
import { YOSYS_IMPL_ENV, YOSYS_IMPLS } from '../synth/yosys.ts';

export interface ConfigArgs {
  config?: string;
  rows?: number;
  cols?: number;
  block?: number;
  high?: number;
  low?: string;
  mode?: string;
  set?: string[];
}

/** Adds `[config]` and the override flags. */
export function withConfigOptions<T>(y: Argv<T>, required = false) {
  return withOverrideOptions(
    y.positional('config', {
      type: 'string',
      describe: `preset (${Object.keys(PRESETS).join(', ')}) or a .json/.ts config file`,
      default: required ? undefined : DEFAULT_PRESET,
      demandOption: required,
    }),
  );
}

/** The override flags (--rows ... --set) of a config. */
export function withOverrideOptions<T>(y: Argv<T>) {
  return y
    .option('rows', { type: 'number', describe: 'override array.rows', group: 'Overrides:' })
    .option('cols', { type: 'number', describe: 'override array.cols', group: 'Overrides:' })
    .option('block', { type: 'number', describe: 'override pe.block (B)', group: 'Overrides:' })
    .option('high', { type: 'number', describe: 'override pe.high (H)', group: 'Overrides:' })
    .option('low', {
      type: 'string',
      describe: `override pe.low (${lowFormatNames().join('|')})`,
      group: 'Overrides:',
    })
    .option('mode', { type: 'string', describe: 'override pe.mode (static|dynamic)', group: 'Overrides:' })
    .option('set', {
      type: 'string',
      array: true,
      describe: 'override any field: --set path=value (e.g. --set accumulator.bits=24)',
      group: 'Overrides:',
    });
}

const FLAG_OF: Record<string, string> = {
  'array.rows': 'rows',
  'array.cols': 'cols',
  'pe.block': 'block',
  'pe.high': 'high',
  'pe.low': 'low',
  'pe.mode': 'mode',
};

export function overridesOf(argv: ConfigArgs): Overrides {
  const out: Record<string, unknown> = {
    'array.rows': argv.rows,
    'array.cols': argv.cols,
    'pe.block': argv.block,
    'pe.high': argv.high,
    'pe.low': argv.low,
    'pe.mode': argv.mode,
  };
  // One value per field: a flag and a --set of the same field (or two --set) is refused, not resolved by order.
  const given = new Map<string, string>();
  for (const [path, v] of Object.entries(out)) {
    if (v !== undefined) given.set(path, `--${FLAG_OF[path]} ${v}`);
  }
  for (const text of argv.set ?? []) {
    const [path, value] = parseOverride(text);
    const earlier = given.get(path);
    if (earlier !== undefined) {
      throw new UserError(`${earlier} and --set ${text} both set ${path}; give it once`, 2);
    }
    given.set(path, `--set ${text}`);
    out[path] = value;
  }
  // A non-numeric --rows arrives as NaN: let the schema name it.
  for (const [k, v] of Object.entries(out)) if (typeof v === 'number' && Number.isNaN(v)) out[k] = 'NaN';
  return out;
}

/** The config argument and overrides as command-line text, for re-run hints. */
export function configArgsText(argv: ConfigArgs): string {
  const parts = [argv.config ?? DEFAULT_PRESET];
  const flags: [string, unknown][] = [
    ['rows', argv.rows],
    ['cols', argv.cols],
    ['block', argv.block],
    ['high', argv.high],
    ['low', argv.low],
    ['mode', argv.mode],
  ];
  for (const [name, v] of flags) if (v !== undefined) parts.push(`--${name} ${v}`);
  for (const s of argv.set ?? []) parts.push(`--set ${s}`);
  return parts.join(' ');
}

/**
 * The default output directory of a design: its name and short config hash, so designs that
 * differ (overrides, edited config) never share a directory. Synth and flow reports go inside it.
 */
export const defaultOutDir = (cfg: ResolvedDpu) =>
  join('rtl-out', `${cfg.name}-${cfg.shortHash.slice(0, 8)}`);

/** The synthesis tools of commands that synthesize: --liberty, --yosys, --cache. */
export function withSynthToolOptions<T>(y: Argv<T>) {
  return y
    .option('liberty', {
      type: 'string',
      describe: 'liberty file, gzipped or not (default: osu018 from qflow-tech-osu018, or $STRUMGEN_LIBERTY)',
    })
    .option('yosys', {
      type: 'string',
      choices: YOSYS_IMPLS,
      describe: `Yosys to use (default $${YOSYS_IMPL_ENV}, else yowasp: the pinned npm Yosys with Booth)`,
    })
    .option('cache', {
      type: 'boolean',
      default: true,
      describe: 'reuse cached runs (--no-cache runs again)',
    });
}

/** The --force flag of commands that write an output directory. */
export function withForce<T>(y: Argv<T>) {
  return y.option('force', {
    type: 'boolean',
    default: false,
    describe: 'overwrite files in the output directory that strumgen did not write (or that were edited)',
  });
}

export async function configFromArgs(argv: ConfigArgs): Promise<ResolvedDpu> {
  const spec = argv.config ?? DEFAULT_PRESET;
  if (!spec) throw new UserError('no config given');
  const resolved = await loadConfig(spec, overridesOf(argv));
  for (const w of resolved.warnings) process.stderr.write(`warning: ${w}\n`);
  return resolved;
}
