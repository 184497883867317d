// The RTL stage's public types (the interface the simulation and synthesis stages build on).
import { STRUCTURE_FAULT_KINDS, type StructureFaultKind } from '../format/structure.ts';

/**
 * Test-only deliberate bugs, so the co-simulation can prove it catches a wrong design: the
 * lanes' and router's, then the PE structures' (src/format/structure.ts, e.g. SDP's).
 */
export type FaultKind =
  | 'low-lane-sign'
  | 'route-off-by-one'
  | 'high-lane-bit'
  | 'low-lane-internal'
  | StructureFaultKind;

export const FAULT_KINDS: readonly FaultKind[] = [
  'low-lane-sign',
  'route-off-by-one',
  'high-lane-bit',
  'low-lane-internal',
  ...STRUCTURE_FAULT_KINDS,
];

/** Test-only; never reachable from config files or the CLI. */
export interface RtlOptions {
  fault?: FaultKind;
  /**
   * Bench only: false builds dynamic lanes without operand isolation (both paths see the
   * operands, a mux picks the product), to measure what isolation saves (docs/POWER.md).
   */
  isolation?: boolean;
}

export interface RtlModule {
  name: string;
  /** Synthesis reports area per role. */
  role: 'array' | 'pe' | 'lane' | 'route' | 'adder_tree' | 'accumulator' | 'other';
}

export interface RtlBundle {
  /** `${cfg.name}_array` */
  top: string;
  /** `${cfg.name}_pe` */
  pe: string;
  /** Every module generated, with its role. */
  modules: RtlModule[];
  /** Verilog files in dependency order (leaves first), one module per file, named `<module>.v`. */
  files: { name: string; content: string }[];
}
