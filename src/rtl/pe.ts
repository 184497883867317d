// The PE planner: router (optional) + lanes + adder tree(s) + accumulator, every part a
// library module with bound parameters; templates/pe.v.hbs prints the instances, the lane
// generate loops and the pipeline registers. The PE's `act` input carries a raw activation
// block, or (Verilog parameter ROUTED = 1, for a router at the array's edge) the block already
// routed: {low lanes' activations, high lanes' activations}. pe.maskScope 'group' / 'layer'
// (docs/CODESIGN.md): a fixed-lane PE, no router at all; its `act` is always in that lane
// order (routed at the array edge, planArray, or permuted by the quantizer).
import { maskScopeOf } from '../config/mask-scope.ts';
import type { ResolvedDpu } from '../config/resolve.ts';
import { signedBitsFor } from '../format/bits.ts';
import { formatOf } from '../format/registry.ts';
import { type GroupDatapath, structureOf } from '../format/structure.ts';
import { fullBlockSumRange } from '../format/values.ts';
import type { Instance, ModulePlan, Port } from './context.ts';
import { dynLane, fullLane, type LaneKind, laneShift, lowLane, midLane } from './lanes.ts';
import { bind, byteList, datapathModule, LIB, type LibraryModule } from './library.ts';
import { type RoutePlan, routePlan } from './route.ts';
import { type TreePlan, treePlan } from './tree.ts';
import { extend, ident, int, lit, range } from './verilog.ts';

export const input = (bits: number | null, name: string, unused: string | null = null): Port => ({
  decl: `input  ${bits === null ? '' : `${range(bits)} `}${ident(name)}`,
  unused,
});
export const output = (bits: number | null, name: string): Port => ({
  decl: `output ${bits === null ? '' : `${range(bits)} `}${ident(name)}`,
  unused: null,
});
export const inst = (
  module: string,
  name: string,
  conns: Record<string, string>,
  params: { name: string; value: string }[] = [],
): Instance => ({
  module: ident(module),
  inst: ident(name),
  params,
  conns: Object.entries(conns).map(([port, expr]) => ({ port: ident(port), expr })),
});

/** `sig[i*bits + offset +: bits]`: field i of a generate loop over equal fields. */
const at = (sig: string, offset: number, bits: number) =>
  `${sig}[${offset ? `${offset} + ` : ''}i*${int(bits, 'width', 1)} +: ${bits}]`;

interface Wire {
  name: string;
  bits: number;
  /** Why some bits are not read (a targeted lint_off), or null. */
  unused: string | null;
}
interface Operand {
  name: string;
  bits: number;
  src: string;
  reg: boolean;
}
interface Group {
  what: string;
  block: string;
  count: number;
  operands: Operand[];
  wires: Wire[];
  insts: Instance[];
  assigns: { lhs: string; rhs: string }[];
}

export interface PePlan {
  readonly plan: ModulePlan;
  /** Library modules the PE uses, leaves first. */
  readonly library: readonly LibraryModule[];
  readonly route: RoutePlan | null;
  /** pe.maskScope 'group': the router the array puts at its edge (the PE has fixed lanes). */
  readonly edgeRoute: RoutePlan | null;
  /** routeDecode 'column': the PE takes one-hot selects (`sel`) decoded at the array edge. */
  readonly columnDecode: boolean;
  readonly tree: TreePlan;
  readonly lowTree: TreePlan | null;
  /** Ports the array connects beyond the common ones. */
  readonly layerShiftPort: string | null;
}

