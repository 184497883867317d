// Zero-delay switching activity of one PE: drive the gate netlist cycle by cycle with the
// stimulus, exactly as the array drives a PE (its control pipeline reproduced here), count
// every cell output toggle, and check every tile's result against the golden model
// (a power figure from a wrong simulation is worthless).
import { edgeStagesOf, laneOrder, maskScopeOf } from '../config/mask-scope.ts';
import type { ResolvedDpu } from '../config/resolve.ts';
import { packActivationBlock } from '../format/pack.ts';
import { structureOf } from '../format/structure.ts';
import { accumulate, blockDot } from '../quant/golden.ts';
import { CTL_CLEAR, CTL_LAST, CTL_VALID } from '../sim/stimulus.ts';
import type { GateSim } from './gatesim.ts';
import type { FlatNetlist } from './netlist.ts';
import type { PeStimulus } from './stimulus.ts';

export interface TileMismatch {
  readonly tile: number;
  readonly cycle: number;
  readonly expected: number;
  readonly actual: number;
}

export interface ActivityRun {
  /** Cycles counted (stimulus cycles plus the pipeline drain). */
  readonly cycles: number;
  readonly resetCycles: number;
  readonly tiles: number;
  readonly mismatches: readonly TileMismatch[];
  readonly mismatchCount: number;
  /** Toggles per input port bit (name -> count), over the counted cycles. */
  readonly inputToggles: ReadonlyMap<string, number>;
  readonly seconds: number;
  /** With `record`: every cycle's input bits (reset cycles first) and settled result. */
  readonly trace?: {
    readonly inputs: readonly string[];
    readonly vectors: readonly Uint8Array[];
    readonly results: readonly number[];
  };
}

/** Net ids of a port's bits, LSB first (a one-bit port may be named without an index). */
export function portBits(net: FlatNetlist, name: string, width: number, optional = false): number[] | null {
  const bits: number[] = [];
  for (let i = 0; i < width; i++) {
    const p = net.ports.get(`${name}[${i}]`) ?? (width === 1 ? net.ports.get(name) : undefined);
    if (!p) {
      if (optional && i === 0) return null;
      throw new Error(`PE netlist has no port bit ${name}[${i}]`);
    }
    bits.push(p.net);
  }
  return bits;
}

const RESET_CYCLES = 2;

