import { join, relative } from 'node:path';
import type { CommandModule } from 'yargs';
import { outputKind } from '../../config/atomic.ts';
import { UserError } from '../../config/errors.ts';
import { checkOutputDir, claimOutputDir } from '../../io/output.ts';
import { designSummary, fmtArea, fmtPct, SYNTH_OUTPUT, writeSynthReport } from '../../report/synth.ts';
import { RTL_OUTPUT } from '../../rtl/index.ts';
import { runSynth, SYNTH_TARGETS, type SynthTarget } from '../../synth/index.ts';
import {
  type ConfigArgs,
  configFromArgs,
  defaultOutDir,
  withConfigOptions,
  withForce,
  withSynthToolOptions,
} from '../options.ts';

interface Args extends ConfigArgs {
  target?: string;
  liberty?: string;
  baseline?: boolean;
  json?: boolean;
  out?: string;
  yosys?: string;
  flat?: boolean;
  booth?: boolean;
  cache?: boolean;
  timeout?: number;
  force?: boolean;
}

const positive = (v: number | undefined, flag: string) => {
  if (v !== undefined && !(Number.isFinite(v) && v > 0))
    throw new UserError(`${flag}: must be a positive number`);
  return v;
};

export const synthCommand: CommandModule<object, Args> = {
  command: 'synth [config]',
  describe: 'Synthesize the PE (or array) with Yosys and OpenSTA: area, fmax, and the change against INT8',
  builder: (y) =>
    withSynthToolOptions(withForce(withConfigOptions(y)))
      .option('target', {
        type: 'string',
        choices: SYNTH_TARGETS,
        default: 'pe',
        describe: 'what to synthesize',
      })
      .option('baseline', {
        type: 'boolean',
        default: false,
        describe: 'also synthesize the INT8 baseline with the same flow and report the change',
      })
      .option('flat', {
        type: 'boolean',
        default: false,
        describe: 'target pe: also synthesize the PE flattened and show its total',
      })
      .option('booth', {
        type: 'boolean',
        default: true,
        describe: 'Booth multipliers (synth -booth) when Yosys has it',
      })
      .option('timeout', {
        type: 'number',
        describe: 'time limit of each Yosys run in seconds (default 1800)',
      })
      .option('out', {
        type: 'string',
        describe: 'output directory (default rtl-out/<name>-<hash>/synth/, beside the RTL)',
      })
      .option('json', {
        type: 'boolean',
        default: false,
        describe: 'print the JSON report on stdout',
      }) as never,
  handler: async (argv) => {
    const cfg = await configFromArgs(argv);
    const yosysTimeoutSeconds = positive(argv.timeout, '--timeout');
    // The output directory is checked before minutes of synthesis, and written after.
    const rtlDir = argv.out === undefined ? defaultOutDir(cfg) : undefined;
    const out = argv.out ?? join(rtlDir!, 'synth');
    if (rtlDir) checkOutputDir(rtlDir, outputKind(RTL_OUTPUT));
    checkOutputDir(out, outputKind(SYNTH_OUTPUT));
    const report = await runSynth(cfg, {
      target: argv.target as SynthTarget,
      liberty: argv.liberty,
      baseline: argv.baseline,
      yosys: argv.yosys,
      flat: argv.flat,
      booth: argv.booth,
      cache: argv.cache,
      yosysTimeoutSeconds,
      onProgress: (msg) => process.stderr.write(`${msg}\n`),
    });
    if (rtlDir) claimOutputDir(rtlDir, outputKind(RTL_OUTPUT));
    const dir = await writeSynthReport(report, out, { force: argv.force });
    const where = relative(process.cwd(), dir) || '.';
    if (argv.json) {
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      process.stderr.write(`synth: wrote ${where}/synth.json and synth.md\n`);
      return;
    }
    const a = report.area;
    const t = report.timing;
    const lines = [
      `${report.design.top}: ${designSummary(report)}`,
      `  area          ${fmtArea(a.total)} (${fmtArea(Math.round(a.perMac))} per MAC; comb ${fmtArea(a.combinational)}, seq ${fmtArea(a.sequential)})`,
      `  by role       ${Object.entries(a.byRole)
        .filter(([, v]) => v > 0)
        .map(([k, v]) => `${k} ${fmtArea(v)}`)
        .join(', ')}`,
      `  timing        ${t.criticalPathNs.toFixed(3)} ns, fmax ${t.fmaxMhz.toFixed(1)} MHz (${t.startpoint} -> ${t.endpoint})`,
    ];
    const c = report.comparison;
    if (c) {
      lines.push(
        `  vs INT8       area ${fmtPct(c.areaChangePct)} (baseline ${fmtArea(c.baseline.area.total)}), ` +
          `fmax ${fmtPct(c.fmaxChangePct)} (baseline ${c.baseline.timing.fmaxMhz.toFixed(1)} MHz)`,
      );
    }
    lines.push(
      `  tools         ${report.tools.yosys.version.split(' (')[0]} (${report.tools.yosys.impl}), OpenSTA ${report.tools.opensta.version}, ${report.tools.liberty.name}`,
      `  report        ${where}/synth.md`,
    );
    for (const w of report.warnings) lines.push(`warning: ${w}`);
    process.stdout.write(`${lines.join('\n')}\n`);
  },
};
