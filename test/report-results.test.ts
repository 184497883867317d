// The RESULTS.md tables and findings are computed from the reports, never typed in.
import { describe, expect, it } from 'vitest';
import { type ResultRow, renderResultsTables, resultsFindings } from '../src/report/results.ts';
import { type SynthReport, withComparison } from '../src/synth/index.ts';

function fake(
  name: string,
  pe: { block: number; high: number; low: string; mode: string },
  byRole: Record<string, number>,
  fmaxMhz: number,
  flat?: number,
): SynthReport {
  const total = Object.values(byRole).reduce((a, b) => a + b, 0);
  return {
    design: {
      name,
      configHash: `${name}-${pe.block}`,
      pe,
      // As derived.highLanes / lowLanes: sparse drops its low weights (no low lanes).
      lanes: {
        full: pe.low === 'none' ? pe.block : pe.high,
        low: pe.low === 'none' || pe.low === 'sparse' ? 0 : pe.block - pe.high,
      },
    },
    area: { total, byRole, sequential: 10, totalsByKind: flat ? { hier: total, flat } : { hier: total } },
    timing: { fmaxMhz },
    tools: { yosys: { version: 'Yosys 0.55 (x)', impl: 'yowasp' } },
  } as unknown as SynthReport;
}

const base16 = fake(
  'int8_base',
  { block: 16, high: 16, low: 'none', mode: 'static' },
  { lane: 160, adder_tree: 40 },
  100,
  190,
);
const rows: ResultRow[] = [
  {
    label: 'static MIP2Q',
    report: withComparison(
      fake(
        'm',
        { block: 16, high: 8, low: 'mip2q', mode: 'static' },
        { lane: 100, route: 50, adder_tree: 40 },
        80,
        185,
      ),
      base16,
    ),
  },
  {
    label: 'static sparse',
    report: withComparison(
      fake(
        's',
        { block: 16, high: 8, low: 'sparse', mode: 'static' },
        { lane: 80, route: 30, adder_tree: 40 },
        90,
      ),
      base16,
    ),
  },
];

describe('results tables', () => {
  it('one baseline row per block size, then each design with its changes', () => {
    const md = renderResultsTables(rows);
    expect(md).toContain('| **INT8 baseline** | 16 / 16 | 16 + 0 | 200 |  | 100.0 |  | 0 |  |');
    // 190 vs 200: -5%; fmax 80 vs 100: -20%; without the 50 of route: 140 vs 200 = -30%.
    expect(md).toContain('| static MIP2Q | 16 / 8 | 8 + 8 | 190 | **-5.0%** | 80.0 | -20.0% | 50 | -30.0% |');
    expect(md).toContain(
      '| static sparse | 16 / 8 | 8 + 0 | 150 | **-25.0%** | 90.0 | -10.0% | 30 | -40.0% |',
    );
    // Flat table: only rows with a flat run; flat vs flat baseline 185 vs 190.
    expect(md).toContain('| static MIP2Q | 16 / 8 | 190 | 185 | -2.6% | -2.6% |');
    expect(md).not.toMatch(/\| static sparse \| 16 \/ 8 \| 150 \| /);
  });

  it('findings: paper range for static MIP2Q/DLIQ only, routing against lanes, sparse apart', () => {
    const f = resultsFindings(rows);
    // Sparse (-25%) is in the range, but it is not StruM: the MIP2Q row is the one compared.
    expect(f[0]).toBe(
      "No static StruM PE lands in the paper's range of PE area (-26% to -23%). Closest: static MIP2Q at B = 16, H = 8 (-5.0%).",
    );
    // Route 50 of 200 = 25%; lanes 160 -> 100 save 30%; fmax 80 vs 100.
    expect(f).toContain(
      "B = 16: the router of static MIP2Q/DLIQ costs 25.0% of the INT8 PE's area, against 30.0% saved in the lanes; " +
        'fmax changes by -20.0% (the router is on the critical path).',
    );
    expect(f.find((x) => x.startsWith('N:M sparse'))).toMatch(/change the area by -25\.0%:/);
    expect(f.find((x) => x.startsWith('Without its router'))).toBeUndefined();
    const inRange = resultsFindings([
      {
        label: 'static DLIQ',
        report: withComparison(
          fake(
            'd',
            { block: 16, high: 8, low: 'dliq', mode: 'static' },
            { lane: 110, route: 40, adder_tree: 0 },
            80,
          ),
          base16,
        ),
      },
    ]);
    // 150 vs 200 = -25%; without the router 110 vs 200 = -45%.
    expect(inRange[0]).toBe(
      "Static StruM in the paper's range of PE area (-26% to -23%): static DLIQ at B = 16, H = 8 (-25.0%).",
    );
  });
});
