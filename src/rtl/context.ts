// Context builders: turn a resolved config into one plan per Verilog module (which
// template, which role, and the values it prints). All decisions live here; the
// templates in templates/ only print. Widths come from cfg.derived and the formats.
import { edgeStagesOf, maskScopeOf } from '../config/mask-scope.ts';
import type { ResolvedDpu } from '../config/resolve.ts';
import { productRange as rangeTimes, signedBitsFor } from '../format/bits.ts';
import { formatOf } from '../format/registry.ts';
import type { MetaField } from '../format/spec.ts';
import { activationRange, lowValueRange } from '../format/values.ts';
import { type RoutePlan, routePlan } from './route.ts';
import { type TreePlan, treePlan } from './tree.ts';
import type { FaultKind, RtlModule, RtlOptions } from './types.ts';
import { extend, ident, int, lit, range, replicate, slice } from './verilog.ts';

/** A template of templates/ (a format's own lane module: `lane_<kind>`). */
export type TemplateName =
  | 'lane_full'
  | `lane_${string}`
  | 'lane_dyn'
  | 'route'
  | 'adder_tree'
  | 'accumulator'
  | 'pe'
  | 'array';

export interface Port {
  readonly decl: string;
  /** Why some bits of this input are not used (wrapped in a targeted lint_off); else null. */
  readonly unused: string | null;
}

export interface Instance {
  readonly module: string;
  readonly inst: string;
  readonly conns: readonly { port: string; expr: string }[];
}

export interface ModulePlan {
  readonly template: TemplateName;
  /** The template's file when it lives outside templates/ (a format's LaneSpec.template). */
  readonly templateFile?: string;
  readonly role: RtlModule['role'];
  readonly module: string;
  /** What the template prints: always `module`, `summary` and `ports`, plus its own fields. */
  readonly ctx: Readonly<Record<string, unknown>>;
}

export interface RtlPlan {
  readonly top: string;
  readonly pe: string;
  /** Leaves first: every module appears after the modules it instantiates. */
  readonly modules: readonly ModulePlan[];
  readonly route: RoutePlan | null;
  readonly tree: TreePlan;
  /** Static PE whose low lanes share a shift (DLIQ): the low lanes' tree (its shifted sum is a leaf of `tree`). */
  readonly lowTree: TreePlan | null;
}

const input = (bits: number | null, name: string, unused: string | null = null): Port => ({
  decl: `input  ${bits === null ? '' : `${range(bits)} `}${ident(name)}`,
  unused,
});
const output = (bits: number | null, name: string): Port => ({
  decl: `output ${bits === null ? '' : `${range(bits)} `}${ident(name)}`,
  unused: null,
});
const inst = (module: string, name: string, conns: Record<string, string>): Instance => ({
  module: ident(module),
  inst: ident(name),
  conns: Object.entries(conns).map(([port, expr]) => ({ port: ident(port), expr })),
});

/** Which test-only faults can be injected into this config (the others have nothing to break). */
export function applicableFaults(cfg: ResolvedDpu): FaultKind[] {
  const d = cfg.derived;
  const out: FaultKind[] = [];
  const fmt = formatOf(cfg);
  if (fmt.lane && (cfg.pe.mode === 'dynamic' || d.lowLanes > 0)) out.push('low-lane-sign');
  // A router exists in the PE ('pe'), at the array edge ('group'), or nowhere ('layer').
  if (
    cfg.pe.mode === 'static' &&
    fmt.hasLow &&
    routePlan(cfg.pe.block, cfg.pe.high, false) &&
    maskScopeOf(cfg).kind !== 'layer'
  )
    out.push('route-off-by-one');
  if (d.highLanes > 0) out.push('high-lane-bit');
  return out;
}

/** Range of activation x weight over a weight range. */
const productRange = (cfg: ResolvedDpu, w: readonly [number, number]) => rangeTimes(activationRange(cfg), w);

/**
 * The metadata field the low lanes apply as a shift of their product (DLIQ's t), with its
 * plain code range, or null. Other metadata has no RTL path yet: refused here.
 */
