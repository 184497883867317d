// End to end through the CLI: the README's main command on a small design.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

describe('strumgen flow', () => {
  it('generates, co-simulates, synthesizes against the baseline and writes a summary', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'strumgen-flow-')), 'dut');
    const r = await execa(
      'node',
      [
        'bin/strumgen.js',
        'flow',
        'strum-mip2q',
        '--rows',
        '1',
        '--cols',
        '2',
        '--block',
        '4',
        '--vectors',
        '400',
        '--power-cycles',
        '300',
        '--out',
        out,
        '--json',
      ],
      { reject: false },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    const f = JSON.parse(r.stdout);
    expect(f.sim.pass).toBe(true);
    expect(f.sim.vectors).toBe(400);
    expect(f.synth.area.total).toBeGreaterThan(0);
    expect(Number.isFinite(f.synth.comparison.areaChangePct)).toBe(true);
    expect(f.synth.comparison.baseline.design.pe.low).toBe('none');
    expect(f.synth.tools.liberty.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(f.power.activity.mismatches).toBe(0);
    expect(Number.isFinite(f.power.comparison.powerChangePct)).toBe(true);
    // Energy per inference: the PE's power over the CNN's cycles on this array and on the baseline's.
    expect(f.energy.nj).toBeCloseTo((f.energy.cycles * 2 * 1000 * f.power.power.totalW) / 100, 6);
    expect(f.energy.baseline.nj).toBeGreaterThan(0);
    for (const step of [
      '[1/5] generate',
      '[2/5] co-simulate',
      '[3/5] synthesize',
      '[4/5] power',
      '[5/5] report',
    ]) {
      expect(r.stderr).toContain(step);
    }
    for (const file of [
      'manifest.json',
      'files.f',
      'synth/synth.md',
      'power/power.md',
      'flow/flow.md',
      'flow/flow.json',
    ]) {
      expect(existsSync(join(out, file)), file).toBe(true);
    }
    const md = readFileSync(join(out, 'flow/flow.md'), 'utf8');
    expect(md).toContain(f.config.hash.slice(0, 12));
    expect(md).toMatch(/OpenSTA/);
    expect(md).toMatch(/PE power \| .* mW at 100 MHz from zero-delay activity/);
  }, 600_000);

  it('rejects bad input before doing any work', async () => {
    const r = await execa('node', ['bin/strumgen.js', 'flow', '--vectors', '0'], { reject: false });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/--vectors: 0 is not a positive whole number/);
  });
});
