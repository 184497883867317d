// The balanced adder tree of a PE, planned here and printed by templates/adder_tree.v.hbs.
// Leaves are the lane products (any mix of widths); each level adds neighbours pairwise
// and passes an odd one up. A node is one bit wider than its wider child, capped at
// `cap` (min of the exact block-sum width and the accumulator width): a sub-sum never
// needs more bits than the whole exact sum, and bits above the accumulator wrap away.
import { toSigned } from '../format/bits.ts';
import { int } from './verilog.ts';

export interface TreeOperand {
  readonly name: string;
  readonly bits: number;
}

export interface TreeNode {
  readonly name: string;
  readonly bits: number;
  readonly level: number;
  readonly a: TreeOperand;
  readonly b: TreeOperand;
}

export interface TreePlan {
  readonly leaves: readonly TreeOperand[];
  readonly nodes: readonly TreeNode[];
  /** The sum (a leaf when there is one leaf); null for a PE without lanes. */
  readonly root: TreeOperand | null;
  readonly depth: number;
}

export function treePlan(leafBits: readonly number[], cap: number): TreePlan {
  int(cap, 'adder tree cap', 1);
  const leaves = leafBits.map((bits, i) => {
    if (int(bits, 'leaf width', 1) > cap)
      throw new Error(`rtl: leaf ${i} is wider (${bits}) than the cap ${cap}`);
    return { name: `in${i}`, bits };
  });
  const nodes: TreeNode[] = [];
  let level: TreeOperand[] = leaves;
  let depth = 0;
  while (level.length > 1) {
    depth++;
    const next: TreeOperand[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const a = level[i]!;
      const b = level[i + 1];
      if (!b) {
        next.push(a);
        continue;
      }
      const node = {
        name: `s${depth}_${i / 2}`,
        bits: Math.min(cap, Math.max(a.bits, b.bits) + 1),
        level: depth,
        a,
        b,
      };
      nodes.push(node);
      next.push(node);
    }
    level = next;
  }
  return { leaves, nodes, root: level[0] ?? null, depth };
}

/** Evaluate the plan on integer leaves exactly as the hardware does (two's complement wrap per node). */
export function treeEval(plan: TreePlan, values: readonly number[]): number {
  const wrap = toSigned;
  const env = new Map<string, number>();
  plan.leaves.forEach((l, i) => {
    env.set(l.name, wrap(values[i]!, l.bits));
  });
  for (const n of plan.nodes) env.set(n.name, wrap(env.get(n.a.name)! + env.get(n.b.name)!, n.bits));
  return plan.root ? env.get(plan.root.name)! : 0;
}
