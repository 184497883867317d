// Interrupts: SIGINT during a Verilator build and during a Yosys run stops every child
// process group strumgen started and leaves no temporary directory; kill -9 of strumgen
// during a Yosys run does not leave the Yosys worker running; an interrupted .ts config
// load leaves no twin file beside the user's config.
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { describe, expect, it } from 'vitest';
import { tempDirs } from './temp-dirs.ts';

const tempDir = tempDirs();

const groupAlive = (pgid: number) => {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Processes whose working directory is under `dir` (children left behind would be there). */
function processesIn(dir: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const real = readlinkSync(join('/proc', pid, 'cwd'));
      if (real.startsWith(dir))
        out.push(`${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')}`);
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

/** Start the CLI with process-group logging; resolves the groups it reports as they start. */
function start(args: string[], env: Record<string, string>) {
  const sub: ResultPromise = execa('node', ['bin/strumgen.js', ...args], {
    reject: false,
    env: { ...env, STRUMGEN_DEBUG_PROCESSES: '1' },
  });
  let err = '';
  const groups: { pgid: number; command: string }[] = [];
  sub.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    for (const m of d.toString().matchAll(/started process group (\d+) \((.*)\)/g))
      groups.push({ pgid: Number(m[1]), command: m[2]! });
  });
  const waitFor = async (pattern: RegExp, ms: number) => {
    const until = Date.now() + ms;
    while (!pattern.test(err)) {
      if (Date.now() > until) throw new Error(`no ${pattern} in:\n${err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { sub, groups, waitFor, stderr: () => err };
}

/** Members of a process group (ps), e.g. make and g++ under verilator. */
async function members(pgid: number): Promise<string[]> {
  const r = await execa('ps', ['-eo', 'pid=,pgid=,comm='], { reject: false });
  return `${r.stdout}`
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => Number(f[1]) === pgid)
    .map((f) => `${f[0]} ${f[2]}`);
}

describe('interrupts leave no child process and no temp directory', () => {
  it('SIGINT during the Verilator build', async () => {
    const cache = tempDir('strumgen-int-sim-');
    const run = start(['sim', 'strum-dliq', '--rows', '3', '--cols', '3', '--vectors', '100'], {
      STRUMGEN_CACHE: cache,
    });
    await run.waitFor(/building the Verilator model/, 60_000);
    await run.waitFor(/started process group \d+ \(.*verilator\)/, 30_000);
    // Wait until the build (not an earlier verilator call, e.g. a version probe) has spread
    // into g++: under verilator, or under the make that strumgen runs after it (src/sim/build.ts).
    const until = Date.now() + 120_000;
    const building = async () => {
      for (const g of run.groups.filter((g) => /(verilator|make)$/.test(g.command)))
        if ((await members(g.pgid)).length > 1) return g;
      return undefined;
    };
    let build = await building();
    while (!build && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 100));
      build = await building();
    }
    expect(build, 'a verilator or make group with g++ in it').toBeDefined();
    run.sub.kill('SIGINT');
    const r = await run.sub;
    expect(r.exitCode).toBe(130);
    expect(run.stderr()).toMatch(/interrupted \(SIGINT\)/);
    // Killed children may stay zombies for a moment until they are reaped.
    const gone = Date.now() + 5000;
    while (run.groups.some((g) => groupAlive(g.pgid)) && Date.now() < gone)
      await new Promise((res) => setTimeout(res, 100));
    for (const g of run.groups) expect(groupAlive(g.pgid), g.command).toBe(false);
    expect(await members(build!.pgid)).toEqual([]);
    expect(processesIn(cache)).toEqual([]);
    expect(readdirSync(join(cache, 'sim')).filter((n) => n.includes('.tmp-'))).toEqual([]);
  }, 180_000);

  it('SIGINT during a Yosys run, and kill -9 of strumgen: the worker does not outlive it', async () => {
    const cache = tempDir('strumgen-int-synth-');
    const out = join(tempDir('strumgen-int-out-'), 'synth');
    for (const signal of ['SIGINT', 'SIGKILL'] as const) {
      const run = start(['synth', 'strum-mip2q', '--no-cache', '--out', out], { STRUMGEN_CACHE: cache });
      await run.waitFor(/Yosys \(yowasp\) \.\.\./, 120_000);
      await run.waitFor(/Yosys \(yowasp\) \.\.\.\n(.*\n)*.*started process group \d+/, 30_000);
      const yosys = run.groups.at(-1)!;
      await new Promise((r) => setTimeout(r, 1500));
      expect(groupAlive(yosys.pgid)).toBe(true);
      run.sub.kill(signal);
      const r = await run.sub;
      if (signal === 'SIGINT') expect(r.exitCode).toBe(130);
      // The worker notices its parent is gone within about half a second.
      const until = Date.now() + 5000;
      while (groupAlive(yosys.pgid) && Date.now() < until) await new Promise((res) => setTimeout(res, 100));
      expect(groupAlive(yosys.pgid), signal).toBe(false);
      if (signal === 'SIGINT') {
        expect(processesIn(cache)).toEqual([]);
        expect(readdirSync(join(cache, 'synth')).filter((n) => n.startsWith('work-'))).toEqual([]);
      }
      expect(readdirSync(join(out, '..'))).toEqual([]);
    }
  }, 240_000);

  it('SIGINT while a .ts config loads leaves no twin file beside it', async () => {
    const dir = tempDir('strumgen-int-ts-');
    // Top-level work that takes a while, so the interrupt arrives during the load.
    writeFileSync(
      join(dir, 'slow.ts'),
      "const end = Date.now() + 3000;\nwhile (Date.now() < end) {}\nexport default { name: 'slow' };\n",
    );
    const run = start(['config', join(dir, 'slow.ts')], {});
    const until = Date.now() + 30_000;
    while (!readdirSync(dir).some((n) => n.includes('.strumgen-')) && Date.now() < until)
      await new Promise((r) => setTimeout(r, 20));
    run.sub.kill('SIGINT');
    const r = await run.sub;
    expect(r.exitCode).toBe(130);
    expect(readdirSync(dir)).toEqual(['slow.ts']);
  }, 60_000);
});