/** `isolate`: operand isolation in the dynamic lanes (false only for a bench, docs/POWER.md). */
export function planPe(cfg: ResolvedDpu, header: string, isolate = true): PePlan {
  const name = ident(cfg.name);
  const d = cfg.derived;
  const B = int(cfg.pe.block, 'pe.block', 1);
  const H = int(cfg.pe.high, 'pe.high');
  const A = int(cfg.activation.bits, 'activation.bits', 1);
  const ACC = int(cfg.accumulator.bits, 'accumulator.bits', 1);
  const fmt = formatOf(cfg);
  const shift = laneShift(cfg);
  const TB = int(shift?.field.bits ?? 0, 'shift bits');
  const dynamic = cfg.pe.mode === 'dynamic';
  let cap = Math.min(int(d.blockSumBits, 'blockSumBits', 1), ACC);
  const layerShift = shift?.field.scope === 'layer';
  const layerShiftPort = layerShift
    ? d.interface.layerMeta.find((m) => m.field.name === shift!.field.name)!.port
    : null;
  const layout = d.weightLayout;
  const pipeOps = cfg.pipeline.operands;
  const pipeMul = cfg.pipeline.multiply;
  const pipeSum = cfg.pipeline.adderTree;
  const library: LibraryModule[] = [];
  const use = (m: LibraryModule) => {
    if (!library.includes(m)) library.push(m);
    return m.module;
  };

  // The block's shift (DLIQ t): a weight-block field or the layer port; registered with the
  // operands under pipeline.operands (the layer shift is constant).
  const shiftField = shift && !layerShift ? layout.meta.find((f) => f.name === shift.field.name)! : null;
  const shiftSrc =
    TB === 0 ? null : layerShift ? 'shift' : `wgt[${shiftField!.offset + TB - 1}:${shiftField!.offset}]`;
  const shiftReg = shiftSrc && pipeOps && !layerShift ? { name: 'q_t', bits: TB, src: shiftSrc } : null;
  const shiftNow = shiftReg ? shiftReg.name : shiftSrc;

  const wires: Wire[] = [];
  const assigns: { lhs: string; rhs: string }[] = [];
  const groups: Group[] = [];
  const used = { act: false, mask: false, shift: false };
  // Lane products as tree leaves: [bus, leaf widths, low (shared-shift) lanes?]
  const leafBuses: { bus: string; bits: number[]; low: boolean }[] = [];
  let route: RoutePlan | null = null;
  let routerInst: Instance | null = null;
  let routed: { lhs: string; rhs: string }[] = [];
  let columnDecode = false;
  // pe.maskScope 'group' / 'layer': the block arrives in lane order, the lanes read fixed positions.
  const scope = maskScopeOf(cfg).kind;
  let fixedLanes = false;
  let edgeRoute: RoutePlan | null = null;
  const sharedShift = !dynamic && TB > 0 && d.lowLanes > 0 && !shift!.inLane;
  // The low lanes' sum before the shift is exact in capLo bits (or wraps with the accumulator:
  // (x mod 2^c) << t is still x << t mod 2^c).
  const capLo = sharedShift
    ? Math.min(
        signedBitsFor(d.lowLanes * d.plainLowProductRange[0], d.lowLanes * d.plainLowProductRange[1]),
        ACC,
      )
    : cap;

  /**
   * One generate loop of `count` lanes of `kind`: operands (registered under
   * pipeline.operands), the instance, and its product into `bus` (leafBits per lane: bits
   * above the cap wrap away in the accumulator).
   */
  const laneLoop = (
    what: string,
    block: string,
    count: number,
    kind: LaneKind,
    ops: { port: string; name: string; bits: number; src: string }[],
    bus: string,
    c: number,
    low: boolean,
    extra: (g: Group) => void = () => {},
    leafBits = kind.pBits,
  ) => {
    // A leaf wider than the product (equal leaves): the product sign-extended.
    const leaf = Math.min(leafBits, c);
    const g: Group = {
      what,
      block,
      count,
      operands: ops.map((o) => ({ name: o.name, bits: o.bits, src: o.src, reg: pipeOps })),
      wires: [
        {
          name: 'p',
          bits: kind.pBits,
          unused: leaf < kind.pBits ? `bits above ${c} wrap away in the ${ACC}-bit accumulator` : null,
        },
      ],
      insts: [],
      assigns: [
        {
          lhs: at(bus, 0, leaf),
          rhs: leaf < kind.pBits ? `p[${leaf - 1}:0]` : extend('p', kind.pBits, leaf, true),
        },
      ],
    };
    const conns: Record<string, string> = Object.fromEntries(ops.map((o) => [o.port, o.name]));
    if (!('meta' in conns)) conns.meta = lit(kind.mBits, 0);
    conns.p = 'p';
    g.insts.push(inst(use(kind.lib), 'u_lane', conns, kind.params));
    extra(g);
    groups.push(g);
    wires.push({ name: bus, bits: count * leaf, unused: null });
    leafBuses.push({ bus, bits: new Array(count).fill(leaf), low });
  };

  const structure = structureOf(cfg);
  if (structure.datapath) {
    // A PE structure's datapath (SDP: group modules of part-lanes) replaces the lanes.
    structureGroups(cfg, structure.datapath, { A, cap, pipeOps }, use, groups, wires, leafBuses);
    used.act = true;
  } else if (dynamic || !fmt.hasLow) {
    const full = fullLane(cfg);
    const slot = layout.slots[0]!.offset;
    const W = full.cBits;
    const ops = [
      { port: 'a', name: 'a', bits: A, src: at('act', 0, A) },
      { port: dynamic ? 'w' : 'code', name: 'w', bits: W, src: at('wgt', slot, W) },
    ];
    if (!dynamic) {
      laneLoop(`${B} full-precision lanes`, 'g_lane', B, full, ops, 'prod', cap, false);
    } else {
      use(LIB.laneFull);
      const low = fmt.lane ? lowLane(cfg, true) : null;
      const dyn = dynLane(cfg, low, isolate);
      ops.push({ port: 'low', name: 'm', bits: 1, src: `wgt[${layout.mask!.offset} + i]` });
      const what = `${B} dynamic lanes: full multiply, or the ${fmt.name} low mode when the mask bit is 1`;
      laneLoop(what, 'g_lane', B, dyn, ops, 'prod', cap, false, (g) => {
        const conns = g.insts[0]!.conns.filter((c) => c.port !== 'meta');
        const lowConns = { a_low: 'a_low', c_low: 'c_low', p_low: low ? 'p_low' : lit(2, 0) };
        g.insts[0] = {
          ...g.insts[0]!,
          conns: [
            ...conns.slice(0, -1),
            ...Object.entries(lowConns).map(([port, expr]) => ({ port, expr })),
            conns.at(-1)!,
          ],
        };
        const why = `${fmt.name}: a low weight is zero, the low path is not used`;
        g.wires.push(
          { name: 'a_low', bits: A, unused: low ? null : why },
          { name: 'c_low', bits: low ? low.cBits : 1, unused: low ? null : why },
        );
        if (low) {
          g.wires.push({ name: 'p_low', bits: low.pBits, unused: null });
          const lc: Record<string, string> = { a: 'a_low', code: 'c_low' };
          // A dynamic lane applies the block's (or layer's) shift itself.
          lc.meta = shift ? shiftNow! : lit(low.mBits, 0);
          lc.p = 'p_low';
          g.insts.push(inst(use(low.lib), 'u_low', lc, low.params));
        }
      });
      // strum_lane_dyn instantiates strum_lane_full: it must come after it.
      library.splice(library.indexOf(LIB.laneDyn), 1);
      library.push(LIB.laneDyn);
      used.mask = true;
      used.shift = TB > 0 && low !== null;
    }
    used.act = true;
  } else {
    const L = B - H;
    const lowLanes = d.lowLanes;
    route = routePlan(B, H, lowLanes > 0);
    if (route && scope !== 'pe') {
      fixedLanes = true;
      if (scope === 'group') edgeRoute = route;
      route = null;
      // A fixed-lane PE without a shared shift sums B equal leaves (below): its tree and sum
      // get the INT8 PE's widths too (B full products), so tree and accumulator are the INT8
      // PE's modules. Exact: the narrower real block sum fits. With the 1-bit narrower sum
      // the accumulator's sign fan-out put it 0.12 ns behind INT8's (docs/CODESIGN.md).
      if (!sharedShift) {
        cap = Math.min(signedBitsFor(...fullBlockSumRange(cfg)), ACC);
      }
    }
    if (route) {
      columnDecode = cfg.pe.routeDecode === 'column';
      const loBits = (lowLanes > 0 ? L : 1) * A;
      wires.push({ name: 'hi_act', bits: H * A, unused: null });
      wires.push({
        name: 'lo_act',
        bits: loBits,
        unused: lowLanes > 0 ? null : `${fmt.name}: the router has no low lanes (zeros)`,
      });
      const params = bind({ B, H, A, LOW: lowLanes > 0 ? 1 : 0 });
      const conns: Record<string, string> = columnDecode ? { sel: 'sel' } : { mask: `wgt[${B - 1}:0]` };
      Object.assign(conns, { act: 'act', hi_act: 'hi_act', lo_act: 'lo_act' });
      routerInst = inst(use(columnDecode ? LIB.routeMux : LIB.router), 'u_route', conns, params);
      routed = [{ lhs: 'hi_act', rhs: `act[${H * A - 1}:0]` }];
      if (lowLanes > 0) routed.push({ lhs: 'lo_act', rhs: `act[${B * A - 1}:${H * A}]` });
      else routed.push({ lhs: 'lo_act', rhs: lit(A, 0) });
      used.mask = !columnDecode;
    }
    const hiSrc = route ? 'hi_act' : 'act';
    const loSrc = route ? 'lo_act' : 'act';
    if (H > 0) {
      const full = fullLane(cfg);
      const ops = [
        { port: 'a', name: 'a', bits: A, src: at(hiSrc, 0, A) },
        { port: 'code', name: 'w', bits: full.cBits, src: at('wgt', layout.high[0]!.offset, full.cBits) },
      ];
      const what = `${H} high lanes (full precision)${route ? ': lane k takes the k-th 0 of the mask' : ''}`;
      laneLoop(what, 'g_hi', H, full, ops, 'prod_hi', cap, false);
    }
    // pe.mid (scope 'layer' only, so fixed lanes): M middle lanes read positions H..H+M-1.
    const M = d.midLanes;
    if (M > 0) {
      const mid = midLane(cfg);
      const ops = [
        { port: 'a', name: 'a', bits: A, src: at('act', H * A, A) },
        { port: 'code', name: 'c', bits: mid.cBits, src: at('wgt', layout.mid[0]!.offset, mid.cBits) },
      ];
      const what = `${M} middle lanes (${cfg.pe.mid!.format}, ${mid.cBits}-bit codes)`;
      const leafBits = fixedLanes && mid.pBits < d.highProductBits ? d.highProductBits : mid.pBits;
      laneLoop(what, 'g_mid', M, mid, ops, 'prod_mid', cap, false, undefined, leafBits);
    }
    if (lowLanes > 0) {
      const low = lowLane(cfg, false);
      const ops = [
        { port: 'a', name: 'a', bits: A, src: at(loSrc, fixedLanes ? (H + M) * A : 0, A) },
        { port: 'code', name: 'c', bits: low.cBits, src: at('wgt', layout.low[0]!.offset, low.cBits) },
      ];
      const what = `${lowLanes} low lanes (${fmt.name})${route ? ': lane j takes the j-th 1 of the mask' : ''}${sharedShift ? ", before their block's shared shift" : ''}`;
      // Fixed-lane PEs: the narrower low products enter the tree sign-extended to the high
      // products' width, so the tree is the INT8 PE's tree (equal leaves), not a mixed-width
      // one that ABC maps to a slower structure (docs/CODESIGN.md).
      const equalLeaves = fixedLanes && !sharedShift && low.pBits < d.highProductBits;
      const leafBits = equalLeaves ? d.highProductBits : low.pBits;
      // A lane that takes its metadata itself (LP's layer scale) gets it on its meta port.
      const ownMeta = shift?.inLane
        ? (g: Group) => {
            g.insts[0] = {
              ...g.insts[0]!,
              conns: g.insts[0]!.conns.map((c) => (c.port === 'meta' ? { ...c, expr: shiftNow! } : c)),
            };
          }
        : undefined;
      laneLoop(
        what,
        'g_lo',
        lowLanes,
        low,
        ops,
        'prod_lo',
        sharedShift ? capLo : cap,
        sharedShift,
        ownMeta,
        leafBits,
      );
    }
    used.act = H > 0 || lowLanes > 0 || M > 0;
    used.shift = lowLanes > 0 && TB > 0;
  }

  // ---- adder trees, pipeline and accumulator ------------------------------------------
  const leafRegs: { name: string; bits: number; src: string }[] = [];
  const leafIn = leafBuses.map((b) => {
    const bits = b.bits.reduce((s, x) => s + x, 0);
    if (!pipeMul) return { ...b, in: b.bus };
    leafRegs.push({ name: `${b.bus}_q`, bits, src: b.bus });
    return { ...b, in: `${b.bus}_q` };
  });
  // A per-block shift travels with its block's products (the layer shift is constant).
  if (sharedShift && pipeMul && !layerShift) leafRegs.push({ name: 'm_t', bits: TB, src: shiftNow! });

  const addTree = (instName: string, ins: { bits: number[]; in: string }[], c: number, sum: string) => {
    const bits = ins.flatMap((x) => x.bits);
    const plan = treePlan(bits, c);
    if (!plan.root) return null;
    const params = bind({
      N: bits.length,
      LEAF_BITS: byteList(bits),
      CAP: c,
      IN_BITS: bits.reduce((s, x) => s + x, 0),
      OUT_BITS: plan.root.bits,
    });
    // Leaf 0 in the LSBs: the first bus last in the concatenation.
    const cat =
      ins.length === 1
        ? ins[0]!.in
        : `{${[...ins]
            .reverse()
            .map((x) => x.in)
            .join(', ')}}`;
    return { plan, inst: inst(use(LIB.adderTree), instName, { in: cat, sum }, params) };
  };
  const lowTree = sharedShift
    ? addTree(
        'u_tree_lo',
        leafIn.filter((l) => l.low),
        capLo,
        'lsum',
      )
    : null;
  let lowShift: { sumBits: number; bits: number; ext: string; t: string } | null = null;
  const mainIn: { bits: number[]; in: string }[] = leafIn.filter((l) => !l.low);
  if (lowTree) {
    const sumLo = lowTree.plan.root!.bits;
    const bits = Math.min(sumLo + shift!.field.max, cap);
    const t = pipeMul && !layerShift ? 'm_t' : shiftNow!;
    lowShift = { sumBits: sumLo, bits, ext: extend('lsum', sumLo, bits, true), t };
    mainIn.push({ bits: [bits], in: 'lsum_sh' });
  }
  const tree = addTree('u_tree', mainIn, cap, 'tsum');
  const sumBits = tree?.plan.root?.bits ?? 1;

  const noLanes = 'this PE has no lanes (static sparse with H = 0): every block sums to 0';
  const peUnusedWgt: string[] = [];
  if (layout.mask && !used.mask)
    peUnusedWgt.push(
      columnDecode
        ? 'the mask (decoded per column: the PE gets the selects on sel)'
        : fixedLanes
          ? `the mask (pe.maskScope '${scope}': the block arrives in lane order, fixed lanes)`
          : 'the mask (no routing needed when H = 0 or H = B)',
    );
  if (layout.meta.length && !used.shift)
    peUnusedWgt.push(`the ${layout.meta.map((f) => f.name).join(', ')} metadata (no low lanes)`);
  if (!used.act) peUnusedWgt.push('all weights');
  const pePorts: Port[] = [input(null, 'clk'), input(null, 'rst')];
  if (pipeOps) pePorts.push(input(null, 'r_en', groups.length ? null : noLanes));
  if (pipeMul) pePorts.push(input(null, 'p_en', groups.length ? null : noLanes));
  if (pipeSum) pePorts.push(input(null, 's_en'));
  pePorts.push(
    input(null, 'acc_en'),
    input(null, 'acc_clear'),
    input(null, 'acc_capture'),
    input(
      d.activationBlockBits,
      'act',
      !used.act
        ? noLanes
        : fixedLanes && d.lowLanes === 0
          ? 'sparse with fixed lanes: the low positions hold the activations of zero weights'
          : null,
    ),
    input(d.weightBlockBits, 'wgt', peUnusedWgt.length ? `unused here: ${peUnusedWgt.join('; ')}` : null),
  );
  if (columnDecode) pePorts.push(input(route!.muxInputs, 'sel'));
  if (layerShift) pePorts.push(input(TB, 'shift', used.shift ? null : 'no low lanes use the layer shift'));
  pePorts.push(output(ACC, 'result'));
  const module = `${name}_pe`;
  const kind =
    structure.summary ??
    (!fmt.hasLow
      ? `INT8 baseline, ${B} full lanes`
      : dynamic
        ? `dynamic StruM (${fmt.name}), ${B} switchable lanes`
        : `static StruM (${fmt.name}), ${H} full + ${d.midLanes ? `${d.midLanes} middle (${cfg.pe.mid!.format}) + ` : ''}${d.lowLanes} low lanes`);
  const params = routerInst
    ? [
        {
          name: 'ROUTED',
          value: '0',
          why: '1: `act` is already routed, {low lanes, high lanes} (a router at the array edge)',
        },
      ]
    : [];
  const plan: ModulePlan = {
    template: 'pe',
    role: 'pe',
    module,
    ctx: {
      module,
      header,
      summary: `PE: ${kind}; acc = wrap((clear ? 0 : acc) + sum(a[i] * w[i]))`,
      params,
      ports: pePorts,
      wires,
      router: routerInst ? { inst: routerInst, routed } : null,
      assigns,
      shiftReg,
      groups,
      leafRegs,
      lowTree: lowTree?.inst ?? null,
      lowShift,
      tree: tree?.inst ?? null,
      sumBits,
      sumZero: lit(1, 0),
      sumReg: pipeSum,
      acc: inst(
        use(LIB.accumulator),
        'u_acc',
        {
          clk: 'clk',
          rst: 'rst',
          en: 'acc_en',
          clear: 'acc_clear',
          capture: 'acc_capture',
          sum: pipeSum ? 'tsum_q' : 'tsum',
          result: 'result',
        },
        bind({ S_BITS: sumBits, ACC_BITS: ACC }),
      ),
    },
  };
  return {
    plan,
    library,
    route,
    edgeRoute,
    columnDecode,
    tree: tree?.plan ?? treePlan([], cap),
    lowTree: lowTree?.plan ?? null,
    layerShiftPort,
  };
}