function laneShift(cfg: ResolvedDpu): { field: MetaField; plainRange: readonly [number, number] } | null {
  const fmt = formatOf(cfg);
  const shift = fmt.lane?.shift ?? null;
  const routed = fmt.meta.filter((_, i) => shift?.meta === i);
  if (routed.length !== fmt.meta.length) {
    throw new Error(
      `rtl: format '${fmt.name}' has metadata no lane applies (only a lane shift is supported)`,
    );
  }
  return shift && fmt.meta[shift.meta]
    ? { field: fmt.meta[shift.meta]!, plainRange: shift.plainRange }
    : null;
}
const laneSumRange = ([lo, hi]: [number, number], n: number) => [n * lo, n * hi] as const;

/** Signed width of a dynamic lane's low-mode product (the static low lanes use derived.lowProductBits). */
export function lowModeProductBits(cfg: ResolvedDpu): number {
  return signedBitsFor(...productRange(cfg, lowValueRange(cfg)));
}

/** Range of a shared-shift lane's product a * q before the shift (the PE shifts the lanes' sum). */
function plainLowRange(cfg: ResolvedDpu): [number, number] {
  const shift = laneShift(cfg);
  return productRange(cfg, shift ? shift.plainRange : lowValueRange(cfg));
}
export const plainLowProductBits = (cfg: ResolvedDpu) => signedBitsFor(...plainLowRange(cfg));

