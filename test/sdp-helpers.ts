// The SDP PE in Verilator co-simulation, one block for both SDP PEs: test/sdp.test.ts (dynamic,
// preset sdp) and test/sdp-static.test.ts (static, preset sdp-w) each call describeSdpCosim,
// so each file keeps its own Verilator builds (the files run in parallel).
import { describe, expect, it } from 'vitest';
import { loadTask, runAccuracy } from '../src/accuracy/index.ts';
import { integerPath } from '../src/accuracy/integer-run.ts';
import { loadConfig } from '../src/config/load.ts';
import type { ResolvedDpu } from '../src/config/resolve.ts';
import { Rng } from '../src/io/rng.ts';
import { type FaultKind, renderRtl } from '../src/rtl/index.ts';
import { runSim } from '../src/sim/index.ts';
import { pool, randomStimulus, simulateAgainstGolden, verilatorLint, yosysRead } from './rtl-helpers.ts';

type Task = Awaited<ReturnType<typeof loadTask>>;

export interface SdpCosim {
  readonly preset: 'sdp' | 'sdp-w';
  /** The PE's test-only fault the co-simulation must catch, and what it does (for the title). */
  readonly fault: FaultKind;
  readonly faultWhat: string;
  /** onnxruntime's logits equal the golden model's on the 4 images (4), or are not compared
   * (null: onnxruntime runs the plain int8 graph, which cannot drop activation parts). */
  readonly onnxLogitsEqual: 4 | null;
  /** A further check of the accuracy test on the SDP scheme (its config on the co-simulated array), and its title. */
  readonly more?: { readonly title: string; readonly check: (cfg: ResolvedDpu, task: Task) => Promise<void> };
}

/** The shared array: 2x2, B = 8, G = 4, K = 3 (one Verilator build for the co-simulation and the accuracy run). */
export const SDP_ARRAY = { 'array.rows': 2, 'array.cols': 2, 'pe.block': 8, 'pe.sdp.keep': 3 };

export function describeSdpCosim(p: SdpCosim): void {
  const BUILD = 240_000;
  const kind = p.preset === 'sdp' ? 'SDP' : 'static SDP';
  describe(`the ${kind} PE in Verilator co-simulation`, () => {
    it(
      `${p.preset} 2x2, B=8, G=4, K=3: bit-exact with the edge blocks; ${p.faultWhat} is caught`,
      async () => {
        const cfg = await loadConfig(p.preset, SDP_ARRAY);
        const ok = await runSim(cfg, { vectors: 3000, seed: 2 });
        expect(ok.mismatches).toBe(0);
        expect(ok.pass).toBe(true);
        const bad = await runSim(cfg, { vectors: 3000, seed: 2, fault: p.fault });
        expect(bad.pass).toBe(false);
        expect(bad.mismatches).toBeGreaterThan(0);
      },
      BUILD,
    );

    it(
      `Fashion-MNIST CNN on the same array (--rtl, 4 images): RTL logits equal the ${kind} golden integer model${p.onnxLogitsEqual === null ? '' : ' and onnxruntime'}${p.more ? `, ${p.more.title}` : ''}`,
      async () => {
        const task = await loadTask('fashion-mnist', { limit: 4 });
        const { runs: all } = await runAccuracy(task, {
          schemes: 'config',
          context: { config: p.preset, overrides: SDP_ARRAY, select: 'magnitude' },
        });
        // An SDP design is not the INT8 reference: runAccuracy adds INT8 beside it. Only the SDP
        // scheme goes through the RTL (one model build, the co-simulation's).
        expect(all.map((r) => r.scheme.kind === 'config' && r.scheme.cfg.pe.sdp !== undefined)).toEqual([
          false,
          true,
        ]);
        const runs = all.slice(1);
        const rep = await integerPath(task, runs, { rtl: true });
        expect(rep.schemes.map((s) => s.rtl?.config.name)).toEqual([p.preset.replace('-', '_')]);
        const s = rep.schemes[0]!;
        expect(s.onnxLogitsEqual).toBe(p.onnxLogitsEqual);
        expect(s.rtl!.mismatches).toBe(0);
        expect(s.rtl!.logitsEqual).toBe(4);
        const scheme = runs[0]!.scheme;
        if (scheme.kind !== 'config') throw new Error('a config scheme');
        await p.more?.check(scheme.cfg, task);
      },
      BUILD,
    );
  });
}

/**
 * Corner configs under the tools: lint warnings, Yosys read errors and Icarus mismatches against
 * the golden model (8 random tiles, seed 11), one line per failing config (empty: all pass).
 */
export async function cornerFailures(corners: readonly ResolvedDpu[]): Promise<string[]> {
  const results = await pool(corners, 2, async (cfg) => {
    const bundle = renderRtl(cfg);
    const lint = `${await verilatorLint(bundle)}${await yosysRead(bundle)}`;
    const stim = randomStimulus(cfg, new Rng(11), 8);
    return `${lint}${(await simulateAgainstGolden(cfg, bundle, stim)).join('; ')}`;
  });
  return results.map((r, i) => (r ? `${corners[i]!.name}: ${r}` : '')).filter(Boolean);
}