/**
 * A PE structure's datapath (src/format/structure.ts GroupDatapath; SDP's): `count` instances
 * of its module, instance i reading its activations and its weight fields; their products are
 * leaves of the tree (full-lane-wide, P_BITS each).
 */
function structureGroups(
  cfg: ResolvedDpu,
  dp: GroupDatapath,
  o: { A: number; cap: number; pipeOps: boolean },
  use: (m: LibraryModule) => string,
  groups: Group[],
  wires: Wire[],
  leafBuses: { bus: string; bits: number[]; low: boolean }[],
): void {
  const layout = cfg.derived.weightLayout;
  const fields = dp.weights.field === 'part' ? layout.parts : layout.slots;
  const n = int(dp.count, 'datapath instances', 1);
  const K = int(dp.products, 'datapath products', 1);
  const P = int(cfg.derived.highProductBits, 'highProductBits', 1);
  const leaf = Math.min(P, o.cap);
  const aBits = dp.activations * o.A;
  const wBits = dp.weights.fields * int(fields[0]!.bits, 'weight field bits', 1);
  groups.push({
    what: dp.what,
    block: `g_${dp.name}`,
    count: n,
    operands: [
      { name: 'a', bits: aBits, src: at('act', 0, aBits), reg: o.pipeOps },
      { name: 'w', bits: wBits, src: at('wgt', fields[0]!.offset, wBits), reg: o.pipeOps },
    ],
    wires: [
      {
        name: 'p',
        bits: K * P,
        unused: leaf < P ? `bits above ${o.cap} wrap away in the accumulator` : null,
      },
    ],
    insts: [
      inst(
        use(datapathModule(dp.module)),
        `u_${dp.name}`,
        { a: 'a', [dp.weights.port]: 'w', p: 'p' },
        bind({ ...dp.params, P_BITS: P }),
      ),
    ],
    assigns: Array.from({ length: K }, (_, j) => ({
      lhs: `prod[i*${K * leaf}${j ? ` + ${j * leaf}` : ''} +: ${leaf}]`,
      rhs: `p[${j * P + leaf - 1}:${j * P}]`,
    })),
  });
  wires.push({ name: 'prod', bits: n * K * leaf, unused: null });
  leafBuses.push({ bus: 'prod', bits: new Array(n * K).fill(leaf), low: false });
}
