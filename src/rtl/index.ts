// The RTL stage: a resolved config in, synthesizable Verilog out. renderRtl is pure and
// in-process; writeRtl puts the files, a filelist, a manifest and PORTS.md on disk atomically.
export { applicableFaults, planRtl } from './context.ts';
export { renderRtl } from './render.ts';
export { type RoutePlan, routeEval, routePlan } from './route.ts';
export { type TreePlan, treeEval, treePlan } from './tree.ts';
export { FAULT_KINDS, type FaultKind, type RtlBundle, type RtlModule, type RtlOptions } from './types.ts';
export { portsMarkdown, RTL_OUTPUT, type RtlManifest, writeRtl } from './write.ts';
