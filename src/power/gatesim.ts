// A levelised zero-delay simulator of a flattened gate netlist, compiled to JavaScript.
// Each cell's outputs come from the liberty's own `function`/`ff` attributes (cells.ts);
// the cells are ordered once so every cell is evaluated after its drivers, and the order is
// printed as straight-line code over typed arrays (one Function per few thousand cells so
// V8 optimises them). Per cycle: `edge()` loads every flip-flop from its settled inputs,
// the caller drives the input ports, `settle()` evaluates every cell once and adds one to
// the toggle count of each cell output pin whose value changed. Zero delay: a net changes
// at most once per cycle (no glitches; docs/POWER.md).
import type { CellLibrary, CellModel } from './cells.ts';
import { exprJs, exprVars } from './cells.ts';
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

/** Cells per generated function: small enough that V8 optimises each (measured: 1,500 per function ran 10x slower). */
const CHUNK = 200;

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
  const pinRef = (k: number) => (name: string) => {
    const l = leaves[k]!;
    const ff = models[k]!.ff;
    if (ff && name === ff.state) return `s[${stateOf[k]}]`;
    if (ff && name === ff.stateN) return `(1^s[${stateOf[k]}])`;
    const n = l.pins.get(name);
    if (n === undefined) throw new Error(`cell ${l.path} (${l.type}): input ${name} is not connected`);
    return `v[${n}]`;
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
  const settleParts: string[][] = [];
  let part: string[] = [];
  for (const k of order) {
    const m = models[k]!;
    const ref = pinRef(k);
    for (const s of leafSlots[k]!) {
      const slot = slots[s]!;
      part.push(`x=${exprJs(m.outputs.get(slot.pin)!, ref)};t[${s}]+=x^v[${slot.net}];v[${slot.net}]=x;`);
    }
    if (part.length >= CHUNK) {
      settleParts.push(part);
      part = [];
    }
  }
  if (part.length) settleParts.push(part);
  const settleFns = settleParts.map(
    (p) => new Function('v', 's', 't', `"use strict";let x=0;\n${p.join('\n')}`) as SettleFn,
  );
  const edgeLines: string[] = [];
  leaves.forEach((l, k) => {
    const ff = models[k]!.ff;
    if (!ff) return;
    const ref = pinRef(k);
    let e = exprJs(ff.next, ref);
    if (ff.preset) e = `(${exprJs(ff.preset, ref)}?1:${e})`;
    if (ff.clear) e = `(${exprJs(ff.clear, ref)}?0:${e})`;
    edgeLines.push(`n[${stateOf[k]}]=${e};`);
    void l;
  });
  const edgeFn = new Function('v', 's', 'n', `"use strict";\n${edgeLines.join('\n')}\ns.set(n);`) as EdgeFn;
  const v = new Uint8Array(net.nets);
  v[CONST1] = 1;
  const s = new Uint8Array(flops);
  const nextState = new Uint8Array(flops);
  const toggles = new Uint32Array(slots.length);
  return {
    v,
    toggles,
    slots,
    leafSlots,
    flops,
    settle() {
      for (const f of settleFns) f(v, s, toggles);
    },
    edge() {
      edgeFn(v, s, nextState);
    },
    resetCounts() {
      toggles.fill(0);
    },
  };
}

type SettleFn = (v: Uint8Array, s: Uint8Array, t: Uint32Array) => void;
type EdgeFn = (v: Uint8Array, s: Uint8Array, n: Uint8Array) => void;
