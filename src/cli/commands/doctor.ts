import type { CommandModule } from 'yargs';
import { UserError } from '../../config/errors.ts';
import { probeTools, type ToolStatus } from '../../config/toolchain.ts';
import { yosysTool } from '../../synth/yosys.ts';

/** The Yosys synth uses by default: the pinned npm build, run once to read its version. */
async function yowaspStatus(): Promise<ToolStatus> {
  const base = {
    id: 'yowasp' as const,
    label: 'Yosys (yowasp)',
    install: 'npm install (or scripts/setup)',
    usedBy: 'synthesis (default)',
  };
  try {
    const t = await yosysTool('yowasp');
    return { ...base, found: true, path: t.path, version: t.version };
  } catch (e) {
    return { ...base, found: false, path: null, version: null, problem: (e as Error).message };
  }
}

export const doctorCommand: CommandModule<object, { json?: boolean }> = {
  command: 'doctor',
  describe: 'Check the external tools the flow uses (Verilator, Yosys, OpenSTA, osu018)',
  builder: (y) => y.option('json', { type: 'boolean', default: false, describe: 'print JSON' }) as never,
  handler: async (argv) => {
    const tools: ToolStatus[] = await probeTools();
    tools.push(await yowaspStatus());
    const missing = tools.filter((t) => !t.found);
    if (argv.json) {
      process.stdout.write(`${JSON.stringify({ ok: missing.length === 0, tools }, null, 2)}\n`);
    } else {
      for (const t of tools) {
        const state = t.found ? 'ok     ' : 'MISSING';
        const detail = t.found ? `${t.version ?? ''}  ${t.path}`.trim() : `install: ${t.install}`;
        process.stdout.write(`${state} ${t.label.padEnd(15)} ${detail}\n`);
      }
    }
    if (missing.length) {
      throw new UserError(
        `missing: ${missing.map((t) => t.label).join(', ')}; run scripts/setup or: ${missing.map((t) => t.install).join(' && ')}`,
        1,
      );
    }
  },
};
