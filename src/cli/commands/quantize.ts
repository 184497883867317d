import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandModule } from 'yargs';
import { UserError } from '../../config/errors.ts';
import { MASK_SCOPES } from '../../config/mask-scope.ts';
import { configOf } from '../../config/resolve.ts';
import { checkOutputDir, type OutputKind, writeOutputDir } from '../../io/output.ts';
import {
  evaluateLayer,
  type LayerResult,
  makeScheme,
  packMatrix,
  QUANT_FORMATS,
  type QuantFormat,
  type Scheme,
  type SchemeOptions,
  schemeLabel,
  summarize,
} from '../../quant/evaluate.ts';
import { type Layer, layerMatrix, loadLayers } from '../../quant/load.ts';
import {
  LPQ_METHODS,
  LPQ_OBJECTIVES,
  type LpqLayerChoice,
  type LpqMethod,
  type LpqObjective,
  lpqLayer,
  lpqSearches,
} from '../../quant/lpq-layer.ts';
import { SELECT_POLICIES, type SelectPolicy } from '../../quant/quantize.ts';

interface Args {
  input: string;
  layer?: string;
  low: QuantFormat;
  block: number;
  high?: number;
  select: SelectPolicy;
  granularity: 'block' | 'layer';
  scope: string;
  group: number;
  rows: number;
  acts?: string;
  json: boolean;
  out?: string;
  force: boolean;
  lpq: LpqMethod | 'off';
  lpqObjective: LpqObjective;
  seed: number;
  lowBits?: number;
  weightBits?: number;
  lpEs?: number;
  lpRs?: number;
}

/** yargs' own choices check prints several lines; this is one. */
function oneOf(flag: string, value: string, allowed: readonly string[]): void {
  if (!allowed.includes(value))
    throw new UserError(`${flag}: '${value}' is not one of ${allowed.join(', ')}`);
}

/** Given activations: one [rows, K] tensor of signed 8-bit integers for the single layer. */
async function loadActivations(
  file: string,
  layers: readonly Layer[],
): Promise<{ data: Float32Array; rows: number }> {
  if (layers.length !== 1)
    throw new UserError(`--acts ${file}: needs a single layer (pick one with --layer)`);
  const [t] = await loadLayers(file);
  const { K } = layerMatrix(layers[0]!);
  if (t!.shape.length !== 2 || t!.shape[1] !== K) {
    throw new UserError(
      `--acts ${file}: shape [${t!.shape.join(', ')}] is not [rows, ${K}] (K of ${layers[0]!.name})`,
    );
  }
  const bad = t!.data.findIndex((a) => !Number.isInteger(a) || a < -128 || a > 127);
  if (bad >= 0)
    throw new UserError(`--acts ${file}: element ${bad} (${t!.data[bad]}) is not an integer in -128..127`);
  return { data: t!.data, rows: t!.shape[0]! };
}

/** JSON with Infinity/NaN (a zero-error SQNR) as null. */
const toJson = (v: unknown) =>
  JSON.stringify(v, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? null : x), 2);

/** dB for the table: 'inf' for no error, 'undef' when there is no signal (all-zero weights). */
const db = (x: number) => (Number.isNaN(x) ? 'undef' : Number.isFinite(x) ? x.toFixed(2) : 'inf');

/** LP layers: the parameters LPQ chose (es/rs/sf, t the stored scale) for the table. */
const lpLabel = (c: LpqLayerChoice) => `es=${c.es} rs=${c.rs} sf=${c.sf} (t=${c.t})`;