export function runActivity(
  cfg: ResolvedDpu,
  net: FlatNetlist,
  sim: GateSim,
  stim: PeStimulus,
  opts: { onProgress?: (m: string) => void; maxMismatches?: number; record?: boolean } = {},
): ActivityRun {
  const start = performance.now();
  const B = cfg.pe.block;
  // The PE's own latency: scope 'group' has an edge register stage in front of the PEs.
  const lat = cfg.derived.latency - edgeStagesOf(cfg);
  const pipeMul = cfg.pipeline.multiply;
  const pipeSum = cfg.pipeline.adderTree;
  const bit1 = (name: string, optional = false) => portBits(net, name, 1, optional)?.[0] ?? -1;
  const rst = bit1('rst');
  const accEn = bit1('acc_en');
  const accClear = bit1('acc_clear');
  const accCapture = bit1('acc_capture');
  const pipeOps = cfg.pipeline.operands;
  const rEn = pipeOps ? bit1('r_en') : -1;
  const pEn = pipeMul ? bit1('p_en') : -1;
  const sEn = pipeSum ? bit1('s_en') : -1;
  const actBits = portBits(net, 'act', cfg.derived.activationBlockBits)!;
  const wgtBits = portBits(net, 'wgt', cfg.derived.weightBlockBits)!;
  // The layer-scope metadata port (DLIQ per layer: the shift t), held for the whole run.
  let shiftWidth = 0;
  while (net.ports.has(`shift[${shiftWidth}]`)) shiftWidth++;
  const shiftBits = shiftWidth > 0 ? portBits(net, 'shift', shiftWidth) : null;
  if (net.ports.has('sel[0]'))
    throw new Error("power: routeDecode 'column' PEs (router selects from outside) are not simulated");
  const resBits = portBits(net, 'result', cfg.accumulator.bits)!;
  const accBits = cfg.accumulator.bits;

  // Every input port bit but the clock, with its toggle counter.
  const inputs: { name: string; net: number }[] = [];
  for (const [name, p] of net.ports)
    if (p.dir === 'input' && name !== 'clk') inputs.push({ name, net: p.net });
  const inputIndex = new Map(inputs.map((x, k) => [x.net, k]));
  const inTg = new Float64Array(inputs.length);
  const v = sim.v;
  let counting = false;
  const drive = (n: number, x: number) => {
    if (n < 0) return;
    if (counting && v[n] !== x) inTg[inputIndex.get(n)!]++;
    v[n] = x;
  };
  const driveWords = (nets: number[], words: Uint32Array, base: number) => {
    for (let i = 0; i < nets.length; i++) {
      const n = nets[i]!;
      const x = (words[base + (i >>> 5)]! >>> (i & 31)) & 1;
      if (v[n] !== x) {
        if (counting) inTg[inputIndex.get(n)!]++;
        v[n] = x;
      }
    }
  };
  const readResult = () => {
    let x = 0;
    for (let i = 0; i < accBits; i++) x += v[resBits[i]!]! * 2 ** i;
    return x >= 2 ** (accBits - 1) ? x - 2 ** accBits : x;
  };
  if (shiftBits) {
    const sh = Uint32Array.of(stim.layerMeta[0] ?? 0);
    driveWords(shiftBits, sh, 0);
  }
  const vectors: Uint8Array[] = [];
  const results: number[] = [];
  const record = () => {
    if (!opts.record) return;
    vectors.push(Uint8Array.from(inputs, (x) => v[x.net]!));
    results.push(readResult());
  };
  // Reset: rst high, no valid block; then counting starts.
  for (let r = 0; r < RESET_CYCLES; r++) {
    if (r > 0) sim.edge();
    drive(rst, 1);
    sim.settle();
    record();
  }
  sim.resetCounts();
  counting = true;

  const { act, wgt } = stim;
  // The golden sums use what the PE multiplies (SDP: the kept parts of each activation group).
  const dotAct = structureOf(cfg).peActivations(act.values);
  const aw = act.words;
  // Scope 'group': the PE gets the block as the edge router sends it (high positions, then low).
  const routed = maskScopeOf(cfg).kind === 'group' ? new Uint32Array(aw) : null;
  const driveAct = (ai: number, wi: number) => {
    if (!routed || wi < 0) return driveWords(actBits, act.packed, ai * aw);
    const block = Array.from(act.values.subarray(ai * B, ai * B + B));
    packActivationBlock(cfg, laneOrder(block, wgt.blocks[wi]!.low), routed);
    driveWords(actBits, routed, 0);
  };
  const ww = wgt.words;
  // Control history: ctl of the block k register stages back (0 before the first cycle).
  const hist: number[] = new Array(lat + 1).fill(0);
  const pending: { cycle: number; tile: number; value: number }[] = [];
  const mismatches: TileMismatch[] = [];
  let mismatchCount = 0;
  let acc = 0;
  let cycle = 0;
  let tiles = 0;
  const maxMis = opts.maxMismatches ?? 10;
  const step = (ctl: number, ai: number, wi: number) => {
    sim.edge();
    hist.unshift(ctl);
    hist.length = lat + 1;
    const at = (k: number) => hist[k]!;
    drive(rst, 0);
    const valid = (c: number) => c & CTL_VALID;
    // The array's control pipeline: stage k enables the registers k stages into the PE.
    if (rEn >= 0) drive(rEn, valid(at(0)));
    if (pEn >= 0) drive(pEn, valid(at(Number(pipeOps))));
    if (sEn >= 0) drive(sEn, valid(at(Number(pipeOps) + Number(pipeMul))));
    const c = at(lat - 1);
    drive(accEn, valid(c));
    drive(accClear, valid(c) && c & CTL_CLEAR ? 1 : 0);
    drive(accCapture, valid(c) && c & CTL_LAST ? 1 : 0);
    if (ai >= 0) driveAct(ai, wi);
    if (wi >= 0) driveWords(wgtBits, wgt.packed, wi * ww);
    sim.settle();
    record();
    while (pending.length && pending[0]!.cycle === cycle) {
      const p = pending.shift()!;
      const actual = readResult();
      if (actual !== p.value) {
        mismatchCount++;
        if (mismatches.length < maxMis) mismatches.push({ tile: p.tile, cycle, expected: p.value, actual });
      }
    }
    cycle++;
  };
  for (let chunk = stim.stream.next(4096); chunk; chunk = stim.stream.next(4096)) {
    const tileOfLast = new Map(chunk.tiles.map((t) => [t.last, t.index]));
    for (let t = 0; t < chunk.n; t++) {
      const ctl = chunk.ctl[t]!;
      const ai = chunk.aIdx[t]!;
      const wi = chunk.wIdx[t]!;
      if (ctl & CTL_VALID) {
        const sum = blockDot(dotAct, wgt.values, ai * B, wi * B, B);
        acc = accumulate(cfg, acc, sum, (ctl & CTL_CLEAR) !== 0);
        if (ctl & CTL_LAST) {
          pending.push({ cycle: cycle + lat, tile: tileOfLast.get(chunk.start + t) ?? -1, value: acc });
          tiles++;
        }
      }
      step(ctl, ai, wi);
    }
  }
  // Drain: idle cycles (inputs held) until the last tile is out.
  for (let k = 0; k < lat; k++) step(0, -1, -1);
  if (pending.length) throw new Error('power: results still pending after the drain');
  const inputToggles = new Map(inputs.map((x, k) => [x.name, inTg[k]!]));
  return {
    cycles: cycle,
    resetCycles: RESET_CYCLES,
    tiles,
    mismatches,
    mismatchCount,
    inputToggles,
    seconds: (performance.now() - start) / 1000,
    ...(opts.record ? { trace: { inputs: inputs.map((x) => x.name), vectors, results } } : {}),
  };
}
