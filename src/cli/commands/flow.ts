import { writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { CommandModule } from 'yargs';
import { designAccuracy } from '../../accuracy/flow.ts';
import { designEnergy } from '../../accuracy/inference.ts';
import { type OutputMarker, outputKind, replaceOutputDir } from '../../config/atomic.ts';
import { UserError } from '../../config/errors.ts';
import { formatOf } from '../../format/registry.ts';
import { structureOf } from '../../format/structure.ts';
import { checkOutputDir } from '../../io/output.ts';
import { DEFAULT_CYCLES, runPower } from '../../power/index.ts';
import { designLine, type FlowResult, renderFlowMarkdown, renderFlowText } from '../../report/flow.ts';
import { POWER_OUTPUT, writePowerReport } from '../../report/power.ts';
import { SYNTH_OUTPUT, writeSynthReport } from '../../report/synth.ts';
import { RTL_OUTPUT, renderRtl, writeRtl } from '../../rtl/index.ts';
import { DEFAULT_SEED, runSim } from '../../sim/index.ts';
import { baselineConfig, runSynth } from '../../synth/index.ts';
import {
  type ConfigArgs,
  configArgsText,
  configFromArgs,
  defaultOutDir,
  withConfigOptions,
  withForce,
} from '../options.ts';

interface Args extends ConfigArgs {
  vectors?: number;
  seed?: number;
  out?: string;
  json?: boolean;
  force?: boolean;
  power?: boolean;
  'power-cycles'?: number;
}

/** Vectors the flow simulates by default: enough to cover the edge cases and many random tiles in seconds. */
export const FLOW_VECTORS = 20_000;

const FLOW_OUTPUT: OutputMarker = {
  kind: 'flow',
  file: 'flow.json',
  owns: (j) => j.schema === 'strumgen.flow/1',
  label: 'a strumgen flow summary',
};

const since = (t0: number) => (performance.now() - t0) / 1000;

export const flowCommand: CommandModule<object, Args> = {
  command: 'flow [config]',
  describe: 'Generate, co-simulate, synthesize against the INT8 baseline, and summarize',
  builder: (y) =>
    withForce(withConfigOptions(y))
      .option('vectors', { type: 'number', default: FLOW_VECTORS, describe: 'array cycles to co-simulate' })
      .option('seed', { type: 'number', default: DEFAULT_SEED, describe: 'stimulus seed' })
      .option('power', {
        type: 'boolean',
        default: true,
        describe: 'PE power from simulated activity on a real layer (--no-power skips it)',
      })
      .option('power-cycles', {
        type: 'number',
        default: DEFAULT_CYCLES,
        describe: 'cycles of the gate-level power simulation',
      })
      .option('out', {
        type: 'string',
        describe:
          'output directory (default rtl-out/<name>-<hash>/): the RTL, and synth/, power/ and flow/ beside it',
      })
      .option('json', { type: 'boolean', default: false, describe: 'print the summary as JSON' }) as never,
  handler: async (argv) => {
    if (!(Number.isInteger(argv.vectors) && argv.vectors! > 0)) {
      throw new UserError(`--vectors: ${argv.vectors} is not a positive whole number`);
    }
    const powerCycles = argv['power-cycles'] ?? DEFAULT_CYCLES;
    if (!(Number.isInteger(powerCycles) && powerCycles > 0)) {
      throw new UserError(`--power-cycles: ${powerCycles} is not a positive whole number`);
    }
    const cfg = await configFromArgs(argv);
    const steps = argv.power === false ? 4 : 5;
    const out = argv.out ?? defaultOutDir(cfg);
    const force = argv.force;
    // Every directory the flow writes is checked before it starts.
    checkOutputDir(out, outputKind(RTL_OUTPUT));
    checkOutputDir(join(out, 'synth'), outputKind(SYNTH_OUTPUT));
    if (argv.power !== false) checkOutputDir(join(out, 'power'), outputKind(POWER_OUTPUT));
    checkOutputDir(join(out, 'flow'), outputKind(FLOW_OUTPUT));
    const say = (m: string) => process.stderr.write(`${m}\n`);
    say(`strumgen flow: ${cfg.name}, ${designLine(cfg)} (hash ${cfg.shortHash})`);

    say(`[1/${steps}] generate: rendering Verilog`);
    let t0 = performance.now();
    const rtl = await writeRtl(cfg, out, { force });
    const generate = since(t0);
    say(
      `      ${relative(process.cwd(), rtl.dir) || '.'}: ${rtl.manifest.files.length} files (${generate.toFixed(2)} s)`,
    );

    say(`[2/${steps}] co-simulate: ${argv.vectors} vectors against the golden model`);
    t0 = performance.now();
    // The RTL is rendered once: the files written above are what is simulated, synthesized and
    // power-simulated.
    const sim = await runSim(cfg, {
      rtl: rtl.bundle,
      vectors: argv.vectors,
      seed: argv.seed,
      rerunBase: `npx strumgen sim ${configArgsText(argv)}`,
      onProgress: (m) => say(`      ${m}`),
    });
    const simSeconds = since(t0);
    say(`      ${sim.pass ? 'PASS' : 'FAIL'}: ${sim.mismatches} mismatches (${simSeconds.toFixed(1)} s)`);
    if (!sim.pass) {
      for (const m of sim.firstMismatches.slice(0, 5)) say(`      ${m.message}\n        re-run: ${m.rerun}`);
      throw new UserError(`flow stopped: the RTL of ${cfg.name} does not match the golden model`, 1);
    }

    // A PE structure with INT8 weights (SDP) is compared with the INT8 PE too.
    const baseline = formatOf(cfg).hasLow || structureOf(cfg).comparesWithInt8;
    say(`[3/${steps}] synthesize: PE${baseline ? ' and the INT8 baseline PE' : ''} (Yosys, OpenSTA)`);
    t0 = performance.now();
    // The baseline's RTL is rendered once too: synthesis and power get the same bundle.
    const baselineRtl = baseline ? renderRtl(baselineConfig(cfg)) : undefined;
    const synth = await runSynth(cfg, {
      target: 'pe',
      baseline,
      rtl: rtl.bundle,
      baselineRtl,
      onProgress: (m) => say(`      ${m}`),
    });
    const synthSeconds = since(t0);
    const synthDir = await writeSynthReport(synth, join(out, 'synth'), { force });

    let power: FlowResult['power'];
    let powerSeconds = 0;
    if (argv.power !== false && cfg.pe.routeDecode === 'column') {
      say(`[4/${steps}] power: skipped (routeDecode 'column' PEs are not simulated at gate level)`);
    } else if (argv.power !== false) {
      say(
        `[4/${steps}] power: ${powerCycles} cycles of the gate netlist${baseline ? ' and the baseline' : ''} on a real layer`,
      );
      t0 = performance.now();
      power = await runPower(cfg, {
        baseline,
        cycles: powerCycles,
        bundle: rtl.bundle,
        baselineBundle: baselineRtl,
        onProgress: (m) => say(`      ${m}`),
      });
      powerSeconds = since(t0);
      await writePowerReport(power, join(out, 'power'), { force });
    }

    say(`[${steps}/${steps}] report (with the Fashion-MNIST accuracy of these weights, cached)`);
    const accuracy = await designAccuracy(cfg).catch((e: Error) => {
      say(`      accuracy not measured: ${e.message.split('\n')[0]}`);
      return undefined;
    });
    const energy = power
      ? await designEnergy(
          cfg,
          power.power.totalW,
          power.clock.mhz,
          power.comparison?.baseline.power.totalW,
        ).catch((e: Error) => {
          say(`      energy per inference not measured: ${e.message.split('\n')[0]}`);
          return undefined;
        })
      : undefined;
    const result: FlowResult = {
      schema: 'strumgen.flow/1',
      config: { name: cfg.name, hash: cfg.hash },
      design: designLine(cfg),
      rtlDir: relative(process.cwd(), rtl.dir) || rtl.dir,
      synthDir: relative(process.cwd(), synthDir) || synthDir,
      sim,
      synth,
      ...(accuracy ? { accuracy } : {}),
      ...(energy ? { energy } : {}),
      ...(power
        ? { power, powerDir: relative(process.cwd(), join(out, 'power')) || join(out, 'power') }
        : {}),
      seconds: { generate, sim: simSeconds, synth: synthSeconds, power: powerSeconds },
    };
    const flowDir = join(out, 'flow');
    await replaceOutputDir(
      flowDir,
      FLOW_OUTPUT,
      async (tmp) => {
        await writeFile(join(tmp, 'flow.json'), `${JSON.stringify(result, null, 2)}\n`);
        await writeFile(join(tmp, 'flow.md'), renderFlowMarkdown(result));
      },
      { force },
    );
    if (argv.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else
      process.stdout.write(
        `${renderFlowText(result)}\nsummary: ${join(relative(process.cwd(), flowDir), 'flow.md')}\n`,
      );
  },
};
