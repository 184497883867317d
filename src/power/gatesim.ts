// A levelised zero-delay simulator of a flattened gate netlist. Each cell output's truth
// table comes from the liberty's own `function`/`ff` attributes (cells.ts); the outputs are
// ordered once so every one is evaluated after its drivers, into flat typed arrays (input
// nets, truth table, output net) that one small loop walks. Per cycle: `edge()` loads every flip-flop from its settled inputs,
// the caller drives the input ports, `settle()` evaluates every cell once and adds one to
// the toggle count of each cell output pin whose value changed. Zero delay: a net changes
// at most once per cycle (no glitches; docs/POWER.md).
import type { CellLibrary, CellModel } from './cells.ts';
import { type Expr, evalExpr, exprVars } from './cells.ts';
import { CONST0, CONST1, type FlatNetlist } from './netlist.ts';

/** One cell output pin: its toggles are counted in `toggles[slot]`. */
export interface OutputSlot {
  readonly leaf: number;
  readonly pin: string;
  readonly net: number;
}

export interface GateSim {
  /** Net values (0/1), indexed by net id. */
  readonly v: Uint8Array;
  /** Toggles of each cell output pin since the last resetCounts(). */
  readonly toggles: Uint32Array;
  readonly slots: readonly OutputSlot[];
  /** Output slots of each leaf instance (same order as the netlist's leaves). */
  readonly leafSlots: readonly (readonly number[])[];
  readonly flops: number;
  settle(): void;
  edge(): void;
  resetCounts(): void;
}

/** Distinct input nets an output function may read (truth tables of up to 64 entries). */
const MAX_INPUTS = 6;

