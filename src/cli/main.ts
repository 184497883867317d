// The strumgen command line. Each command lives in commands/; user errors print one
// message per line and exit with their code (2 for bad input), never a stack trace.
import { readFileSync } from 'node:fs';
import type { CommandModule } from 'yargs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { UserError } from '../config/errors.ts';
import { FS_ERROR_EXIT, fsErrorMessage, isFsError } from '../io/fs-errors.ts';
import { installExitHandlers } from '../io/process.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

type AnyCommand = CommandModule<object, never>;

/**
 * The commands, in --help order. Each is imported only when it runs (or its --help is asked
 * for): `strumgen --help` then loads none of the stages, which is most of the start-up time.
 * `usage` and `describe` are what `strumgen --help` lists. The imports are spelled out (not
 * built from the name) so the bundler behind dist/ (scripts/build-dist.mjs) can split them.
 */
const COMMAND_TABLE: { usage: string; describe: string; load: () => Promise<AnyCommand> }[] = [
  {
    usage: 'config [config]',
    describe: 'Print the resolved config, its derived values and its hash',
    load: async () => (await import('./commands/config.ts')).configCommand as AnyCommand,
  },
  {
    usage: 'doctor',
    describe: 'Check the external tools the flow uses (Verilator, make, g++, Yosys, OpenSTA, osu018)',
    load: async () => (await import('./commands/doctor.ts')).doctorCommand as AnyCommand,
  },
  {
    usage: 'generate [config]',
    describe: 'Write the Verilog of a PE array, files.f, PORTS.md and manifest.json',
    load: async () => (await import('./commands/generate.ts')).generateCommand as AnyCommand,
  },
  {
    usage: 'quantize <input>',
    describe:
      'Quantize the weights of an ONNX model, .npy or JSON tensor file and report the error per layer',
    load: async () => (await import('./commands/quantize.ts')).quantizeCommand as AnyCommand,
  },
  {
    usage: 'sim [config]',
    describe: 'Co-simulate the generated array in Verilator against the golden model',
    load: async () => (await import('./commands/sim.ts')).simCommand as AnyCommand,
  },
  {
    usage: 'synth [config]',
    describe: 'Synthesize the PE (or array) with Yosys and OpenSTA: area, fmax, and the change against INT8',
    load: async () => (await import('./commands/synth.ts')).synthCommand as AnyCommand,
  },
  {
    usage: 'power [config]',
    describe:
      'PE power from simulated switching activity (gate level, real weights, golden-checked); --baseline compares with INT8',
    load: async () => (await import('./commands/power.ts')).powerCommand as AnyCommand,
  },
  {
    usage: 'flow [config]',
    describe: 'Generate, co-simulate, synthesize against the INT8 baseline, and summarize',
    load: async () => (await import('./commands/flow.ts')).flowCommand as AnyCommand,
  },
  {
    usage: 'accuracy <task>',
    describe:
      'Accuracy of a real network under each weight scheme (onnxruntime; --rtl: on the generated array)',
    load: async () => (await import('./commands/accuracy.ts')).accuracyCommand as AnyCommand,
  },
  {
    usage: 'sweep <spec>',
    describe:
      'Design-space sweep: area, fmax, power, accuracy of every point; Pareto fronts, SVG plots, HTML (--jobs N, or Slurm)',
    load: async () => (await import('./commands/sweep.ts')).sweepCommand as AnyCommand,
  },
];

const commandName = (c: { usage: string }) => c.usage.split(' ')[0]!;
const COMMANDS = COMMAND_TABLE.map(commandName);

/** Options that take one value: given twice, yargs makes an array the command then misreads. */
function refuseRepeats(argv: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(argv)) {
    if (k === '_' || k === 'set' || k.includes('-') || !Array.isArray(v)) continue;
    throw new UserError(`--${k}: given more than once (${v.join(', ')}); give it once`, 2);
  }
}

export { installExitHandlers };

export async function main(args: string[]): Promise<number> {
  try {
    const first = args.find((a) => !a.startsWith('-'));
    if (first !== undefined && args[0] === first && !COMMANDS.includes(first)) {
      throw new UserError(
        `strumgen: unknown command '${first}' (commands: ${COMMANDS.join(', ')}; see strumgen --help)`,
        2,
      );
    }
    // Only the command being run is loaded; the others are listed by name for --help.
    const chosen = COMMAND_TABLE.find((c) => commandName(c) === first);
    const y = yargs(args);
    for (const c of COMMAND_TABLE) {
      if (c === chosen) y.command({ ...(await c.load()), command: c.usage, describe: c.describe });
      else y.command(c.usage, c.describe);
    }
    await y
      .scriptName('strumgen')
      .usage('$0 <command> [options]\n\nGenerate, simulate and synthesize StruM mixed-precision PE arrays.')
      .middleware(refuseRepeats, true)
      .demandCommand(1, 'name a command (see --help)')
      .strict()
      .version(pkg.version)
      .help()
      .alias('h', 'help')
      .wrap(Math.min(110, process.stdout.columns || 110))
      .fail((msg, err) => {
        if (err) throw err;
        // yargs spreads some messages (bad choices) over several lines: keep errors to one.
        throw new UserError(`strumgen: ${msg.replace(/\s*\n\s*/g, ' ')} (see strumgen --help)`, 2);
      })
      .parseAsync();
    return 0;
  } catch (e) {
    if (e instanceof UserError) {
      process.stderr.write(`${e.message}\n`);
      return e.exitCode;
    }
    // An everyday filesystem error anywhere (permission, read-only, full): one line, not a stack trace.
    if (isFsError(e)) {
      process.stderr.write(`strumgen: ${fsErrorMessage(e)}\n`);
      return FS_ERROR_EXIT;
    }
    throw e;
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.env.STRUMGEN_MAIN === '1') {
  installExitHandlers();
  main(hideBin(process.argv)).then((code) => {
    process.exitCode = code;
  });
}
