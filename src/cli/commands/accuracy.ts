import { join, relative } from 'node:path';
import type { CommandModule } from 'yargs';
import {
  type AccuracyReport,
  loadTask,
  runAccuracy,
  schemeTable,
  TASKS,
  writeAccuracyReport,
} from '../../accuracy/index.ts';
import { checkIntegerTask, integerMarkdown, integerPath } from '../../accuracy/integer-run.ts';
import { UserError } from '../../config/errors.ts';
import { structureOf } from '../../format/structure.ts';
import { SELECT_POLICIES, type SelectPolicy } from '../../quant/index.ts';
import { type ConfigArgs, overridesOf, withOverrideOptions } from '../options.ts';

interface Args extends ConfigArgs {
  task: string;
  data?: string;
  charset?: string;
  schemes?: string;
  select: string;
  keepInt8?: string;
  sensitivity: boolean;
  limit?: number;
  seed: number;
  rtl: boolean;
  integer: boolean;
  activations: string;
  json: boolean;
  out?: string;
}

/** One progress bar line on stderr per scheme (redrawn in place on a terminal). */
function progressBar(scheme: string, index: number, count: number) {
  const tty = process.stderr.isTTY;
  let shown = -1;
  const t0 = performance.now();
  return (done: number, total: number) => {
    const frac = total ? done / total : 1;
    const step = Math.floor(frac * (tty ? 40 : 4));
    if (step === shown && done < total) return;
    shown = step;
    const bar = `${'#'.repeat(Math.round(frac * 30)).padEnd(30, '.')}`;
    const text = `accuracy [${index + 1}/${count}] ${scheme.padEnd(18)} [${bar}] ${done}/${total} ${((performance.now() - t0) / 1000).toFixed(0)} s`;
    if (tty) process.stderr.write(`\r${text}${done >= total ? '\n' : ''}`);
    else if (done >= total || step > 0) process.stderr.write(`${text}\n`);
  };
}

function textSummary(r: AccuracyReport): string {
  return `${r.task}: ${r.metric} on ${r.samples} samples (${r.model})\n${schemeTable(r)}\n`;
}

export const accuracyCommand: CommandModule<object, Args> = {
  command: 'accuracy <task>',
  describe:
    'Accuracy of a real network under each weight scheme (onnxruntime; --rtl: on the generated array)',
  builder: (y) =>
    withOverrideOptions(y)
      .positional('task', {
        type: 'string',
        describe: `${TASKS.join(' | ')} | a model.onnx (with --data DIR)`,
      })
      .option('data', {
        type: 'string',
        describe: 'data directory (IDX pair, or images + labels.txt; docs/ACCURACY.md)',
      })
      .option('charset', {
        type: 'string',
        describe: "a CTC recognizer's character list: makes a user model an OCR task",
      })
      .option('schemes', {
        type: 'string',
        default: 'int8,strum-mip2q,strum-dliq',
        describe:
          'comma list: float, int8, int4, mip2q, dliq, sparse, a preset, config, all; suffix :magnitude|:error',
      })
      .option('select', { type: 'string', default: 'magnitude', describe: 'policy for schemes without one' })
      .option('keep-int8', {
        type: 'string',
        describe: 'layers kept INT8 under every scheme: first, last or weight names (comma list)',
      })
      .option('sensitivity', {
        type: 'boolean',
        default: false,
        describe:
          "mask scopes group/layer: weight each input channel's cost by its mean square activation on the calibration samples (classifiers)",
      })
      .option('limit', { type: 'number', describe: 'only the first N samples (OCR: render N lines)' })
      .option('seed', { type: 'number', default: 1, describe: 'seed of the rendered OCR lines' })
      .option('integer', {
        type: 'boolean',
        default: false,
        describe:
          'also run the integer path: int8 activations (golden model and onnxruntime ConvInteger/MatMulInteger)',
      })
      .option('activations', {
        type: 'string',
        default: 'float',
        describe:
          "float | int8: int8 activations (calibrated per tensor) at every weight layer's input, emulated in the graph; an SDP design on the activations also drops its activation parts (every task, OCR included)",
      })
      .option('rtl', {
        type: 'boolean',
        default: false,
        describe: "integer path plus the conv/FC layers on each scheme's generated array in Verilator",
      })
      .option('json', { type: 'boolean', default: false, describe: 'print the report as JSON' })
      .option('out', { type: 'string', describe: 'report directory (default rtl-out/accuracy-<task>)' })
      .option('config', {
        type: 'string',
        describe: 'base config (preset or file) of the format schemes and of --rtl',
      }) as never,
  handler: async (argv) => {
    if (!(SELECT_POLICIES as readonly string[]).includes(argv.select)) {
      throw new UserError(`--select: '${argv.select}' is not one of ${SELECT_POLICIES.join(', ')}`);
    }
    const task = await loadTask(argv.task, {
      data: argv.data,
      charset: argv.charset,
      limit: argv.limit,
      seed: argv.seed,
    });
    if (argv.activations !== 'float' && argv.activations !== 'int8') {
      throw new UserError(`--activations: '${argv.activations}' is not float or int8`);
    }
    const keepInt8 = (argv.keepInt8 ?? '').split(',').filter(Boolean);
    if (argv.integer || argv.rtl) {
      // One array runs one format: a layer kept INT8 would need a second array.
      if (keepInt8.length)
        throw new UserError('--keep-int8 applies to fake quantization only, not with --integer/--rtl');
      await checkIntegerTask(task);
    }
    const command = `strumgen accuracy ${process.argv.slice(3).join(' ')}`.trim();
    const { report: base, runs } = await runAccuracy(task, {
      schemes: argv.schemes ?? (argv.config ? 'int8,config' : 'int8,strum-mip2q,strum-dliq'),
      context: { config: argv.config, overrides: overridesOf(argv), select: argv.select as SelectPolicy },
      keepInt8,
      command,
      onProgress: progressBar,
      sensitivity: argv.sensitivity,
      activations: argv.activations === 'int8',
      onCalibration: (m) => process.stderr.write(`${m}\n`),
    });
    let report = base;
    let extra = '';
    // Designs whose PE drops activation parts (SDP on the activations): fake quantization cannot see it.
    const dropping = runs
      .filter((r) => r.scheme.kind === 'config' && structureOf(r.scheme.cfg).activationSelection)
      .map((r) => r.scheme.id);
    if (dropping.length && !(argv.integer || argv.rtl) && argv.activations !== 'int8')
      process.stderr.write(
        `note: ${dropping.join(', ')}: SDP drops activation parts, which fake quantization of the weights does not see (INT8 weights): add --activations int8 (any task) or --integer (CNN classifiers)\n`,
      );
    if (argv.integer || argv.rtl) {
      const integer = await integerPath(task, runs, {
        rtl: argv.rtl,
        onProgress: (m) => process.stderr.write(`${m}\n`),
      });
      report = { ...base, integer };
      extra = integerMarkdown(integer, base.samples);
    }
    const out = argv.out ?? join('rtl-out', `accuracy-${task.name}`);
    const dir = await writeAccuracyReport(report, out, extra);
    if (argv.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else
      process.stdout.write(
        `${textSummary(report)}${extra ? `\n${extra}\n\n` : ''}report: ${join(relative(process.cwd(), dir), 'accuracy.md')}\n`,
      );
  },
};
