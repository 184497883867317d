// The strumgen command line. Each command lives in commands/; user errors print one
// message per line and exit with their code (2 for bad input), never a stack trace.
import { readFileSync } from 'node:fs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { UserError } from '../config/errors.ts';
import { accuracyCommand } from './commands/accuracy.ts';
import { configCommand } from './commands/config.ts';
import { doctorCommand } from './commands/doctor.ts';
import { flowCommand } from './commands/flow.ts';
import { generateCommand } from './commands/generate.ts';
import { quantizeCommand } from './commands/quantize.ts';
import { simCommand } from './commands/sim.ts';
import { synthCommand } from './commands/synth.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

export async function main(args: string[]): Promise<number> {
  try {
    await yargs(args)
      .scriptName('strumgen')
      .usage('$0 <command> [options]\n\nGenerate, simulate and synthesize StruM mixed-precision PE arrays.')
      .command(configCommand)
      .command(doctorCommand)
      .command(generateCommand)
      .command(quantizeCommand)
      .command(simCommand)
      .command(synthCommand)
      .command(flowCommand)
      .command(accuracyCommand)
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
    throw e;
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.env.STRUMGEN_MAIN === '1') {
  main(hideBin(process.argv)).then((code) => {
    process.exitCode = code;
  });
}