export function planRtl(cfg: ResolvedDpu, options: RtlOptions = {}): RtlPlan {
  const name = ident(cfg.name);
  const d = cfg.derived;
  const fault = options.fault;
  if (fault && !applicableFaults(cfg).includes(fault)) {
    throw new Error(
      `rtl: fault '${fault}' does not apply to ${name} (applicable: ${applicableFaults(cfg).join(', ') || 'none'})`,
    );
  }
  const B = int(cfg.pe.block, 'pe.block', 1);
  const H = int(cfg.pe.high, 'pe.high');
  const A = int(cfg.activation.bits, 'activation.bits', 1);
  const W = int(cfg.weightBits, 'weightBits', 1);
  const ACC = int(cfg.accumulator.bits, 'accumulator.bits', 1);
  const fmt = formatOf(cfg);
  // Bits of a stored low code (the format's; 0 when it stores none, and then no lane reads it).
  const N = fmt.codeBits;
  const lane = fmt.lane;
  // The metadata the lanes apply as a shift (DLIQ's t): TB bits, per block or per layer.
  const shift = laneShift(cfg);
  const TB = int(shift?.field.bits ?? 0, 'shift bits');
  const signedAct = cfg.activation.signed;
  const dynamic = cfg.pe.mode === 'dynamic';
  const low = fmt.name;
  const hasLowPath = lane !== null;
  const cap = Math.min(int(d.blockSumBits, 'blockSumBits', 1), ACC);
  const layerShift = shift?.field.scope === 'layer';
  const layerShiftPort = layerShift
    ? d.interface.layerMeta.find((m) => m.field.name === shift!.field.name)!.port
    : null;
  const header = `strumgen, config '${name}' (hash ${cfg.shortHash})`;
  const modules: ModulePlan[] = [];
  const add = (
    template: TemplateName,
    role: RtlModule['role'],
    module: string,
    summary: string,
    ctx: object,
    templateFile?: string,
  ) =>
    modules.push({
      template,
      role,
      module: ident(module),
      ctx: { module, summary, header, ...ctx },
      ...(templateFile ? { templateFile } : {}),
    });

  // Activation widened to a product width: sign or zero extension (an unsigned value needs a 0 on top).
  const actTo = (P: number) => {
    if (!signedAct && P <= A)
      throw new Error(`rtl: product width ${P} cannot hold unsigned ${A}-bit activations`);
    return extend('a', A, P, signedAct);
  };

  // ---- lanes -------------------------------------------------------------------------
  const fullLane = (faulty: boolean) => {
    const P = int(d.highProductBits, 'highProductBits', 1);
    const module = `${name}_lane_full${faulty ? '_fault' : ''}`;
    add('lane_full', 'lane', module, `full-precision lane: p = a * w (${A} x ${W} bits, signed)`, {
      ports: [input(A, 'a'), input(W, 'w'), output(P, 'p')],
      pBits: P,
      wBits: W,
      aExt: actTo(P),
      // high-lane-bit fault: weight bit 1 stuck at 0 (wrong only when that bit is set).
      wIn: faulty ? `w & ~${lit(W, 2)}` : 'w',
      wExt: extend('w_in', W, P, true),
      faulty,
    });
    return module;
  };
  // `shifted`: a DLIQ lane applies the shift t itself (dynamic lanes); static PEs share one
  // shift over the low lanes' sum instead, so their lanes are plain A x n multipliers.
  const lowLane = (P: number, faulty: boolean, shifted: boolean) => {
    if (!lane) throw new Error(`rtl: format '${low}' has no low lane`);
    const module = `${name}_lane_${lane.kind}${faulty ? '_fault' : ''}`;
    const ports = [input(A, 'a'), input(int(N, 'codeBits', 1), 'code')];
    if (lane.kind === 'mip2q') {
      const KB = N - 1;
      const SB = int(lane.params.expBits!, 'mip2q expBits');
      add(
        'lane_mip2q',
        'lane',
        module,
        `MIP2Q lane: p = ±(a << e), code {sign, k}, e = k - 1, k = 0 is zero`,
        {
          ports: [...ports, output(P, 'p')],
          pBits: P,
          kBits: KB,
          signBit: N - 1,
          aExt: actTo(P),
          kZero: lit(KB, 0),
          pZero: lit(P, 0),
          // The exponent only needs bits for 0..maxExponent; (k - 1) mod 2^SB is exact there.
          eBits: SB,
          eExpr: SB > 0 ? `${SB === KB ? 'k' : slice('k', 0, SB)} - ${lit(SB, 1)}` : null,
          negCond: faulty ? '!neg' : 'neg',
          faulty,
        },
      );
    } else if (lane.kind === 'dliq') {
      const what = shifted ? '(a * q) << t' : "a * q (the PE shifts the low lanes' sum once)";
      add('lane_dliq', 'lane', module, `DLIQ lane: p = ${what}, q a ${N}-bit two's complement code`, {
        ports: shifted ? [...ports, input(TB, 't'), output(P, 'p')] : [...ports, output(P, 'p')],
        pBits: P,
        aExt: actTo(P),
        qExt: extend('code', N, P, true),
        out: `${faulty ? '-' : ''}(${shifted ? 'prod << t' : 'prod'})`,
        faulty,
      });
    } else {
      // Any other lane module gets the common lane values: p = f(a, code), P bits wide.
      add(
        `lane_${lane.kind}`,
        'lane',
        module,
        `${low} lane (lane module ${lane.kind}): p = a * value(code), ${N}-bit code`,
        {
          ports: [...ports, output(P, 'p')],
          pBits: P,
          codeBits: N,
          aExt: actTo(P),
          qExt: extend('code', N, P, true),
          pZero: lit(P, 0),
          params: lane.params,
          faulty,
        },
        lane.template,
      );
    }
    return module;
  };

  const modCache = new Map<string, string>();
  const once = (key: string, make: () => string) => {
    if (!modCache.has(key)) modCache.set(key, make());
    return modCache.get(key)!;
  };
  const full = (faulty: boolean) => once(`full${faulty}`, () => fullLane(faulty));
  // One low lane module per fault state; a PE only ever asks for one width and shift mode.
  const lowArgs = new Map<boolean, string>();
  const lowOf = (P: number, faulty: boolean, shifted: boolean) => {
    const args = `${P},${shifted}`;
    if ((lowArgs.get(faulty) ?? args) !== args) throw new Error('rtl: two low lane variants in one PE');
    lowArgs.set(faulty, args);
    return once(`low${faulty}`, () => lowLane(P, faulty, shifted));
  };

  const dynLane = (faulty: boolean) =>
    once(`dyn${faulty}`, () => {
      const P = int(d.highProductBits, 'highProductBits', 1);
      const LP = lowModeProductBits(cfg);
      if (LP > P) throw new Error(`rtl: low-mode product (${LP} bits) wider than the lane (${P})`);
      const fullMod = full(faulty && fault === 'high-lane-bit');
      const module = `${name}_lane_dyn${faulty ? '_fault' : ''}`;
      const lowConns: Record<string, string> = { a: 'a_low', code: 'c_low' };
      if (TB > 0) lowConns.t = 't';
      lowConns.p = 'p_low';
      add('lane_dyn', 'lane', module, `dynamic lane: full multiply, or the ${low} low mode when low = 1`, {
        ports: [
          input(A, 'a'),
          input(W, 'w'),
          input(null, 'low'),
          ...(TB > 0 ? [input(TB, 't')] : []),
          output(P, 'p'),
        ],
        aBits: A,
        wBits: W,
        pBits: P,
        pZero: lit(P, 0),
        isolate: options.isolation !== false,
        aZero: lit(A, 0),
        wZero: lit(W, 0),
        full: inst(fullMod, 'u_full', { a: 'a_full', w: 'w_full', p: 'p_full' }),
        lowPath: hasLowPath
          ? {
              nBits: N,
              lpBits: LP,
              code: slice('w', 0, N),
              nZero: lit(N, 0),
              inst: inst(lowOf(LP, faulty && fault === 'low-lane-sign', TB > 0), 'u_low', lowConns),
              ext: extend('p_low', LP, P, true),
            }
          : null,
      });
      return module;
    });

  // ---- PE datapath: lanes, in block order of the tree's leaves ------------------------
  const layout = d.weightLayout;
  const field = (f: { offset: number; bits: number }) => slice('wgt', f.offset, f.bits);
  const actAt = (i: number) => slice('act', i * A, A);
  const shiftField = shift && !layerShift ? layout.meta.find((f) => f.name === shift.field.name)! : null;
  const shiftExpr = TB === 0 ? null : layerShift ? 'shift' : shiftField ? field(shiftField) : null;
  // pipeline.operands: every lane operand (routed activation, weight field, mask bit, block
  // shift) is registered once, on first use, and the lanes read the register.
  const pipeOps = cfg.pipeline.operands;
  const opRegs: { name: string; bits: number; src: string }[] = [];
  const opReg = (reg: string, bits: number, src: string) => {
    if (!pipeOps) return src;
    if (!opRegs.some((r) => r.name === reg)) opRegs.push({ name: reg, bits, src });
    return reg;
  };
  const laneField = (reg: string, f: { offset: number; bits: number }) => opReg(reg, f.bits, field(f));
  // The block's shift travels with its operands (the layer shift is constant).
  const opShift = () => (layerShift || shiftExpr === null ? shiftExpr : opReg('q_t', TB, shiftExpr));
  // `low`: a DLIQ low lane of a static PE, summed in its own tree before the shared shift.
  const lanes: { inst: Instance; bits: number; low?: true }[] = [];
  const used = { act: false, mask: false, shift: false };
  // Static DLIQ: every low lane of a block has the same shift t (the block's or the layer's),
  // so sum_j (a_j * q_j) << t = (sum_j a_j * q_j) << t: plain A x n lanes, one shifter.
  const sharedShift = !dynamic && TB > 0 && d.lowLanes > 0;
  let route: RoutePlan | null = null;
  let routeInst: Instance | null = null;
  // pe.maskScope 'group' / 'layer': the block arrives in lane order (routed at the array edge,
  // or permuted by the quantizer), so the lanes read fixed positions: no router in the PE.
  const scope = maskScopeOf(cfg).kind;
  let fixedLanes = false;
  let edgeRoute: RoutePlan | null = null;
  // routeDecode 'column': the array decodes each column's mask once into one-hot selects.
  let columnDecode = false;

  if (dynamic || !fmt.hasLow) {
    for (let i = 0; i < B; i++) {
      const faulty = i === 0 && fault !== undefined;
      const conns: Record<string, string> = {
        a: opReg(`q_a${i}`, A, actAt(i)),
        w: laneField(`q_w${i}`, layout.slots[i]!),
      };
      let module: string;
      if (dynamic) {
        module = dynLane(faulty);
        conns.low = opReg(`q_m${i}`, 1, `wgt[${layout.mask!.offset + i}]`);
        if (TB > 0) conns.t = opShift()!;
      } else {
        module = full(faulty);
      }
      conns.p = `p${i}`;
      lanes.push({ inst: inst(module, `u_lane${i}`, conns), bits: d.highProductBits });
    }
    used.act = true;
    used.mask = dynamic;
    used.shift = dynamic && TB > 0;
  } else {
    const L = B - H;
    const lowLanes = d.lowLanes;
    route = routePlan(B, H, lowLanes > 0, fault);
    if (route && scope !== 'pe') {
      fixedLanes = true;
      if (scope === 'group') edgeRoute = route;
      route = null;
    }
    if (route) {
      columnDecode = cfg.pe.routeDecode === 'column';
      const conns: Record<string, string> = columnDecode
        ? { sel: 'sel', act: 'act' }
        : { mask: field(layout.mask!), act: 'act' };
      if (H > 0) conns.hi_act = 'hi_act';
      if (lowLanes > 0) conns.lo_act = 'lo_act';
      routeInst = inst(`${name}_route`, 'u_route', conns);
      used.mask = !columnDecode;
    }
    const hiAct = (k: number) => opReg(`q_hi${k}`, A, route ? slice('hi_act', k * A, A) : actAt(k));
    const loAct = (j: number) =>
      opReg(`q_lo${j}`, A, route ? slice('lo_act', j * A, A) : actAt(fixedLanes ? H + j : j));
    for (let k = 0; k < H; k++) {
      const faulty = k === 0 && fault === 'high-lane-bit';
      lanes.push({
        inst: inst(full(faulty), `u_hi${k}`, {
          a: hiAct(k),
          w: laneField(`q_w${k}`, layout.high[k]!),
          p: `p${lanes.length}`,
        }),
        bits: d.highProductBits,
      });
    }
    const loBits = sharedShift ? plainLowProductBits(cfg) : d.lowProductBits;
    for (let j = 0; j < lowLanes; j++) {
      const faulty = j === 0 && fault === 'low-lane-sign';
      const conns = { a: loAct(j), code: laneField(`q_c${j}`, layout.low[j]!), p: `p${lanes.length}` };
      lanes.push({
        inst: inst(lowOf(loBits, faulty, false), `u_lo${j}`, conns),
        bits: loBits,
        ...(sharedShift ? { low: true as const } : {}),
      });
    }
    used.act = lanes.length > 0;
    used.shift = lowLanes > 0 && TB > 0;
    if (edgeRoute) {
      add(
        'route',
        'route',
        `${name}_route`,
        `static StruM router at the array edge (pe.maskScope 'group'), one per row and column group: ` +
          `B = ${B}, ${H} high lanes (k-th 0 of the mask)` +
          (lowLanes ? `, ${L} low lanes (j-th 1)` : ', low weights dropped') +
          `; ${edgeRoute.muxInputs} mux inputs`,
        { ...routeContext(edgeRoute, A, 'both'), faulty: fault === 'route-off-by-one' },
      );
    }
    if (route) {
      const lanesText =
        `B = ${B}, ${H} high lanes (k-th 0 of the mask)` +
        (lowLanes ? `, ${L} low lanes (j-th 1)` : `, low weights dropped`) +
        `; ${route.muxInputs} mux inputs`;
      if (columnDecode) {
        add(
          'route',
          'route',
          `${name}_route_decode`,
          `static StruM router selects, one decoder per array column: ${lanesText}`,
          routeContext(route, A, 'decode'),
        );
      }
      add(
        'route',
        'route',
        `${name}_route`,
        `static StruM router${columnDecode ? ' muxes (one-hot selects from the column decoder)' : ''}: ${lanesText}`,
        { ...routeContext(route, A, columnDecode ? 'mux' : 'both'), faulty: fault === 'route-off-by-one' },
      );
    }
  }

  // ---- adder trees, pipeline and accumulator ------------------------------------------
  // The low lanes' sum before the shift is exact in capLo bits (or wraps with the accumulator:
  // (x mod 2^c) << t is still x << t mod 2^c).
  const capLo = sharedShift
    ? Math.min(signedBitsFor(...laneSumRange(plainLowRange(cfg), d.lowLanes)), ACC)
    : cap;
  // Fixed-lane PEs (pe.maskScope 'group' / 'layer'): the narrower low products enter the
  // tree sign-extended to the high products' width, so the tree is the INT8 PE's tree (equal
  // leaves), not a mixed-width one that ABC maps to a slower structure (docs/CODESIGN.md).
  const equalLeaves = fixedLanes && !sharedShift;
  const leaves = lanes.map((l, i) => {
    const c = l.low ? capLo : cap;
    if (equalLeaves && l.bits < d.highProductBits) {
      const w = Math.min(d.highProductBits, c);
      return {
        wire: `p${i}`,
        bits: l.bits,
        leafBits: w,
        low: l.low === true,
        expr: extend(`p${i}`, l.bits, w, true),
        truncated: false,
      };
    }
    return {
      wire: `p${i}`,
      bits: l.bits,
      leafBits: Math.min(l.bits, c),
      low: l.low === true,
      // Bits above the accumulator width wrap away, so the tree takes only the low ones.
      expr: l.bits > c ? slice(`p${i}`, 0, c) : `p${i}`,
      truncated: l.bits > c,
    };
  });
  const pipeMul = cfg.pipeline.multiply;
  const pipeSum = cfg.pipeline.adderTree;
  const leafRegs = pipeMul ? leaves.map((l, i) => ({ name: `m${i}`, bits: l.leafBits, src: l.expr })) : [];
  // A per-block shift travels with its block's products (the layer shift is constant).
  if (sharedShift && pipeMul && !layerShift) leafRegs.push({ name: 'm_t', bits: TB, src: opShift()! });
  const leafIn = leaves.map((l, i) => ({ ...l, in: pipeMul ? `m${i}` : l.expr }));

  // One template and planner for every tree: the PE's tree, and the DLIQ low lanes' tree.
  const addTree = (module: string, what: string, ins: { bits: number; expr: string }[], c: number) => {
    const plan = treePlan(
      ins.map((x) => x.bits),
      c,
    );
    if (!plan.root) return null;
    add(
      'adder_tree',
      'adder_tree',
      module,
      `balanced adder tree${what}: ${ins.length} leaves, depth ${plan.depth}`,
      {
        ports: [...plan.leaves.map((l) => input(l.bits, l.name)), output(plan.root.bits, 'sum')],
        nodes: plan.nodes.map((n) => ({
          name: n.name,
          bits: n.bits,
          a: extend(n.a.name, n.a.bits, n.bits, true),
          b: extend(n.b.name, n.b.bits, n.bits, true),
        })),
        root: plan.root.name,
      },
    );
    return { plan, module, conns: Object.fromEntries(ins.map((x, i) => [`in${i}`, x.expr])) };
  };
  const lowTree = sharedShift
    ? addTree(
        `${name}_adder_tree_lo`,
        ` of the ${low} low lanes (before their shared shift)`,
        leafIn.filter((l) => l.low).map((l) => ({ bits: l.leafBits, expr: l.in })),
        capLo,
      )
    : null;
  let lowShift: { sumBits: number; bits: number; ext: string; t: string } | null = null;
  const mainIn = leafIn.filter((l) => !l.low).map((l) => ({ bits: l.leafBits, expr: l.in }));
  if (lowTree) {
    const sumLo = lowTree.plan.root!.bits;
    const bits = Math.min(sumLo + shift!.field.max, cap);
    const t = pipeMul && !layerShift ? 'm_t' : opShift()!;
    lowShift = { sumBits: sumLo, bits, ext: extend('lsum', sumLo, bits, true), t };
    mainIn.push({ bits, expr: 'lsum_sh' });
  }
  const tree = addTree(`${name}_adder_tree`, '', mainIn, cap);
  const sumBits = tree?.plan.root?.bits ?? 1;
  add(
    'accumulator',
    'accumulator',
    `${name}_accumulator`,
    `accumulator (${ACC} bits, wraps) and result register`,
    {
      ports: [
        input(null, 'clk'),
        input(null, 'rst'),
        input(null, 'en'),
        input(null, 'clear'),
        input(null, 'capture'),
        input(sumBits, 'sum'),
        output(ACC, 'result'),
      ],
      accBits: ACC,
      accZero: lit(ACC, 0),
      sumExt: extend('sum', sumBits, ACC, true),
    },
  );

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
  if (pipeOps) pePorts.push(input(null, 'r_en', opRegs.length ? null : noLanes));
  if (pipeMul) pePorts.push(input(null, 'p_en', lanes.length ? null : noLanes));
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
          ? 'sparse with fixed lanes: positions H..B-1 hold the activations of zero weights'
          : null,
    ),
    input(d.weightBlockBits, 'wgt', peUnusedWgt.length ? `unused here: ${peUnusedWgt.join('; ')}` : null),
  );
  if (columnDecode) pePorts.push(input(route!.muxInputs, 'sel'));
  if (layerShift) pePorts.push(input(TB, 'shift', used.shift ? null : 'no low lanes use the layer shift'));
  pePorts.push(output(ACC, 'result'));
  const peModule = `${name}_pe`;
  const kind = !fmt.hasLow
    ? `INT8 baseline, ${B} full lanes`
    : dynamic
      ? `dynamic StruM (${low}), ${B} switchable lanes`
      : `static StruM (${low}), ${H} full + ${d.lowLanes} low lanes`;
  add('pe', 'pe', peModule, `PE: ${kind}; acc = wrap((clear ? 0 : acc) + sum(a[i] * w[i]))`, {
    ports: pePorts,
    route: routeInst,
    hiActBits: route && H > 0 ? H * A : null,
    loActBits: route && d.lowLanes > 0 ? d.lowLanes * A : null,
    lanes: lanes.map((l) => l.inst),
    products: leaves.map((l) => ({
      wire: l.wire,
      bits: l.bits,
      unused: l.truncated ? `bits above ${cap} wrap away in the ${ACC}-bit accumulator` : null,
    })),
    opRegs,
    leafRegs,
    lowTree: lowTree ? inst(lowTree.module, 'u_tree_lo', { ...lowTree.conns, sum: 'lsum' }) : null,
    lowShift,
    tree: tree ? inst(tree.module, 'u_tree', { ...tree.conns, sum: 'tsum' }) : null,
    sumBits,
    sumZero: lit(1, 0),
    sumReg: pipeSum,
    acc: inst(`${name}_accumulator`, 'u_acc', {
      clk: 'clk',
      rst: 'rst',
      en: 'acc_en',
      clear: 'acc_clear',
      capture: 'acc_capture',
      sum: pipeSum ? 'tsum_q' : 'tsum',
      result: 'result',
    }),
  });

  // ---- the array -----------------------------------------------------------------------
  const R = int(cfg.array.rows, 'array.rows', 1);
  const C = int(cfg.array.cols, 'array.cols', 1);
  const rsel = d.interface.outRowBits;
  const lat = int(d.latency, 'latency', 1);
  // pe.maskScope 'group': the edge routers' outputs are registered (one stage before the PEs).
  const edgeStages = edgeStagesOf(cfg);
  if (lat !== 1 + edgeStages + Number(cfg.pipeline.operands) + Number(pipeMul) + Number(pipeSum))
    throw new Error('rtl: latency does not match the pipeline');
  const pEnStage = edgeStages + Number(cfg.pipeline.operands);
  const sEnStage = pEnStage + Number(pipeMul);
  const peConns: Record<string, string> = { clk: 'clk', rst: 'rst' };
  if (cfg.pipeline.operands) peConns.r_en = `v${edgeStages}`;
  if (pipeMul) peConns.p_en = `v${pEnStage}`;
  if (pipeSum) peConns.s_en = `v${sEnStage}`;
  Object.assign(peConns, {
    acc_en: `v${lat - 1}`,
    acc_clear: `c${lat - 1}`,
    acc_capture: `l${lat - 1}`,
    act: 'act_row[r]',
    wgt: 'wgt_col[c]',
  });
  if (columnDecode) peConns.sel = 'sel_col[c]';
  if (layerShiftPort) peConns.shift = layerShiftPort;
  peConns.result = 'col_res[r]';
  let edge: Record<string, unknown> | null = null;
  const scopeG = maskScopeOf(cfg);
  if (edgeRoute && scopeG.kind === 'group') {
    // One router per row and column group, reading the mask of the group's first column; its
    // output is the block in lane order {low lanes, high lanes}, registered with the weights.
    const G = scopeG.channels;
    const lowLanes = d.lowLanes > 0;
    const mask = layout.mask!;
    const conns: Record<string, string> = {
      mask: `wgt_col[g*${G}][${mask.offset + B - 1}:${mask.offset}]`,
      act: 'act_row[r]',
      hi_act: 'hi',
    };
    if (lowLanes) conns.lo_act = 'lo';
    edge = {
      groups: C / G,
      G,
      hiBits: H * A,
      loBits: lowLanes ? (B - H) * A : null,
      routedExpr: lowLanes ? '{lo, hi}' : `{${lit((B - H) * A, 0)}, hi}`,
      router: inst(`${name}_route`, 'u_route', conns),
    };
    peConns.act = `act_pe[r*${C / G} + c/${G}]`;
    peConns.wgt = 'wgt_pe[c]';
  }
  const top = `${name}_array`;
  // The port contract (derived.interface): control bits are scalars, the rest vectors.
  const scalar = new Set(['clock', 'reset', 'valid', 'clear', 'last', 'out_valid']);
  const arrayPorts = d.interface.ports.map((p) =>
    (p.dir === 'in' ? input : output)(scalar.has(p.role) ? null : int(p.bits, p.name, 1), p.name),
  );
  add(
    'array',
    'array',
    top,
    `${R} x ${C} output-stationary array, broadcast rows and columns, latency ${lat}`,
    {
      ports: arrayPorts,
      rows: R,
      cols: C,
      abb: d.activationBlockBits,
      wbb: d.weightBlockBits,
      accBits: ACC,
      accZero: lit(ACC, 0),
      rowSlots: 2 ** rsel,
      padRows: 2 ** rsel > R,
      stages: Array.from({ length: lat - 1 }, (_, i) => ({ k: i + 1, p: i })),
      last: lat - 1,
      pe: inst(peModule, 'u_pe', peConns),
      decode: columnDecode
        ? {
            selBits: route!.muxInputs,
            inst: inst(`${name}_route_decode`, 'u_dec', {
              mask: `in_wgt[c*${d.weightBlockBits}${layout.mask!.offset ? `+${layout.mask!.offset}` : ''} +: ${B}]`,
              sel: 'sel_col[c]',
            }),
          }
        : null,
      edge,
    },
  );

  return {
    top,
    pe: peModule,
    modules,
    route,
    tree: tree?.plan ?? treePlan([], cap),
    lowTree: lowTree?.plan ?? null,
  };
}

