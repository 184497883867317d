import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { CommandModule } from 'yargs';
import { outputKind } from '../../config/atomic.ts';
import { UserError } from '../../config/errors.ts';
import { checkOutputDir, claimOutputDir } from '../../io/output.ts';
import {
  type ActivationSource,
  DEFAULT_CYCLES,
  DEFAULT_LAYER,
  DEFAULT_MODEL,
  DEFAULT_POWER_SEED,
  runPower,
} from '../../power/index.ts';
import { POWER_OUTPUT, powerSummaryLines, writePowerReport } from '../../report/power.ts';
import { RTL_OUTPUT } from '../../rtl/index.ts';
import {
  type ConfigArgs,
  configFromArgs,
  defaultOutDir,
  withConfigOptions,
  withForce,
  withSynthToolOptions,
} from '../options.ts';

interface Args extends ConfigArgs {
  weights?: string;
  layer?: string;
  acts?: string;
  cycles?: number;
  seed?: number;
  baseline?: boolean;
  liberty?: string;
  'clock-ns'?: number;
  yosys?: string;
  cache?: boolean;
  json?: boolean;
  out?: string;
  timed?: boolean;
  'timed-cycles'?: number;
  force?: boolean;
}

/** Cycles of the glitch-aware run. */
export const DEFAULT_TIMED_CYCLES = 300;

/** --acts: relu, laplace, zero, or a tensor file (.npy / .json). */
export function activationSourceOf(acts: string | undefined): ActivationSource {
  if (acts === undefined || acts === 'relu' || acts === 'laplace' || acts === 'zero') return acts ?? 'relu';
  if (!existsSync(acts)) throw new UserError(`--acts ${acts}: not relu, laplace, zero or an existing file`);
  return { file: acts };
}

export const powerCommand: CommandModule<object, Args> = {
  command: 'power [config]',
  describe:
    'PE power from simulated switching activity (gate level, real weights, golden-checked) with OpenSTA; --baseline compares with INT8',
  builder: (y) =>
    withSynthToolOptions(withForce(withConfigOptions(y)))
      .option('weights', {
        type: 'string',
        describe: `real weights: .onnx, .npy or JSON tensor file, or 'random' (default ${DEFAULT_MODEL})`,
      })
      .option('layer', {
        type: 'string',
        describe: `tensor of --weights (default ${DEFAULT_LAYER} of the default model)`,
      })
      .option('acts', {
        type: 'string',
        describe: 'activations: relu (default), laplace, zero, or a .npy/.json tensor file',
      })
      .option('cycles', { type: 'number', default: DEFAULT_CYCLES, describe: 'stimulus cycles to simulate' })
      .option('seed', { type: 'number', default: DEFAULT_POWER_SEED, describe: 'stimulus seed' })
      .option('timed', {
        type: 'boolean',
        default: false,
        describe: "also glitch-aware activity from Icarus with OpenSTA's SDF delays (slow)",
      })
      .option('timed-cycles', {
        type: 'number',
        default: DEFAULT_TIMED_CYCLES,
        describe: 'cycles of the --timed run (at most --cycles)',
      })
      .option('baseline', {
        type: 'boolean',
        default: false,
        describe: 'also the INT8 baseline PE with the same stimulus, and the change',
      })
      .option('clock-ns', { type: 'number', default: 10, describe: 'clock period of the power figures, ns' })
      .option('out', {
        type: 'string',
        describe:
          'output directory (default rtl-out/<name>-<hash>/power/, beside the RTL); replaced atomically',
      })
      .option('json', {
        type: 'boolean',
        default: false,
        describe: 'print the JSON report on stdout',
      }) as never,
  handler: async (argv) => {
    const cfg = await configFromArgs(argv);
    const cycles = argv.cycles ?? DEFAULT_CYCLES;
    if (!Number.isInteger(cycles) || cycles < 1 || cycles > 10_000_000)
      throw new UserError('--cycles: an integer from 1 to 10000000');
    const clock = argv['clock-ns'] ?? 10;
    if (!(Number.isFinite(clock) && clock > 0)) throw new UserError('--clock-ns: must be a positive number');
    if (argv.layer !== undefined && argv.weights === undefined)
      throw new UserError('--layer needs --weights');
    const timedCycles = argv['timed-cycles'] ?? DEFAULT_TIMED_CYCLES;
    if (!(Number.isInteger(timedCycles) && timedCycles > 0))
      throw new UserError('--timed-cycles: a positive whole number');
    const timed = argv.timed ? Math.min(timedCycles, cycles) : undefined;
    // The output directory is checked before minutes of simulation, and written after.
    const rtlDir = argv.out === undefined ? defaultOutDir(cfg) : undefined;
    const out = argv.out ?? join(rtlDir!, 'power');
    if (rtlDir) checkOutputDir(rtlDir, outputKind(RTL_OUTPUT));
    checkOutputDir(out, outputKind(POWER_OUTPUT));
    const weights =
      argv.weights === 'random'
        ? ('random' as const)
        : argv.weights
          ? { path: argv.weights, layer: argv.layer }
          : undefined;
    const report = await runPower(cfg, {
      weights,
      acts: activationSourceOf(argv.acts),
      cycles,
      timedCycles: timed,
      seed: argv.seed,
      baseline: argv.baseline,
      liberty: argv.liberty,
      clockPeriodNs: clock,
      yosys: argv.yosys,
      cache: argv.cache,
      onProgress: (msg) => process.stderr.write(`${msg}\n`),
    });
    if (rtlDir) claimOutputDir(rtlDir, outputKind(RTL_OUTPUT));
    const dir = await writePowerReport(report, out, { force: argv.force });
    const where = relative(process.cwd(), dir) || '.';
    if (argv.json) {
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      process.stderr.write(`power: wrote ${where}/power.json and power.md\n`);
      return;
    }
    const lines = [...powerSummaryLines(report), `  report        ${where}/power.md`];
    for (const w of report.warnings) lines.push(`warning: ${w}`);
    process.stdout.write(`${lines.join('\n')}\n`);
  },
};