export function compileGateSim(net: FlatNetlist, lib: CellLibrary, clockNet: number): GateSim {
  const leaves = net.leaves;
  const models: CellModel[] = leaves.map((l) => {
    const m = lib.cells.get(l.type);
    if (m) return m;
    const why = lib.unsupported.get(l.type);
    throw new Error(
      why
        ? `cell ${l.path} (${l.type}) cannot be simulated: ${why}`
        : `cell ${l.path}: ${l.type} is not in the liberty`,
    );
  });
  // Drivers: each net has at most one (an output pin or an input port).
  const driver = new Int32Array(net.nets).fill(-1);
  const slots: OutputSlot[] = [];
  const leafSlots: number[][] = [];
  const isInputPort = new Uint8Array(net.nets);
  for (const p of net.ports.values()) if (p.dir === 'input') isInputPort[p.net] = 1;
  leaves.forEach((l, k) => {
    const mine: number[] = [];
    for (const pin of models[k]!.outputs.keys()) {
      const n = l.pins.get(pin);
      if (n === undefined) continue; // unconnected output
      if (n === CONST0 || n === CONST1 || isInputPort[n])
        throw new Error(`cell ${l.path} output ${pin} drives a constant or an input port`);
      if (driver[n] !== -1) throw new Error(`net of ${l.path}/${pin} has two drivers`);
      driver[n] = k;
      mine.push(slots.length);
      slots.push({ leaf: k, pin, net: n });
    }
    leafSlots.push(mine);
  });
  // State index of each flip-flop.
  const stateOf = new Int32Array(leaves.length).fill(-1);
  let flops = 0;
  leaves.forEach((l, k) => {
    const ff = models[k]!.ff;
    if (!ff) return;
    if (l.pins.get(ff.clock) !== clockNet)
      throw new Error(`flip-flop ${l.path} is not clocked by the clock port`);
    stateOf[k] = flops++;
  });
  // Every flip-flop's state is one extra net after the netlist's own (written at the edge).
  const stateNet = (k: number) => net.nets + stateOf[k]!;
  /** The nets an expression of leaf k reads, and its truth table over them (bit i of the index = net i). */
  const table = (k: number, e: Expr): { nets: number[]; lo: number; hi: number } => {
    const l = leaves[k]!;
    const ff = models[k]!.ff;
    const netOf = (name: string) => {
      if (ff && (name === ff.state || name === ff.stateN)) return stateNet(k);
      const n = l.pins.get(name);
      if (n === undefined) throw new Error(`cell ${l.path} (${l.type}): input ${name} is not connected`);
      return n;
    };
    const nets = [...new Set([...exprVars(e)].map(netOf))];
    if (nets.length > MAX_INPUTS)
      throw new Error(`cell ${l.type}: more than ${MAX_INPUTS} inputs per output`);
    let lo = 0;
    let hi = 0;
    for (let idx = 0; idx < 1 << nets.length; idx++) {
      const val = (name: string) => {
        const bit = (idx >> nets.indexOf(netOf(name))) & 1;
        return ff && name === ff.stateN ? 1 - bit : bit;
      };
      if (evalExpr(e, val)) {
        if (idx < 32) lo |= 1 << idx;
        else hi |= 1 << (idx - 32);
      }
    }
    return { nets, lo: lo >>> 0, hi: hi >>> 0 };
  };
  // Levelise: a cell comes after the cells driving the inputs its output functions read.
  const deps: number[][] = leaves.map(() => []);
  const indeg = new Int32Array(leaves.length);
  const users: number[][] = leaves.map(() => []);
  leaves.forEach((l, k) => {
    const m = models[k]!;
    const seen = new Set<number>();
    for (const e of m.outputs.values()) {
      for (const name of exprVars(e)) {
        const n = l.pins.get(name);
        if (n === undefined) continue;
        const d = driver[n]!;
        if (d >= 0 && !seen.has(d)) {
          seen.add(d);
          deps[k]!.push(d);
          users[d]!.push(k);
          indeg[k]!++;
        }
      }
    }
  });
  const order: number[] = [];
  for (let k = 0; k < leaves.length; k++) if (indeg[k] === 0) order.push(k);
  for (let h = 0; h < order.length; h++) {
    for (const u of users[order[h]!]!) if (--indeg[u]! === 0) order.push(u);
  }
  if (order.length !== leaves.length) {
    const stuck = leaves.find((_, k) => indeg[k]! > 0)!;
    throw new Error(`combinational loop through ${stuck.path} (${stuck.type})`);
  }
  // The evaluation program, in level order: per output, its input nets (padded with the
  // constant-0 net), its truth table and its net. A small loop over typed arrays: V8
  // optimises it at once (straight-line generated code took thousands of cycles to tier up).
  const n = slots.length;
  const ins = new Int32Array(n * MAX_INPUTS).fill(CONST0);
  const ttLo = new Uint32Array(n);
  const ttHi = new Uint32Array(n);
  const outNet = new Int32Array(n);
  const slotAt = new Int32Array(n);
  let pos = 0;
  for (const k of order) {
    const m = models[k]!;
    for (const si of leafSlots[k]!) {
      const slot = slots[si]!;
      const t = table(k, m.outputs.get(slot.pin)!);
      t.nets.forEach((x, j) => {
        ins[pos * MAX_INPUTS + j] = x;
      });
      ttLo[pos] = t.lo;
      ttHi[pos] = t.hi;
      outNet[pos] = slot.net;
      slotAt[pos] = si;
      pos++;
    }
  }
  const ffLeaves = leaves.map((_, k) => k).filter((k) => stateOf[k]! >= 0);
  const fIns = new Int32Array(flops * MAX_INPUTS).fill(CONST0);
  const fLo = new Uint32Array(flops);
  const fHi = new Uint32Array(flops);
  for (const k of ffLeaves) {
    const ff = models[k]!.ff!;
    let e: Expr = ff.next;
    if (ff.preset) e = { k: 'or', a: ff.preset, b: e };
    if (ff.clear) e = { k: 'and', a: { k: 'not', a: ff.clear }, b: e };
    const t = table(k, e);
    const f = stateOf[k]!;
    t.nets.forEach((x, j) => {
      fIns[f * MAX_INPUTS + j] = x;
    });
    fLo[f] = t.lo;
    fHi[f] = t.hi;
  }
  const v = new Uint8Array(net.nets + flops);
  v[CONST1] = 1;
  const nextState = new Uint8Array(flops);
  const toggles = new Uint32Array(slots.length);
  const base = net.nets;
  const look = (i: Int32Array, lo: Uint32Array, hi: Uint32Array, p: number): number => {
    const b = p * MAX_INPUTS;
    const idx =
      v[i[b]!]! |
      (v[i[b + 1]!]! << 1) |
      (v[i[b + 2]!]! << 2) |
      (v[i[b + 3]!]! << 3) |
      (v[i[b + 4]!]! << 4) |
      (v[i[b + 5]!]! << 5);
    return idx < 32 ? (lo[p]! >>> idx) & 1 : (hi[p]! >>> (idx - 32)) & 1;
  };
  return {
    v,
    toggles,
    slots,
    leafSlots,
    flops,
    settle() {
      for (let p = 0; p < n; p++) {
        const x = look(ins, ttLo, ttHi, p);
        const o = outNet[p]!;
        toggles[slotAt[p]!]! += x ^ v[o]!;
        v[o] = x;
      }
    },
    edge() {
      for (let f = 0; f < flops; f++) nextState[f] = look(fIns, fLo, fHi, f);
      v.set(nextState, base);
    },
    resetCounts() {
      toggles.fill(0);
    },
  };
}
