// The routing plan of a static StruM PE: which block positions each lane may take its
// activation from, and the condition that selects it. The Verilog router
// (templates/lib/strum_router.v) builds the same muxes with generate loops; this plan is
// its model (routeEval, tests), its size (muxInputs: the column decoder's select width)
// and its cost in docs/ARCHITECTURE.md. This is the area the StruM saving
// has to pay for (design brief, section 3), so its size is computed here and documented
// in docs/ARCHITECTURE.md.
//
// With a mask m (1 = low) and zb(i) = number of zeros of m before position i:
//   high lane k takes position i  iff  m[i] = 0 and zb(i) = k        (the k-th zero)
//   low lane j  takes position i  iff  m[i] = 1 and i - zb(i) = j    (the j-th one)
// A block holds exactly L ones, so the k-th zero sits in k..k+L and the j-th one in
// j..j+H: high lane k has L + 1 candidates, low lane j has H + 1. Each lane is an
// AND-OR multiplexer over its candidates with one-hot selects; zb is one prefix count
// shared by all lanes.
import { bitsFor } from '../format/bits.ts';

export interface RouteCandidate {
  /** Block position whose mask bit and prefix count decide the select. */
  readonly pos: number;
  /** Required mask bit at pos: 0 for a high lane, 1 for a low lane. */
  readonly maskBit: 0 | 1;
  /** Required value of zb(pos). */
  readonly zeros: number;
}

export interface RouteLane {
  readonly kind: 'high' | 'low';
  readonly lane: number;
  readonly candidates: readonly RouteCandidate[];
}

export interface RoutePlan {
  readonly block: number;
  readonly high: number;
  readonly low: number;
  /** Width of the prefix counts zb(i), i in 0..B-1. */
  readonly countBits: number;
  readonly lanes: readonly RouteLane[];
  /** Mux data inputs (lane, candidate) pairs: H*(L+1) + L*(H+1), or H*(L+1) without low lanes. */
  readonly muxInputs: number;
}

/**
 * Plan the router of a static PE with B positions, H high lanes and (when lowLanes) L = B - H
 * low lanes. Returns null when no routing is needed (H = 0 or L = 0: lane i is position i).
 */
export function routePlan(block: number, high: number, lowLanes: boolean): RoutePlan | null {
  const L = block - high;
  if (high === 0 || L === 0) return null;
  const lanes: RouteLane[] = [];
  for (let k = 0; k < high; k++) {
    const candidates = Array.from({ length: L + 1 }, (_, d) => ({
      pos: k + d,
      maskBit: 0 as const,
      zeros: k,
    }));
    lanes.push({ kind: 'high', lane: k, candidates });
  }
  if (lowLanes) {
    for (let j = 0; j < L; j++) {
      const candidates = Array.from({ length: high + 1 }, (_, d) => ({
        pos: j + d,
        maskBit: 1 as const,
        zeros: d, // i - zb(i) = j  <=>  zb(i) = i - j = d
      }));
      lanes.push({ kind: 'low', lane: j, candidates });
    }
  }
  const muxInputs = lanes.reduce((n, l) => n + l.candidates.length, 0);
  return { block, high, low: L, countBits: Math.max(1, bitsFor(block - 1)), lanes, muxInputs };
}

/**
 * Evaluate a plan on one mask the way the generated hardware does (mask[i] true = low):
 * for each lane, the position it reads, or -1 when no candidate is selected.
 */
export function routeEval(plan: RoutePlan, mask: readonly boolean[]): number[] {
  const zb: number[] = [];
  let zeros = 0;
  for (let i = 0; i < plan.block; i++) {
    zb.push(zeros);
    if (!mask[i]) zeros++;
  }
  return plan.lanes.map((lane) => {
    const hits = lane.candidates.filter((c) => Number(mask[c.pos]) === c.maskBit && zb[c.pos] === c.zeros);
    return hits.length === 1 ? hits[0]!.pos : -1;
  });
}
