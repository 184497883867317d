// Co-simulation at a real array size: a 32x32 MIP2Q array (1024 PEs, B = 4 to build small) in
// the default build mode for its size, 'pe-models' (src/sim/split.ts: the array RTL with PE
// stubs, each served by its own instance of a separately built PE model), with a fault in
// exactly one PE (a second PE model kind). Every other PE must match the golden model bit for
// bit, and the faulty one must be caught and located at its row and column.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.ts';
import { runSim } from '../src/sim/index.ts';
import { faultInOnePe } from './rtl-helpers.ts';

const BUILD = 600_000; // a cold 32x32 build on a busy 2-core machine

describe('co-simulation of a 32x32 array', () => {
  it(
    'a fault in PE (row 17, col 5) is caught there, and only there; the other 1023 PEs are bit-exact',
    async () => {
      const cfg = await loadConfig('strum-mip2q', { 'array.rows': 32, 'array.cols': 32, 'pe.block': 4 });
      const rtl = faultInOnePe(cfg, 'low-lane-sign', 17, 5);
      const r = await runSim(cfg, { vectors: 3000, seed: 7, rtl });
      expect(r.buildCommand).toContain('Vpe0__ALL.a Vpe1__ALL.a'); // pe-models: the good and the faulty PE
      expect(r.tilesChecked).toBe(r.tiles);
      expect(r.tiles).toBeGreaterThan(50);
      expect(r.pass).toBe(false);
      expect(r.mismatches).toBeGreaterThan(0);
      expect(r.badPes).toEqual(['17,5']);
      const values = r.firstMismatches.filter((m) => m.kind === 'value');
      expect(values.length).toBeGreaterThan(0);
      for (const m of values) {
        expect([m.row, m.col]).toEqual([17, 5]);
        expect(m.expected).not.toBe(m.actual);
        expect(m.message).toMatch(/PE \(row 17, col 5\)/);
      }
    },
    BUILD,
  );
});
