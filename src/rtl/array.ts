// The array planner: rows x cols PEs in generate loops (templates/array.v.hbs), the control
// pipeline, the result row mux, (routeDecode 'column') one router decoder per column, and
// (pe.maskScope 'group') one registered library router per row and column group at the edge.
// Its ports are the port contract, derived.interface.
import { edgeStagesOf, maskScopeOf } from '../config/mask-scope.ts';
import type { ResolvedDpu } from '../config/resolve.ts';
import { formatOf } from '../format/registry.ts';
import type { ModulePlan } from './context.ts';
import { bind, LIB, type LibraryModule } from './library.ts';
import { input, inst, output, type PePlan } from './pe.ts';
import { ident, int, lit } from './verilog.ts';

export function planArray(
  cfg: ResolvedDpu,
  header: string,
  pe: PePlan,
): { plan: ModulePlan; library: LibraryModule[] } {
  const name = ident(cfg.name);
  const d = cfg.derived;
  const B = int(cfg.pe.block, 'pe.block', 1);
  const R = int(cfg.array.rows, 'array.rows', 1);
  const C = int(cfg.array.cols, 'array.cols', 1);
  const ACC = int(cfg.accumulator.bits, 'accumulator.bits', 1);
  const rsel = d.interface.outRowBits;
  const lat = int(d.latency, 'latency', 1);
  const pipeMul = cfg.pipeline.multiply;
  const pipeSum = cfg.pipeline.adderTree;
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
  if (pe.columnDecode) peConns.sel = 'sel_col[c]';
  if (pe.layerShiftPort) peConns.shift = pe.layerShiftPort;
  peConns.result = 'col_res[r]';
  const module = `${name}_array`;
  // The port contract (derived.interface): control bits are scalars, the rest vectors.
  const scalar = new Set(['clock', 'reset', 'valid', 'clear', 'last', 'out_valid']);
  const ports = d.interface.ports.map((p) =>
    (p.dir === 'in' ? input : output)(scalar.has(p.role) ? null : int(p.bits, p.name, 1), p.name),
  );
  const library: LibraryModule[] = [];
  let decode: { selBits: number; inst: ReturnType<typeof inst> } | null = null;
  if (pe.columnDecode) {
    const mask = d.weightLayout.mask!;
    const wbb = d.weightBlockBits;
    library.push(LIB.routeDecode);
    decode = {
      selBits: pe.route!.muxInputs,
      inst: inst(
        LIB.routeDecode.module,
        'u_dec',
        { mask: `in_wgt[c*${wbb}${mask.offset ? `+${mask.offset}` : ''} +: ${B}]`, sel: 'sel_col[c]' },
        bind({ B, H: cfg.pe.high, LOW: d.lowLanes > 0 ? 1 : 0 }),
      ),
    };
  }
  let edge: Record<string, unknown> | null = null;
  const scope = maskScopeOf(cfg);
  if (pe.edgeRoute && scope.kind === 'group') {
    // One router per row and column group, reading the mask of the group's first column; its
    // output is the block in lane order {low lanes, high lanes} (what the fixed-lane PE
    // takes), registered with the weights.
    const G = scope.channels;
    const H = cfg.pe.high;
    const A = cfg.activation.bits;
    const low = d.lowLanes > 0;
    const mask = d.weightLayout.mask!;
    const conns: Record<string, string> = {
      mask: `wgt_col[g*${G}][${mask.offset + B - 1}:${mask.offset}]`,
      act: 'act_row[r]',
      hi_act: 'hi',
      lo_act: 'lo',
    };
    library.push(LIB.router);
    edge = {
      groups: C / G,
      G,
      hiBits: H * A,
      lo: {
        name: 'lo',
        bits: (low ? B - H : 1) * A,
        unused: low ? null : `${formatOf(cfg).name}: the router has no low lanes (zeros)`,
      },
      routedExpr: low ? '{lo, hi}' : `{${lit((B - H) * A, 0)}, hi}`,
      router: inst(LIB.router.module, 'u_route', conns, bind({ B, H, A, LOW: low ? 1 : 0 })),
    };
    peConns.act = `act_pe[r*${C / G} + c/${G}]`;
    peConns.wgt = 'wgt_pe[c]';
  }
  const plan: ModulePlan = {
    template: 'array',
    role: 'array',
    module,
    ctx: {
      module,
      header,
      summary: `${R} x ${C} output-stationary array, broadcast rows and columns, latency ${lat}`,
      params: [],
      ports,
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
      pe: inst(pe.plan.module, 'u_pe', peConns),
      decode,
      edge,
    },
  };
  return { plan, library };
}
