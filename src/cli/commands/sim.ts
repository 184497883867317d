import type { CommandModule } from 'yargs';
import { UserError } from '../../config/errors.ts';
import {
  BUILD_MODES,
  type BuildMode,
  DEFAULT_SEED,
  DEFAULT_VECTORS,
  type MismatchReport,
  PE_MODELS_FROM,
  runSim,
  type SimResult,
} from '../../sim/index.ts';
import { type ConfigArgs, configArgsText, configFromArgs, withConfigOptions } from '../options.ts';

interface Args extends ConfigArgs {
  vectors: number;
  seed: number;
  weights?: string;
  layer?: string;
  waves?: string;
  tile?: number;
  timeout?: number;
  edges: boolean;
  buildMode?: BuildMode;
  json: boolean;
  force: boolean;
}

/** The config part of this invocation, for re-run hints. */
function configCommandOf(argv: Args): string {
  return `npx strumgen sim ${configArgsText(argv)}${argv.edges ? '' : ' --no-edges'}`;
}

/** A rate with a unit prefix that keeps 3 significant digits: short runs are not '0.00 M'. */
export const rate = (x: number) => {
  if (!Number.isFinite(x)) return '- ';
  if (x >= 1e6) return `${(x / 1e6).toPrecision(3)} M `;
  if (x >= 1e3) return `${(x / 1e3).toPrecision(3)} k `;
  return `${x.toPrecision(3)} `;
};

function describeMismatch(m: MismatchReport): string[] {
  const lines = [`  ${m.message}${m.label ? `  [${m.label}]` : ''}`];
  if (m.hint) lines.push(`    hint: ${m.hint}`);
  if (m.partialSums?.length) {
    const steps = m.partialSums.map((p) => `${p.clear ? 'clear ' : ''}+${p.blockSum}=${p.acc}@${p.cycle}`);
    lines.push(`    golden partial sums (block sum = accumulator @ cycle): ${steps.join(', ')}`);
  }
  lines.push(`    re-run: ${m.rerun}`);
  return lines;
}

function summary(r: SimResult, rows: number, cols: number): string {
  const lines = [
    `${r.config.name} ${rows}x${cols} (hash ${r.config.hash.slice(0, 12)}), seed ${r.seed}: ${r.pass ? 'PASS' : 'FAIL'}`,
    `  ${r.vectors} vectors in ${r.tiles} tiles, ${r.cycles} cycles; ${r.tilesChecked} tiles checked, ${r.mismatches} mismatches`,
    `  ${rate(r.arrayCyclesPerSec)}array-cycles/s, ${rate(r.macsPerSec)}MACs checked/s over the whole path ` +
      `(model loop alone ${rate(r.modelCyclesPerSec)}cycles/s; checker ${r.kernel})`,
    `  model: ${r.cached ? 'cached build' : `built in ${r.buildSeconds.toFixed(1)} s`} (${r.verilator})`,
  ];
  if (r.weights)
    lines.push(`  weights: ${r.weights.path} ${r.weights.layer} (${r.weights.N} x ${r.weights.K})`);
  if (r.waves) lines.push(`  waves: ${r.waves}`);
  if (!r.pass) {
    if (r.badPes.length) lines.push(`  PEs with wrong results: ${r.badPes.length} of ${rows * cols}`);
    lines.push(`  first mismatches:`);
    for (const m of r.firstMismatches) lines.push(...describeMismatch(m));
  }
  return `${lines.join('\n')}\n`;
}

export const simCommand: CommandModule<object, Args> = {
  command: 'sim [config]',
  describe: 'Co-simulate the generated array in Verilator against the golden model',
  builder: (y) =>
    withConfigOptions(y)
      .option('vectors', {
        type: 'number',
        default: DEFAULT_VECTORS,
        describe: 'valid array cycles to simulate (one block per row and column each)',
      })
      .option('seed', { type: 'number', default: DEFAULT_SEED, describe: 'stimulus seed' })
      .option('weights', { type: 'string', describe: 'real weights: a .onnx, .npy or JSON tensor file' })
      .option('layer', { type: 'string', describe: 'tensor of --weights to use (default: the first)' })
      .option('waves', {
        type: 'string',
        describe: 'write an FST (.fst) or VCD (.vcd) of the run, around the first mismatch if any',
      })
      .option('tile', { type: 'number', describe: 're-run: same stream up to this tile, check only it' })
      .option('timeout', { type: 'number', describe: 'kill the simulation after this many seconds' })
      .option('edges', { type: 'boolean', default: true, describe: 'start with the edge-case tiles' })
      .option('build-mode', {
        choices: BUILD_MODES,
        describe: `how Verilator builds the array (default: pe-module below ${PE_MODELS_FROM} PEs, pe-models from there: builds in about flat time, runs slower)`,
      })
      .option('force', {
        type: 'boolean',
        default: false,
        describe: 'overwrite an existing --waves file that is not a waveform',
      })
      .option('json', { type: 'boolean', default: false, describe: 'print one JSON object' }) as never,
  handler: async (argv) => {
    if (argv.layer !== undefined && argv.weights === undefined)
      throw new UserError('--layer needs --weights');
    if (argv.timeout !== undefined && !(argv.timeout > 0)) {
      throw new UserError(`--timeout: ${argv.timeout} is not a positive number of seconds`);
    }
    const cfg = await configFromArgs(argv);
    const result = await runSim(cfg, {
      vectors: argv.vectors,
      seed: argv.seed,
      ...(argv.weights ? { weights: { path: argv.weights, layer: argv.layer } } : {}),
      waves: argv.waves,
      force: argv.force,
      tile: argv.tile,
      edges: argv.edges,
      buildMode: argv.buildMode,
      timeoutMs: argv.timeout === undefined ? undefined : argv.timeout * 1000,
      rerunBase: configCommandOf(argv),
      onProgress: (m) => process.stderr.write(`${m}\n`),
    });
    if (argv.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else process.stdout.write(summary(result, cfg.array.rows, cfg.array.cols));
    if (!result.pass) {
      throw new UserError(`simulation of ${cfg.name} FAILED: ${result.mismatches} mismatches`, 1);
    }
  },
};
