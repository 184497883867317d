// One inference of a task's network on a config's array, counted: every conv / fully connected
// layer as the matrix product the integer path runs (im2col rows x N outputs x K), tiled and
// streamed as simulateMatmul streams it (src/sim/schedule.ts). With pe.maskScope 'layer' the
// layers whose input channels cannot be permuted run INT8 on the H high lanes only
// (quantizeForConfig): ceil(K / H) blocks instead of ceil(K / B).
import { maskScopeOf } from '../config/mask-scope.ts';
import type { ResolvedDpu } from '../config/resolve.ts';
import { highLaneColumns } from '../quant/scope.ts';
import { matmulCycles } from '../sim/schedule.ts';
import { baselineConfig } from '../synth/baseline.ts';
import { integerGraph } from './integer.ts';
import { type LoadedModel, layerScopeRoles, loadModel } from './model.ts';
import { FASHION_MNIST_MODEL } from './tasks/fashion-mnist.ts';

export interface InferenceLayer {
  readonly name: string;
  /** Output positions (im2col rows), output channels, reduction length, its padded length. */
  readonly rows: number;
  readonly N: number;
  readonly K: number;
  readonly Kp: number;
  readonly cycles: number;
}

export interface InferenceCost {
  /** Array cycles of one inference (the layers one after another). */
  readonly cycles: number;
  /** Multiply-accumulates the network needs (rows x N x K over the layers). */
  readonly macs: number;
  /** PE-cycles: cycles x the array's PEs (what the array's energy scales with). */
  readonly peCycles: number;
  readonly layers: readonly InferenceLayer[];
}

/** Cycles of one inference of `model` (a chain the integer path reads) on cfg's array. */
export function inferenceCost(model: LoadedModel, cfg: ResolvedDpu): InferenceCost {
  const net = integerGraph(model);
  const B = cfg.pe.block;
  const roles = layerScopeRoles(model, cfg);
  const onHighLanes = (name: string) =>
    maskScopeOf(cfg).kind === 'layer' && cfg.pe.high < B && roles?.get(name)?.kind === 'fixed';
  const layers = net.layers.map((l) => {
    const rows = l.outH * l.outW;
    const Kp = onHighLanes(l.name) ? highLaneColumns(l.K, B, cfg.pe.high).Kx : Math.ceil(l.K / B) * B;
    return { name: l.name, rows, N: l.N, K: l.K, Kp, cycles: matmulCycles(cfg, rows, l.N, Kp) };
  });
  const cycles = layers.reduce((t, l) => t + l.cycles, 0);
  return {
    cycles,
    macs: layers.reduce((t, l) => t + l.rows * l.N * l.K, 0),
    peCycles: cycles * cfg.array.rows * cfg.array.cols,
    layers,
  };
}

/**
 * Energy of one inference in µJ from a PE's measured power at its simulated clock: every PE
 * of the array for every cycle of the schedule at that power (P / f per PE-cycle). The
 * array's edge, control and memories are not in it.
 */
export const inferenceEnergyUj = (cost: InferenceCost, powerMw: number, clockMhz: number): number =>
  // mW / MHz = nJ per cycle.
  (cost.peCycles * (powerMw / clockMhz)) / 1000;

/** Energy of one Fashion-MNIST CNN inference on a design's array (and on its INT8 baseline). */
export interface DesignEnergy {
  readonly model: string;
  readonly cycles: number;
  readonly nj: number;
  readonly baseline?: { readonly cycles: number; readonly nj: number };
}

/**
 * `strumgen flow`'s energy per inference: the Fashion-MNIST CNN's schedule on the design's
 * array (skipped blocks included: src/sim/schedule.ts) at the PE's measured power, and the
 * same for the INT8 baseline's array at its power when given.
 */
export async function designEnergy(
  cfg: ResolvedDpu,
  powerW: number,
  clockMhz: number,
  baselineW?: number,
): Promise<DesignEnergy> {
  const model = await loadModel(FASHION_MNIST_MODEL);
  const cost = inferenceCost(model, cfg);
  const nj = (c: InferenceCost, w: number) => 1000 * inferenceEnergyUj(c, 1000 * w, clockMhz);
  const base = baselineW === undefined ? null : inferenceCost(model, baselineConfig(cfg));
  return {
    model: 'Fashion-MNIST CNN',
    cycles: cost.cycles,
    nj: nj(cost, powerW),
    ...(base && baselineW !== undefined
      ? { baseline: { cycles: base.cycles, nj: nj(base, baselineW) } }
      : {}),
  };
}
