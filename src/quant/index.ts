// What later stages (sim, synth, cli) import from the quantizer and the weight formats.
export * from './formats.ts';
export * from './golden.ts';
export { type Layer, type LoadOptions, layerMatrix, loadLayers, parseJsonTensors, parseNpy } from './load.ts';
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