/**
 * The router's template values. 'both': mask in, selects decoded and muxes in one module
 * (routeDecode 'pe'); 'decode': mask in, one-hot selects out (one per column, at the array
 * edge); 'mux': selects in, the AND-OR muxes only (in each PE). Select n is the n-th
 * (lane, candidate) pair of the plan in order.
 */
function routeContext(plan: RoutePlan, A: number, part: 'both' | 'decode' | 'mux') {
  const CB = plan.countBits;
  const M = plan.muxInputs;
  const hasHigh = plan.lanes.some((l) => l.kind === 'high');
  const hasLow = plan.lanes.some((l) => l.kind === 'low');
  const ports: Port[] = [];
  if (part === 'mux') ports.push(input(M, 'sel'));
  else ports.push(input(plan.block, 'mask'));
  if (part === 'decode') ports.push(output(M, 'sel'));
  else {
    ports.push(input(plan.block * A, 'act'));
    if (hasHigh) ports.push(output(plan.high * A, 'hi_act'));
    if (hasLow) ports.push(output(plan.low * A, 'lo_act'));
  }
  let n = 0;
  const lanes = plan.lanes.map((lane) => ({
    target: slice(lane.kind === 'high' ? 'hi_act' : 'lo_act', lane.lane * A, A),
    candidates: lane.candidates.map((c) => {
      const sel = n++;
      // High lane k: ~mask[i] & zb_i == k; low lane j: mask[i] & zb_i == i - j.
      const expr = `${c.maskBit ? `mask[${c.pos}]` : `nz_${c.pos}`} & (zb_${c.pos} == ${lit(CB, c.zeros)})`;
      // 'both' keeps the select inline in its AND term: the same text, so the same netlist,
      // as before the column option existed (ABC's result moves a few % with the structure).
      const bit = part === 'both' ? expr : `sel[${sel}]`;
      return { n: sel, sel: expr, term: `(${replicate(bit, A)} & ${slice('act', c.read * A, A)})` };
    }),
  }));
  return {
    ports,
    decode: part !== 'mux',
    mux: part !== 'decode',
    sels: part === 'decode' ? lanes.flatMap((l) => l.candidates.map((c) => ({ n: c.n, expr: c.sel }))) : [],
    countBits: CB,
    // zb_i = zeros of the mask before position i.
    counts: Array.from({ length: plan.block }, (_, i) => ({
      i,
      expr: i === 0 ? lit(CB, 0) : `zb_${i - 1} + ${extend(`nz_${i - 1}`, 1, CB, false)}`,
    })),
    positions: Array.from({ length: plan.block }, (_, i) => i),
    lanes: lanes.map((l) => ({ target: l.target, terms: l.candidates.map((c) => c.term) })),
  };
}
