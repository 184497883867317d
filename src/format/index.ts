// The number-format stage: below config, quant, rtl and sim. One module per low-precision
// format (int8.ts, mip2q.ts, dliq.ts, sparse.ts) implements spec.ts's LowFormatSpec;
// registry.ts lists them; layout.ts and pack.ts define the packed words every stage reads.
export * from './bits.ts';
export { type DliqParams, dliqDecode, dliqEncode, dliqFormat, dliqRange } from './dliq.ts';
export { intDecode, intEncode, intFormat } from './int.ts';
export { int8Format } from './int8.ts';
export * from './layout.ts';
export * from './levels.ts';
export { MIP2Q_ZERO, type Mip2qParams, mip2qDecode, mip2qEncode, mip2qFields, mip2qFormat } from './mip2q.ts';
export * from './pack.ts';
export {
  BUILTIN_FORMATS,
  formatOf,
  formatParams,
  lowFormatNames,
  lowFormatSpec,
  parameterisedFormats,
  registerLowFormat,
} from './registry.ts';
export { sparseFormat } from './sparse.ts';
export * from './spec.ts';
export * from './structure.ts';
export * from './values.ts';
