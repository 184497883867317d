// OpenSTA's power of every leaf instance at global switching activity 0 and 1, and its
// uniform report at 0.1 (the self-check). This OpenSTA (Debian 2.0.17, 2019) has no
// read_vcd/read_saif and per-pin activity does not take (only ports count), so measured
// activity enters afterwards through the linear model P = P0 + a (P1 - P0) per instance
// (model.ts). Cached per synthesis run, OpenSTA version and clock period.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheCommit, cacheKey, cacheLookup, MANIFEST } from '../synth/cache.ts';
import type { StaTool } from '../synth/flow.ts';
import type { Liberty } from '../synth/liberty.ts';
import { LIBERTY_FILE } from '../synth/liberty.ts';
import { runStep } from '../synth/run.ts';
import { type PowerReport, parsePower } from '../synth/sta.ts';

export interface InstancePower {
  readonly internal: number;
  readonly switching: number;
  readonly leakage: number;
}

export interface PowerTable {
  /** Leaf instance path -> power at global activity 0 and at 1. */
  readonly p0: ReadonlyMap<string, InstancePower>;
  readonly p1: ReadonlyMap<string, InstancePower>;
  /** OpenSTA's own report at uniform activity `uniformActivity`. */
  readonly uniform: PowerReport;
  readonly uniformActivity: number;
  readonly clockNs: number;
  readonly script: string;
  readonly dir: string;
  readonly cached: boolean;
  readonly seconds: number;
}

export const UNIFORM_ACTIVITY = 0.1;
const TABLE_VERSION = 1;

export function powerScript(top: string, netlist: string, clockPort: string, periodNs: number): string {
  const cells = '[get_cells -hierarchical *]';
  return [
    `# strumgen per-instance power of ${top}`,
    `read_liberty ${LIBERTY_FILE}`,
    `read_verilog ${netlist}`,
    `link_design ${top}`,
    `create_clock -name clk -period ${periodNs} [get_ports ${clockPort}]`,
    // Inputs and outputs in the clock's domain, as in the timing run: OpenSTA turns an
    // activity into transitions per second with the period of the net's clock, and a net
    // in no clock domain would get almost none.
    `set_input_delay 0 -clock clk [delete_from_list [all_inputs] [get_ports ${clockPort}]]`,
    'set_output_delay 0 -clock clk [all_outputs]',
    'set_power_activity -global -activity 0',
    `report_power -instances ${cells} -digits 12 > p0.txt`,
    'set_power_activity -global -activity 1',
    `report_power -instances ${cells} -digits 12 > p1.txt`,
    `set_power_activity -global -activity ${UNIFORM_ACTIVITY}`,
    'report_power -digits 12 > uniform.txt',
    'exit',
    '',
  ].join('\n');
}

const NUM = '(-?[0-9.]+(?:e[-+]?[0-9]+)?)';
const ROW = new RegExp(`^\\s*${NUM}\\s+${NUM}\\s+${NUM}\\s+${NUM}\\s+(\\S+)\\s*$`, 'gm');

export function parseInstancePower(text: string): Map<string, InstancePower> {
  const out = new Map<string, InstancePower>();
  for (const m of text.matchAll(ROW)) {
    out.set(m[5]!, { internal: Number(m[1]), switching: Number(m[2]), leakage: Number(m[3]) });
  }
  return out;
}

export async function powerTable(p: {
  readonly synthDir: string;
  readonly synthKey: string;
  readonly top: string;
  readonly sta: StaTool;
  readonly liberty: Liberty;
  readonly clockPeriodNs: number;
  readonly cacheDir: string;
  readonly useCache: boolean;
  readonly onProgress: (m: string) => void;
}): Promise<PowerTable> {
  const netlist = join(p.synthDir, 'netlist.sta.v');
  if (!existsSync(netlist)) throw new Error(`synthesis entry ${p.synthDir} has no netlist.sta.v`);
  const script = powerScript(p.top, 'netlist.sta.v', 'clk', p.clockPeriodNs);
  const { text: manifest, key } = cacheKey({
    table: TABLE_VERSION,
    synth: p.synthKey,
    sta: p.sta.version,
    liberty: p.liberty.sha256,
    script,
  });
  const dir = join(p.cacheDir, 'power', key);
  const needed = ['p0.txt', 'p1.txt', 'uniform.txt', 'times.json'];
  let cached = true;
  if (!p.useCache || !cacheLookup(dir, manifest, needed)) {
    cached = false;
    const work = join(p.cacheDir, 'power', `work-${key.slice(0, 16)}-${process.pid}-${Date.now()}`);
    mkdirSync(work, { recursive: true });
    try {
      writeFileSync(join(work, LIBERTY_FILE), p.liberty.text);
      writeFileSync(join(work, 'netlist.sta.v'), readFileSync(netlist));
      writeFileSync(join(work, 'power.tcl'), script);
      p.onProgress(`power: OpenSTA per-instance power of ${p.top} ...`);
      const seconds = await runStep({
        label: `OpenSTA (per-instance power) on ${p.top}`,
        command: p.sta.path,
        args: ['-no_splash', '-exit', 'power.tcl'],
        cwd: work,
        log: 'sta.log',
        timeoutSeconds: 600,
        failurePattern: /^Error:/m,
        onProgress: p.onProgress,
      });
      writeFileSync(join(work, 'times.json'), `${JSON.stringify({ seconds })}\n`);
      writeFileSync(join(work, MANIFEST), manifest);
      rmSync(join(work, LIBERTY_FILE), { force: true });
      rmSync(join(work, 'netlist.sta.v'), { force: true });
      cacheCommit(work, dir);
    } catch (e) {
      rmSync(work, { recursive: true, force: true });
      throw e;
    }
  }
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  const uniform = parsePower(read('uniform.txt'));
  if (!uniform) throw new Error(`OpenSTA wrote no power total (${join(dir, 'uniform.txt')})`);
  return {
    p0: parseInstancePower(read('p0.txt')),
    p1: parseInstancePower(read('p1.txt')),
    uniform,
    uniformActivity: UNIFORM_ACTIVITY,
    clockNs: p.clockPeriodNs,
    script,
    dir,
    cached,
    seconds: (JSON.parse(read('times.json')) as { seconds: number }).seconds,
  };
}
