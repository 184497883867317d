// Library entry: `import { defineDpu, resolveConfig } from 'strumgen'`.
export { UserError } from './config/errors.ts';
export { applyOverrides, loadConfig, loadDescription } from './config/load.ts';
export { DEFAULT_PRESET, PRESETS } from './config/presets.ts';
export {
  ConfigError,
  type ConfigIssue,
  configOf,
  type DerivedValues,
  defineDpu,
  type ResolvedDpu,
  resolveConfig,
} from './config/resolve.ts';
export { type DpuInput, dpuSchema, type LowFormat, type PeMode } from './config/schema.ts';
export {
  type BoundFormat,
  formatOf,
  type LowFormatSpec,
  lowFormatNames,
  type MetaField,
  registerLowFormat,
} from './format/index.ts';
export { type BitField, type WeightBlockLayout, weightBlockLayout } from './format/layout.ts';
export {
  decodeWeightBlock,
  evaluateLayer,
  GoldenArray,
  layerMatrix,
  loadLayers,
  makeScheme,
  packWeightBlock,
  quantizeForConfig,
  quantizeMatrix,
  summarize,
  tileResults,
  unpackWeightBlock,
  type WeightBlock,
} from './quant/index.ts';
export { renderSynthMarkdown, writeSynthReport } from './report/synth.ts';
export { type RtlBundle, type RtlManifest, type RtlModule, renderRtl, writeRtl } from './rtl/index.ts';
export {
  buildModel,
  type MismatchReport,
  runSim,
  type SimOptions,
  type SimResult,
  writeStimulus,
} from './sim/index.ts';
export { defineSweep, expandSpec, loadSpec, parseSpec, type SweepSpecInput } from './sweep/spec.ts';
export { baselineConfig, runSynth, type SynthOptions, type SynthReport, ToolError } from './synth/index.ts';
