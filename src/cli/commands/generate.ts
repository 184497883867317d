import { relative } from 'node:path';
import type { CommandModule } from 'yargs';
import { writeRtl } from '../../rtl/index.ts';
import { type ConfigArgs, configFromArgs, defaultOutDir, withConfigOptions, withForce } from '../options.ts';

interface Args extends ConfigArgs {
  out?: string;
  force?: boolean;
}

export const generateCommand: CommandModule<object, Args> = {
  command: 'generate [config]',
  describe: 'Write the Verilog of a PE array, files.f, PORTS.md and manifest.json',
  builder: (y) =>
    withForce(withConfigOptions(y)).option('out', {
      type: 'string',
      describe: 'output directory (default rtl-out/<name>-<hash>/); only strumgen’s own files are replaced',
    }) as never,
  handler: async (argv) => {
    const cfg = await configFromArgs(argv);
    const out = argv.out ?? defaultOutDir(cfg);
    process.stderr.write(
      `generating ${cfg.name} (${cfg.array.rows} x ${cfg.array.cols}, hash ${cfg.shortHash})\n`,
    );
    const { dir, manifest } = await writeRtl(cfg, out, {
      force: argv.force,
      onProgress: (m) => process.stderr.write(`${m}\n`),
    });
    const v = manifest.files.filter((f) => f.name.endsWith('.v')).length;
    process.stdout.write(`${relative(process.cwd(), dir) || '.'}: ${v} Verilog files, top ${manifest.top}\n`);
  },
};
