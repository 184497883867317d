// The compiled CLI (dist/): built from the sources by scripts/build-dist.mjs, used by the bin
// only while it matches them (a source hash), so a stale build is never run.
import { cpSync, existsSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain JavaScript module without types
import { freshDist, sourceHash } from '../bin/dist-fresh.js';
import { tempDirs } from './temp-dirs.ts';

const tempDir = tempDirs();

describe('compiled CLI (dist/)', () => {
  it('builds, runs, and is used only while it matches the sources', async () => {
    // A copy of the package (sources, bin, package.json) so editing a source cannot touch the repo.
    const root = tempDir('strumgen-dist-');
    for (const d of ['src', 'bin', 'templates', 'sim', 'scripts'])
      cpSync(d, join(root, d), { recursive: true });
    cpSync('package.json', join(root, 'package.json'));
    // The build needs esbuild and running needs the dependencies: the repo's node_modules.
    symlinkSync(join(process.cwd(), 'node_modules'), join(root, 'node_modules'));

    expect(freshDist(root)).toBeNull();
    const b = await execa('node', ['scripts/build-dist.mjs'], { cwd: root, reject: false });
    expect(b.exitCode, b.stderr).toBe(0);
    expect(freshDist(root)).toBe(join(root, 'dist', 'cli', 'main.js'));
    const help = await execa('node', ['bin/strumgen.js', '--help'], { cwd: root, reject: false });
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toMatch(/strumgen generate \[config\]/);
    const gen = await execa('node', ['bin/strumgen.js', 'generate', 'int8', '--out', 'o'], {
      cwd: root,
      reject: false,
    });
    expect(gen.exitCode, gen.stderr).toBe(0);

    // Any change to a source makes the build stale: the bin runs the sources instead.
    const before = sourceHash(root);
    writeFileSync(join(root, 'src', 'cli', 'options.ts'), '// edited\n', { flag: 'a' });
    expect(sourceHash(root)).not.toBe(before);
    expect(freshDist(root)).toBeNull();
    const stale = await execa('node', ['bin/strumgen.js', '--version'], { cwd: root, reject: false });
    expect(stale.exitCode).toBe(0);
  }, 120_000);

  it('the repo’s own dist/, when built, matches the sources (scripts/setup rebuilds it)', () => {
    if (!existsSync('dist')) return; // not built: the bin runs the sources
    expect(
      freshDist(process.cwd()),
      'dist/ is stale: run scripts/setup or node scripts/build-dist.mjs',
    ).not.toBeNull();
  });
});