function table(
  results: readonly LayerResult[],
  overall: ReturnType<typeof summarize>,
  lp: readonly LpqLayerChoice[] | null = null,
): string {
  const head = ['layer', 'shape', 'N x K', 'SQNR dB', 'out dB', 'MSE', 'max err', 'low %', 'bits/w'];
  if (lp) head.push('LP params');
  const rows = results.map(({ metrics: m }, i) => [
    m.name,
    m.shape.join('x'),
    `${m.N}x${m.K}${m.Kp !== m.K ? `(${m.Kp})` : ''}`,
    db(m.sqnrDb),
    db(m.outputSqnrDb),
    m.mse.toExponential(2),
    m.maxAbsErr.toExponential(2),
    (100 * m.lowShare).toFixed(1),
    m.bitsPerWeight.toFixed(2),
    ...(lp ? [lpLabel(lp[i]!)] : []),
  ]);
  const o = overall;
  rows.push([
    `overall (${o.layers} layers)`,
    '',
    `${o.weights} w`,
    db(o.sqnrDb),
    db(o.outputSqnrDb),
    o.mse.toExponential(2),
    o.maxAbsErr.toExponential(2),
    (100 * o.lowShare).toFixed(1),
    o.bitsPerWeight.toFixed(2),
    ...(lp ? [''] : []),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i < 3 || i > 8 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.slice(0, -1).map(line), '-'.repeat(line(head).length), line(rows.at(-1)!)].join(
    '\n',
  );
}

/** The packed-weights output directory (weights.json marks it). */
const QUANT_OUTPUT: OutputKind = {
  kind: 'quantize',
  label: 'a strumgen quantize output',
  legacy: { file: 'weights.json', owns: (j) => j.tool === 'strumgen quantize' },
};

function packedConfig(scheme: Scheme) {
  if (!scheme.cfg) {
    throw new UserError(
      `--out: int4 is a quality baseline with no packed format (use ${QUANT_FORMATS.filter((f) => f !== 'int4').join(', ')})`,
    );
  }
  return scheme.cfg;
}

/** Write the packed layers and their description into dir, all or nothing (src/io/output.ts policy). */
async function writeOut(
  dir: string,
  input: string,
  scheme: Scheme,
  results: readonly LayerResult[],
  force: boolean,
): Promise<void> {
  const cfg = packedConfig(scheme);
  await writeOutputDir(
    dir,
    QUANT_OUTPUT,
    (tmp) => {
      const layers = results.map((r, i) => {
        const file = `${String(i).padStart(3, '0')}_${r.metrics.name.replace(/[^A-Za-z0-9_.-]/g, '_')}.bin`;
        const words = packMatrix(cfg, r.qm!);
        writeFileSync(join(tmp, file), new Uint8Array(words.buffer, words.byteOffset, words.byteLength));
        return {
          ...r.metrics,
          file,
          blocksPerRow: r.qm!.Kp / cfg.pe.block,
          scales: Array.from(r.qm!.scales),
        };
      });
      const description = {
        tool: 'strumgen quantize',
        input,
        scheme: schemeLabel(scheme),
        select: scheme.select,
        config: configOf(cfg),
        hash: cfg.hash,
        weightBlockBits: cfg.derived.weightBlockBits,
        wordsPerBlock: Math.max(1, Math.ceil(cfg.derived.weightBlockBits / 32)),
        layout:
          'each .bin: little-endian uint32 words; row n (output channel), block j at word ' +
          '(n * blocksPerRow + j) * wordsPerBlock; block bits as docs/FORMATS.md; K order as docs/QUANTIZATION.md' +
          '; mask scope layer: a layer with "permutation" is stored with its input channels in that order ' +
          "(channel c = original channel permutation[c]; permute the producer's output channels the same way), " +
          'a layer with "precision" runs INT8 on the high lanes (docs/CODESIGN.md)',
        layers,
      };
      writeFileSync(join(tmp, 'weights.json'), `${toJson(description)}\n`);
    },
    { force },
  );
}

export const quantizeCommand: CommandModule<object, Args> = {
  command: 'quantize <input>',
  describe: 'Quantize the weights of an ONNX model, .npy or JSON tensor file and report the error per layer',
  builder: (y) =>
    y
      .positional('input', { type: 'string', describe: '.onnx model, .npy tensor or .json tensor file' })
      .option('layer', { type: 'string', describe: 'only the weight tensor with this name' })
      .option('low', {
        type: 'string',
        default: 'mip2q',
        describe: `low format, or a baseline: ${QUANT_FORMATS.join('|')}`,
      })
      .option('block', { type: 'number', default: 16, describe: 'B: weights per block' })
      .option('high', { type: 'number', describe: 'H: high (INT8) weights per block (default B/2)' })
      .option('select', {
        type: 'string',
        default: 'magnitude',
        describe: 'which weights go low: smallest |q| (magnitude) or least added error (error)',
      })
      .option('granularity', { type: 'string', default: 'block', describe: 'DLIQ shift per block|layer' })
      .option('scope', {
        type: 'string',
        default: 'pe',
        describe:
          'mask scope: pe (a mask per output channel), group (one per --group output channels), layer (per input channel, permuted)',
      })
      .option('group', {
        type: 'number',
        default: 4,
        describe: 'G: output channels per shared mask (--scope group)',
      })
      .option('acts', {
        type: 'string',
        describe:
          'activations for output SQNR: .npy/.json [rows, K] integers in the K order of docs/QUANTIZATION.md (one layer)',
      })
      .option('rows', {
        type: 'number',
        default: 32,
        describe: 'rows of synthetic activations for output SQNR',
      })
      .option('lpq', {
        type: 'string',
        default: 'exhaustive',
        describe:
          '--low lp: per-layer LP parameter search (es, rs, sf): exhaustive|genetic, or off (the config es/rs, sf searched)',
      })
      .option('lpq-objective', {
        type: 'string',
        default: 'output',
        describe:
          "--low lp: LPQ's objective: the layer's output error on the activations, or its weight error",
      })
      .option('seed', { type: 'number', default: 1, describe: 'seed of the genetic LPQ search' })
      .option('low-bits', { type: 'number', describe: 'lowBits: bits of a low code (LP: the word length n)' })
      .option('weight-bits', {
        type: 'number',
        describe: 'weightBits: the high weights and the integer grid',
      })
      .option('lp-es', { type: 'number', describe: '--low lp --lpq off: lp.es' })
      .option('lp-rs', { type: 'number', describe: '--low lp --lpq off: lp.rs' })
      .option('compression', {
        type: 'number',
        describe: '--low binary|tern|lowint: block compression (<low>.compression; docs/LOWBIT.md)',
      })
      .option('json', { type: 'boolean', default: false, describe: 'print one JSON object' })
      .option('out', {
        type: 'string',
        describe: 'write packed weights and weights.json into this directory',
      })
      .option('force', {
        type: 'boolean',
        default: false,
        describe: 'overwrite files in --out that strumgen did not write (or that were edited)',
      }) as never,
  handler: async (argv) => {
    if (!Number.isInteger(argv.rows) || argv.rows < 1)
      throw new UserError('--rows: must be a positive integer');
    oneOf('--low', argv.low, QUANT_FORMATS);
    oneOf('--select', argv.select, SELECT_POLICIES);
    oneOf('--granularity', argv.granularity, ['block', 'layer']);
    oneOf('--scope', argv.scope, MASK_SCOPES);
    oneOf('--lpq', argv.lpq, [...LPQ_METHODS, 'off']);
    oneOf('--lpq-objective', argv.lpqObjective, LPQ_OBJECTIVES);
    const lpParams = {
      ...(argv.lpEs !== undefined ? { es: argv.lpEs } : {}),
      ...(argv.lpRs !== undefined ? { rs: argv.lpRs } : {}),
      ...(argv.compression !== undefined ? { compression: argv.compression } : {}),
    };
    const options: SchemeOptions = {
      ...(Object.keys(lpParams).length ? { params: lpParams } : {}),
      ...(argv.lowBits !== undefined ? { lowBits: argv.lowBits } : {}),
      ...(argv.weightBits !== undefined ? { weightBits: argv.weightBits } : {}),
      maskScope:
        argv.scope === 'group'
          ? { kind: 'group', channels: argv.group }
          : { kind: argv.scope as 'pe' | 'layer' },
      low: argv.low,
      block: argv.block,
      high: argv.high,
      select: argv.select,
      granularity: argv.granularity,
    };
    const scheme = makeScheme(options);
    const lpq = lpqSearches(argv.low) && argv.lpq !== 'off' ? argv.lpq : null;
    if (argv.out !== undefined) {
      packedConfig(scheme);
      checkOutputDir(argv.out, QUANT_OUTPUT);
    }
    const layers = await loadLayers(argv.input, { layer: argv.layer });
    const acts = argv.acts ? await loadActivations(argv.acts, layers) : undefined;
    const progress = layers.length > 4;
    const results: LayerResult[] = [];
    const lpChoices: LpqLayerChoice[] = [];
    for (const [i, layer] of layers.entries()) {
      if (progress) process.stderr.write(`quantize [${i + 1}/${layers.length}] ${layer.name}\n`);
      if (lpq) {
        const c = lpqLayer(layer, options, {
          method: lpq,
          objective: argv.lpqObjective,
          seed: argv.seed,
          rows: argv.rows,
          ...(acts ? { acts } : {}),
        });
        lpChoices.push(c);
        results.push(evaluateLayer(layer, c.scheme, { rows: argv.rows, acts, metaIndex: c.t }));
      } else results.push(evaluateLayer(layer, scheme, { rows: argv.rows, acts }));
    }
    const overall = summarize(scheme, results);
    if (argv.out !== undefined) await writeOut(argv.out, argv.input, scheme, results, argv.force);
    if (argv.json) {
      process.stdout.write(
        `${toJson({
          input: argv.input,
          overall,
          layers: results.map((r, i) =>
            lpq ? { ...r.metrics, lpq: { ...lpChoices[i]!, scheme: undefined } } : r.metrics,
          ),
          ...(lpq ? { lpq: { method: lpq, objective: argv.lpqObjective, seed: argv.seed } } : {}),
        })}\n`,
      );
    } else {
      const lpLine = lpq
        ? `\nLPQ ${lpq} (${argv.lpqObjective} error${lpq === 'genetic' ? `, seed ${argv.seed}` : ''}): ` +
          `${lpChoices.reduce((s, c) => s + c.evaluations, 0)} evaluations in ` +
          `${lpChoices.reduce((s, c) => s + c.seconds, 0).toFixed(1)} s; a PE fixes es and rs (lp.es, lp.rs), sf is per layer`
        : '';
      process.stdout.write(
        `${argv.input}: ${overall.scheme}\n${table(results, overall, lpq ? lpChoices : null)}${lpLine}\n`,
      );
    }
  },
};
