// The output policy (src/io/output.ts) through every command that writes: strumgen writes
// only into directories it created, replaces only its own files, refuses the rest with one
// line, and concurrent writers leave one complete output.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.ts';
import { MARKER } from '../src/io/output.ts';
import { tempDirs } from './temp-dirs.ts';

const tempDir = tempDirs();
const root = process.cwd();

/** Runs the CLI in-process, capturing stderr; returns exit code and the stderr lines. */
async function cli(...args: string[]): Promise<{ code: number; err: string[] }> {
  const chunks: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  const out = process.stdout.write.bind(process.stdout);
  process.stderr.write = ((c: string) => {
    chunks.push(String(c));
    return true;
  }) as typeof process.stderr.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    const code = await main(args);
    return { code, err: chunks.join('').trim().split('\n') };
  } finally {
    process.stderr.write = write;
    process.stdout.write = out;
  }
}

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
const weights = (dir: string) => {
  const f = join(dir, 'w.json');
  writeFileSync(
    f,
    JSON.stringify({ name: 'w', shape: [4, 16], data: Array.from({ length: 64 }, (_, i) => (i % 13) - 6) }),
  );
  return f;
};

describe('output policy: user files survive or the command refuses', () => {
  let scratch: string;
  let savedHome: string | undefined;
  beforeEach(() => {
    scratch = tempDir('strumgen-policy-');
    savedHome = process.env.HOME;
    process.chdir(scratch);
  });
  afterEach(() => {
    process.chdir(root);
    process.env.HOME = savedHome;
  });

  it('generate: a regeneration keeps the user’s files and derived reports, replaces only its own', async () => {
    const dir = join(scratch, 'proj', 'rtl');
    expect((await cli('generate', 'strum-mip2q', '--out', dir)).code).toBe(0);
    writeFileSync(join(dir, 'my_tb.v'), 'module my_tb; endmodule\n');
    mkdirSync(join(dir, 'notes'));
    writeFileSync(join(dir, 'notes', 'todo.md'), 'x');
    mkdirSync(join(dir, 'synth'));
    writeFileSync(join(dir, 'synth', 'synth.md'), 'report');
    // A different design into the same directory: its files replace ours, the others stay.
    expect((await cli('generate', 'strum-dliq', '--out', dir)).code).toBe(0);
    expect(readFileSync(join(dir, 'my_tb.v'), 'utf8')).toBe('module my_tb; endmodule\n');
    expect(readFileSync(join(dir, 'notes', 'todo.md'), 'utf8')).toBe('x');
    expect(readFileSync(join(dir, 'synth', 'synth.md'), 'utf8')).toBe('report');
    expect(readdirSync(dir).some((n) => n.startsWith('strum_mip2q'))).toBe(false);
    expect(readdirSync(dir).some((n) => n.startsWith('strum_dliq'))).toBe(true);
    expect(readdirSync(dir).filter((n) => n.startsWith('.strumgen-') && n !== MARKER)).toEqual([]);
  });

  it('generate: an edited file of ours makes it refuse (one line, exit 2) until --force', async () => {
    const dir = join(scratch, 'rtl');
    expect((await cli('generate', 'int8', '--out', dir)).code).toBe(0);
    writeFileSync(join(dir, 'PORTS.md'), 'my notes');
    const r = await cli('generate', 'int8', '--out', dir);
    expect(r.code).toBe(2);
    expect(r.err.at(-1)).toMatch(/PORTS\.md was not written by strumgen or was edited since; .*--force/);
    expect(readFileSync(join(dir, 'PORTS.md'), 'utf8')).toBe('my notes');
    expect((await cli('generate', 'int8', '--out', dir, '--force')).code).toBe(0);
    expect(readFileSync(join(dir, 'PORTS.md'), 'utf8')).toMatch(/^# int8_array ports/);
  });

  it('every writing command refuses a foreign non-empty directory before any work, with one line', async () => {
    const mine = join(scratch, 'thesis');
    mkdirSync(mine);
    writeFileSync(join(mine, 'thesis.tex'), 'precious');
    const w = weights(scratch);
    const cases: string[][] = [
      ['generate', '--out', mine],
      ['quantize', w, '--out', mine],
      ['synth', '--out', mine],
      ['flow', '--out', mine],
    ];
    for (const args of cases) {
      const r = await cli(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err.filter((l) => !l.startsWith('generating'))).toHaveLength(1);
      expect(r.err.at(-1)).toMatch(
        /not empty and not a strumgen .*; strumgen writes only into directories it created/,
      );
    }
    expect(readdirSync(mine)).toEqual(['thesis.tex']);
    expect(readFileSync(join(mine, 'thesis.tex'), 'utf8')).toBe('precious');
  });

  it('., / and $HOME are refused by every writing command', async () => {
    const home = join(scratch, 'home');
    mkdirSync(home);
    process.env.HOME = home;
    const w = weights(scratch);
    for (const target of ['.', '/', home, '..']) {
      for (const args of [
        ['generate', '--out', target],
        ['quantize', w, '--out', target],
        ['synth', '--out', target],
        ['flow', '--out', target],
      ]) {
        const r = await cli(...args);
        expect(r.code, args.join(' ')).toBe(2);
        expect(r.err.at(-1)).toMatch(
          /refusing to write into (the filesystem root|your home directory|the working directory|a parent of the working directory)/,
        );
      }
    }
    expect(readdirSync(home)).toEqual([]);
    expect(readdirSync(scratch).sort()).toEqual(['home', 'w.json']);
  });

  it('quantize --out: user files in its directory survive a rewrite; a different kind is refused', async () => {
    const w = weights(scratch);
    const dir = join(scratch, 'packed');
    expect((await cli('quantize', w, '--out', dir)).code).toBe(0);
    writeFileSync(join(dir, 'README.txt'), 'mine');
    expect((await cli('quantize', w, '--low', 'dliq', '--out', dir)).code).toBe(0);
    expect(readFileSync(join(dir, 'README.txt'), 'utf8')).toBe('mine');
    expect(JSON.parse(readFileSync(join(dir, 'weights.json'), 'utf8')).scheme).toMatch(/dliq/i);
    const r = await cli('generate', '--out', dir);
    expect(r.code).toBe(2);
    expect(r.err.at(-1)).toMatch(/holds a strumgen quantize output/);
    // The directory is created with the usual permissions, not mkdtemp's 0700.
    expect((await import('node:fs')).statSync(dir).mode & 0o077).not.toBe(0);
  });

  it('sim --waves: an existing file that is not a waveform is refused before the build; an unwritable path is one line', async () => {
    writeFileSync(join(scratch, 'notes.vcd'), 'my notes, not a waveform');
    const r = await cli('sim', 'int8', '--rows', '1', '--cols', '1', '--waves', join(scratch, 'notes.vcd'));
    expect(r.code).toBe(2);
    expect(r.err).toEqual([
      `--waves ${join(scratch, 'notes.vcd')}: exists and is not a waveform file; choose another name, or add --force to overwrite it`,
    ]);
    expect(readFileSync(join(scratch, 'notes.vcd'), 'utf8')).toBe('my notes, not a waveform');
    const p = await cli('sim', 'int8', '--rows', '1', '--cols', '1', '--waves', '/proc/x.vcd');
    expect(p.code).toBe(5);
    expect(p.err).toHaveLength(1);
    expect(p.err[0]).toMatch(
      /^--waves \/proc\/x\.vcd: cannot write into \/proc: .*\((EACCES|ENOENT|EROFS|EPERM)\)$/,
    );
  });

  it('synth --out and flow --out are checked before synthesis: a file in the way is one line', async () => {
    writeFileSync(join(scratch, 'afile'), 'x');
    for (const cmd of ['synth', 'flow']) {
      const t0 = performance.now();
      const r = await cli(cmd, '--out', join(scratch, 'afile'));
      expect(r.code).toBe(2);
      expect(r.err.at(-1)).toMatch(/afile: exists and is not a directory$/);
      expect(performance.now() - t0).toBeLessThan(5000);
    }
  });
});

describe('output policy: concurrent writers', () => {
  it('three processes generating into one directory leave one complete output', async () => {
    const dir = join(tempDir('strumgen-race-'), 'out');
    const presets = ['strum-mip2q', 'strum-dliq', 'int8'];
    const runs = await Promise.all(
      presets.map((p) => execa('node', ['bin/strumgen.js', 'generate', p, '--out', dir], { reject: false })),
    );
    for (const r of runs) expect(r.exitCode, r.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
      files: { name: string; sha256: string }[];
    };
    expect(readdirSync(dir).sort()).toEqual(
      [...manifest.files.map((f) => f.name), 'manifest.json', MARKER].sort(),
    );
    for (const f of manifest.files) expect(sha(join(dir, f.name))).toBe(f.sha256);
  }, 60_000);

  it('in one process too (the library API)', async () => {
    const { writeRtl } = await import('../src/rtl/index.ts');
    const { loadConfig } = await import('../src/config/load.ts');
    const dir = join(tempDir('strumgen-race-lib-'), 'out');
    const cfgs = await Promise.all(['strum-mip2q', 'strum-sparse', 'int8'].map((p) => loadConfig(p)));
    await Promise.all(cfgs.map((c) => writeRtl(c, dir)));
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
      files: { name: string; sha256: string }[];
    };
    expect(readdirSync(dir).sort()).toEqual(
      [...manifest.files.map((f) => f.name), 'manifest.json', MARKER].sort(),
    );
    expect(existsSync(join(dir, '.strumgen-output.lock'))).toBe(false);
  });
});
