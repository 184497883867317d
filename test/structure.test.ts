// The PE structure interface (src/format/structure.ts): a plain PE changes nothing, SDP's
// binding says what each stage asks (lanes, stored parts, activation selection, datapath and its
// faults), and its stored-part codec round-trips. In-process, well under a second.
import { describe, expect, it } from 'vitest';
import { PRESETS } from '../src/config/presets.ts';
import { resolveConfig } from '../src/config/resolve.ts';
import { sdpKeptValue } from '../src/format/sdp.ts';
import {
  type DatapathModule,
  STRUCTURE_FAULT_KINDS,
  STRUCTURE_KEYS,
  structureOf,
} from '../src/format/structure.ts';
import { Rng } from '../src/io/rng.ts';
import { FAULT_KINDS } from '../src/rtl/index.ts';

const preset = (name: string) => resolveConfig(PRESETS[name]!.config, name);
const modulesOf = (m: DatapathModule): string[] => [m.module, ...m.uses.flatMap(modulesOf)];

describe('PE structures', () => {
  it('a plain PE (every preset without pe.sdp) transforms, adds and replaces nothing', () => {
    const plain = Object.entries(PRESETS)
      .filter(([, p]) => !('sdp' in (p.config.pe ?? {})))
      .map(([k]) => k);
    expect(plain.length).toBeGreaterThan(5);
    for (const name of plain) {
      const s = structureOf(preset(name));
      const values = Float64Array.from([1, -2, 3, 127]);
      expect(s.peActivations(values)).toBe(values);
      expect(s.activationEdges(new Rng(1), -128, 127)).toEqual([]);
      expect(s.weightBlocks(new Rng(1), 4, [-128, 127])).toBeNull();
      expect([s.name, s.lanes, s.weightParts, s.activationSelection, s.datapath, s.weightSelection]).toEqual([
        null,
        null,
        null,
        null,
        null,
        null,
      ]);
      expect([s.comparesWithInt8, s.integerAccuracy]).toEqual([false, false]);
    }
  });

  it('SDP on the activations: K part-lanes per group, an activation selection, the top-K datapath', () => {
    const cfg = preset('sdp');
    const s = structureOf(cfg);
    expect(s.name).toBe('sdp');
    expect(STRUCTURE_KEYS).toContain(s.name);
    expect(s.lanes).toBe(cfg.derived.lanes);
    expect(s.activationSelection).toEqual({ group: 4, keep: 4 });
    expect(s.weightParts).toBeNull();
    expect(s.weightSelection).toBeNull();
    // 17..20 are hi 1 (key 16) and lo 1..4: the four high parts win.
    const a = [17, 18, 19, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    const kept = s.peActivations(a);
    expect(kept).not.toBe(a);
    expect(kept.slice(0, 4)).toEqual([16, 16, 16, 16]);
    expect(s.activationEdges(new Rng(1), -128, 127).map(([n]) => n)).toContain('sdp-equal');
    const dp = s.datapath!;
    expect(modulesOf(dp.module)).toEqual([
      'strum_sdp_group',
      'strum_sdp_topk',
      'strum_lane_part',
      'strum_gather',
    ]);
    expect(dp.count * dp.products).toBe(cfg.derived.lanes);
    expect(dp.faults.map((f) => f.kind)).toEqual(['sdp-tie-order']);
  });

  it('SDP on the weights: stored parts (a codec that round-trips and refuses), no activation selection', () => {
    const cfg = preset('sdp-w');
    const s = structureOf(cfg);
    // The PE multiplies whole activations: --activations int8 must not drop activation parts.
    expect(s.activationSelection).toBeNull();
    const a = [17, 18, 19, 20];
    expect(s.peActivations(a)).toBe(a);
    const parts = s.weightParts!;
    expect(parts.count * parts.bits).toBe(cfg.derived.weightBlockBits);
    const rng = new Rng(3);
    for (let t = 0; t < 200; t++) {
      // One part per value (4 per group of 4): the high part, or for every 8th value the low one.
      const codes = Array.from({ length: 16 }, (_, i) =>
        sdpKeptValue(rng.int(-128, 127), 8, i % 8 !== 0, i % 8 === 0),
      );
      expect(parts.problem(codes)).toBeNull();
      expect(parts.decode(parts.encode(codes))).toEqual(codes);
    }
    expect(parts.problem([17, 18, 19, 20, ...new Array(12).fill(0)])).toMatch(/8 nonzero parts, at most/);
    const dp = s.datapath!;
    expect(modulesOf(dp.module)).toEqual(['strum_sdp_static_group', 'strum_lane_part']);
    expect(dp.faults.map((f) => f.kind)).toEqual(['sdp-part-flag']);
    const row = Int16Array.from([17, 18, 19, 20, 1, 2, 3, 4]);
    s.weightSelection!.keep(row);
    expect(Array.from(row.subarray(4))).toEqual([1, 2, 3, 4]);
  });

  it('every structure fault is a fault kind and wraps a module of its datapath', () => {
    for (const k of STRUCTURE_FAULT_KINDS) expect(FAULT_KINDS).toContain(k);
    for (const name of ['sdp', 'sdp-w']) {
      const dp = structureOf(preset(name)).datapath!;
      for (const f of dp.faults) expect(modulesOf(dp.module)).toContain(f.module);
    }
  });
});
