// What later stages (sim, synth, cli) import from the quantizer. The weight formats, the
// packer and the bit helpers live in src/format and are re-exported here for callers that
// imported them from the quantizer.

export * from '../format/index.ts';
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
export * from './golden.ts';
export { type Layer, type LoadOptions, layerMatrix, loadLayers, parseJsonTensors, parseNpy } from './load.ts';
export { outputErrorSums, sqnrDb, syntheticActivations, weightErrorSums } from './metrics.ts';
export {
  type ConfigQuantization,
  layerMetaOf,
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
