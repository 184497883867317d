// What later stages (sim, synth, cli) import from the quantizer and the weight formats.

export {
  evaluateLayer,
  type LayerMetrics,
  type LayerResult,
  makeScheme,
  type OverallMetrics,
  packMatrix,
  QUANT_FORMATS,
  type QuantFormat,
  type Scheme,
  summarize,
} from './evaluate.ts';
export * from './formats.ts';
export * from './golden.ts';
export { type Layer, type LoadOptions, layerMatrix, loadLayers, parseJsonTensors, parseNpy } from './load.ts';
export { outputErrorSums, sqnrDb, syntheticActivations, weightErrorSums } from './metrics.ts';
export * from './pack.ts';
export {
  type ConfigQuantization,
  paddedLength,
  type QuantizedMatrix,
  type QuantizeOptions,
  quantizeForConfig,
  quantizeMatrix,
  quantizeUniform,
  roundHalfEven,
  SELECT_POLICIES,
  type SelectPolicy,
  weightBlockOf,
} from './quantize.ts';
