import type { CommandModule } from 'yargs';
import { configOf } from '../../config/resolve.ts';
import { formatOf } from '../../format/registry.ts';
import { structureOf } from '../../format/structure.ts';
import { type ConfigArgs, configFromArgs, withConfigOptions } from '../options.ts';

interface Args extends ConfigArgs {
  json?: boolean;
}

export const configCommand: CommandModule<object, Args> = {
  command: 'config [config]',
  describe: 'Print the resolved config, its derived values and its hash',
  builder: (y) =>
    withConfigOptions(y).option('json', { type: 'boolean', default: false, describe: 'print JSON' }) as never,
  handler: async (argv) => {
    const r = await configFromArgs(argv);
    if (argv.json) {
      const { weightLayout, ...derived } = r.derived;
      const out = { hash: r.hash, config: configOf(r), derived, weightLayout, warnings: r.warnings };
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      return;
    }
    const d = r.derived;
    const lines = [
      `${r.name}  (hash ${r.hash})`,
      `  array         ${r.array.rows} x ${r.array.cols}, ${r.dataflow}`,
      `  pe            B=${r.pe.block} H=${r.pe.high} L=${d.lowCount}, low=${r.pe.low}, ${r.pe.mode}`,
      `  lanes         ${d.highLanes} full + ${d.midLanes ? `${d.midLanes} middle (${r.pe.mid!.format}, ${r.pe.mid!.bits}-bit) + ` : ''}${d.lowLanes} low, adder tree depth ${d.adderTreeDepth}`,
      `  activation    ${r.activation.bits}-bit ${r.activation.signed ? 'signed' : 'unsigned'}`,
      `  weights       ${r.weightBits}-bit high, ${r.lowBits}-bit low`,
      `  products      ${d.highProductBits}-bit full lane${d.lowLanes ? `, ${d.lowProductBits}-bit low lane` : ''}, block sum ${d.blockSumBits}-bit`,
      `  accumulator   ${r.accumulator.bits}-bit (reduction ${r.accumulator.reductionLength} needs ${d.accumulatorBitsNeeded})`,
      `  packed block  weights ${d.weightBlockBits} bits, activations ${d.activationBlockBits} bits`,
      `  pipeline      multiply=${r.pipeline.multiply} adderTree=${r.pipeline.adderTree} (latency ${d.latency})`,
    ];
    const describe = formatOf(r).describe;
    if (describe) lines.push(`  ${r.pe.low.padEnd(14)}${describe}`);
    // A PE structure (pe.sdp) replaces the lanes above by its own datapath: it says how.
    const structure = structureOf(r);
    if (structure.name && structure.describe)
      lines.push(`  ${structure.name.padEnd(14)}${structure.describe}`);
    process.stdout.write(`${lines.join('\n')}\n`);
  },
};
