// One test per defect of issue #9 (the filesystem and process side, and the smaller edge
// cases a hostile new user found). The output policy has its own suite (output-policy.test.ts),
// interrupts too (interrupt.test.ts).
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/main.ts';
import { cacheRoot } from '../src/io/cache.ts';
import { longTimeout, MAX_TIMER_MS } from '../src/io/process.ts';
import { runStep } from '../src/synth/run.ts';
import { tempDirs } from './temp-dirs.ts';

const tempDir = tempDirs();
const root = process.cwd();

/** Runs the CLI in-process; returns exit code, stdout and stderr lines. */
async function cli(...args: string[]): Promise<{ code: number; out: string; err: string[] }> {
  const err: string[] = [];
  const out: string[] = [];
  const [we, wo] = [process.stderr.write.bind(process.stderr), process.stdout.write.bind(process.stdout)];
  process.stderr.write = ((c: string) => err.push(String(c)) > 0) as typeof process.stderr.write;
  process.stdout.write = ((c: string) => out.push(String(c)) > 0) as typeof process.stdout.write;
  try {
    const code = await main(args);
    return { code, out: out.join(''), err: err.join('').trim().split('\n') };
  } finally {
    process.stderr.write = we;
    process.stdout.write = wo;
  }
}

describe('timeouts above Node’s setTimeout limit', () => {
  it('longTimeout waits instead of firing at once', async () => {
    let fired = false;
    const cancel = longTimeout(MAX_TIMER_MS + 5_000, () => {
      fired = true;
    });
    await new Promise((r) => setTimeout(r, 100));
    cancel();
    expect(fired).toBe(false);
  });

  it('a tool step with a 3,000,000 s limit runs to its end (synth --timeout)', async () => {
    const dir = tempDir('strumgen-step-');
    const s = await runStep({
      label: 'sleep',
      command: 'sleep',
      args: ['0.3'],
      cwd: dir,
      log: 'x.log',
      timeoutSeconds: 3_000_000,
    });
    expect(s).toBeGreaterThan(0.25);
  });

  it('sim --timeout 3000000 runs; a short run prints its rate with digits, not 0.00 M', async () => {
    const r = await execa(
      'node',
      [
        'bin/strumgen.js',
        'sim',
        'int8',
        '--rows',
        '1',
        '--cols',
        '1',
        '--vectors',
        '10',
        '--timeout',
        '3000000',
      ],
      { reject: false },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/PASS/);
    expect(r.stdout).not.toMatch(/ 0\.00 M/);
    expect(r.stdout).toMatch(/\d+(\.\d+)? (k |M )?array-cycles\/s/);
  }, 180_000);
});

describe('everyday filesystem errors are one line, exit 5, before long work', () => {
  it('generate --out under /proc and under a file', async () => {
    const f = join(tempDir('strumgen-fs-'), 'afile');
    writeFileSync(f, 'x');
    for (const out of ['/proc/x', join(f, 'sub')]) {
      const r = await cli('generate', 'int8', '--out', out);
      expect(r.code, out).not.toBe(0);
      const last = r.err.filter((l) => !l.startsWith('generating'));
      expect(last).toHaveLength(1);
      expect(last[0]).toMatch(/cannot write into|is not a directory/);
      expect(last[0]).not.toMatch(/\n\s+at /);
    }
  });

  it('sim with an unwritable cache names the path and the variable', async () => {
    const r = await execa('node', ['bin/strumgen.js', 'sim', 'int8', '--rows', '1', '--cols', '1'], {
      reject: false,
      env: { STRUMGEN_CACHE: '/proc/strumgen-cache' },
    });
    expect(r.exitCode).toBe(5);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/cannot create directory \/proc\/strumgen-cache\/sim: .*set STRUMGEN_CACHE/);
  });

  it('sim without make says so before building', async () => {
    const r = await execa('node', ['bin/strumgen.js', 'sim', 'int8', '--rows', '1', '--cols', '1'], {
      reject: false,
      env: { STRUMGEN_MAKE: '/nonexistent/make', STRUMGEN_CACHE: tempDir('strumgen-nomake-') },
    });
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/^make is needed for building the Verilator model .* apt-get install -y make/m);
  });
});

describe('one cache root', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const k of ['STRUMGEN_CACHE', 'STRUMGEN_CACHE_DIR', 'XDG_CACHE_HOME', 'HOME']) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });
  it('$STRUMGEN_CACHE, else $XDG_CACHE_HOME/strumgen, else ~/.cache/strumgen; not the working directory', () => {
    process.env.STRUMGEN_CACHE = '/x/c';
    expect(cacheRoot()).toBe('/x/c');
    delete process.env.STRUMGEN_CACHE;
    process.env.XDG_CACHE_HOME = '/x/xdg';
    expect(cacheRoot()).toBe('/x/xdg/strumgen');
    delete process.env.XDG_CACHE_HOME;
    process.env.HOME = '/x/home';
    expect(cacheRoot()).toBe('/x/home/.cache/strumgen');
  });
  it('the old STRUMGEN_CACHE_DIR is still read, with a one-line deprecation notice', () => {
    const lines: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
      lines.push(String(s));
      return true;
    });
    try {
      delete process.env.STRUMGEN_CACHE;
      process.env.STRUMGEN_CACHE_DIR = '/x/old';
      expect(cacheRoot()).toBe('/x/old');
      expect(cacheRoot()).toBe('/x/old');
      process.env.STRUMGEN_CACHE = '/x/c';
      expect(cacheRoot()).toBe('/x/c');
    } finally {
      spy.mockRestore();
    }
    expect(lines).toEqual([
      'strumgen: STRUMGEN_CACHE_DIR is deprecated; set STRUMGEN_CACHE instead (using /x/old)\n',
    ]);
  });
});

describe('smaller edge cases', () => {
  afterEach(() => process.chdir(root));

  it('--set __proto__.x is refused and does not pollute Object.prototype', async () => {
    const r = await cli('config', '--set', '__proto__.polluted=1');
    expect(r.code).toBe(2);
    expect(r.err).toEqual(["--set __proto__.polluted: '__proto__' is not a config field"]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await cli('config', '--set', 'constructor.prototype.x=1')).code).toBe(2);
  });

  it('an option given twice, and a flag and --set of one field, are refused by name', async () => {
    expect(await cli('config', '--rows', '2', '--rows', '3')).toMatchObject({
      code: 2,
      err: ['--rows: given more than once (2, 3); give it once'],
    });
    expect(await cli('config', '--block', '8', '--set', 'pe.block=16')).toMatchObject({
      code: 2,
      err: ['--block 8 and --set pe.block=16 both set pe.block; give it once'],
    });
  });

  it('a JSON config with a UTF-8 byte-order mark loads', async () => {
    const f = join(tempDir('strumgen-bom-'), 'bom.json');
    writeFileSync(f, `\uFEFF${JSON.stringify({ name: 'bom' })}`);
    const r = await cli('config', f);
    expect(r.code, r.err.join('\n')).toBe(0);
    expect(r.out).toMatch(/^bom /);
  });

  it('.ts configs outside the repo: import "strumgen" works; a syntax error names file:line', async () => {
    const dir = tempDir('strumgen-tsconf-');
    writeFileSync(
      join(dir, 'ok.ts'),
      "import { defineDpu } from 'strumgen';\nexport default defineDpu({ name: 'outside', array: { rows: 2, cols: 2 } });\n",
    );
    writeFileSync(join(dir, 'bad.ts'), "export default {\n  name: 'x',,\n};\n");
    // In a real process: vitest's module runner resolves imports itself.
    const ok = await execa('node', ['bin/strumgen.js', 'config', join(dir, 'ok.ts')], { reject: false });
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^outside /);
    const bad = await execa('node', ['bin/strumgen.js', 'config', join(dir, 'bad.ts')], { reject: false });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(new RegExp(`could not load \\(${join(dir, 'bad.ts')}:2:\\d+: ERROR: `));
    expect(bad.stderr).not.toMatch(/strumgen-\d+/);
    expect(readdirSync(dir).sort()).toEqual(['bad.ts', 'ok.ts']);
  });

  it('an unknown command is named as a command', async () => {
    const r = await cli('frobnicate');
    expect(r.code).toBe(2);
    expect(r.err).toHaveLength(1);
    const m = /^strumgen: unknown command 'frobnicate' \(commands: ([a-z, ]+); see strumgen --help\)$/.exec(
      r.err[0]!,
    );
    expect(m, r.err[0]).not.toBeNull();
    expect(m![1]!.split(', ')).toEqual(
      expect.arrayContaining(['config', 'generate', 'sim', 'synth', 'flow']),
    );
  });

  it('all-zero weights: SQNR is undefined, not 0.00 dB', async () => {
    const dir = tempDir('strumgen-zero-');
    const f = join(dir, 'z.json');
    writeFileSync(f, JSON.stringify({ name: 'z', shape: [2, 16], data: new Array(32).fill(0) }));
    const r = await cli('quantize', f);
    expect(r.code).toBe(0);
    const row = r.out.split('\n').find((l) => l.startsWith('z '))!;
    expect(row).toMatch(/undef/);
    expect(row).not.toMatch(/ 0\.00 /);
    const j = await cli('quantize', f, '--json');
    expect(JSON.parse(j.out).layers[0].sqnrDb).toBeNull();
  });

  it('the default output directory differs for different overrides', async () => {
    const dir = tempDir('strumgen-default-');
    process.chdir(dir);
    expect((await cli('generate', 'int8')).code).toBe(0);
    expect((await cli('generate', 'int8', '--rows', '2')).code).toBe(0);
    const made = readdirSync(join(dir, 'rtl-out'));
    expect(made).toHaveLength(2);
    for (const d of made) expect(d).toMatch(/^int8-[0-9a-f]{8}$/);
    mkdirSync(join(dir, 'x'));
    expect(existsSync(join(dir, 'rtl-out', made[0]!, 'manifest.json'))).toBe(true);
  });
});
