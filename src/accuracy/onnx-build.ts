// Small helpers to write ONNX models with onnx-proto: the trained CNN (scripts/), the
// integer-path graph (ConvInteger / MatMulInteger) and the tiny models the tests make.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
export type Onnx = typeof onnx;
export const DT = onnx.TensorProto.DataType;

export type TensorData = Float32Array | Float64Array | Int8Array | Int32Array | BigInt64Array;

const dtypeOf = (d: TensorData) =>
  d instanceof Float32Array
    ? DT.FLOAT
    : d instanceof Float64Array
      ? DT.DOUBLE
      : d instanceof Int8Array
        ? DT.INT8
        : d instanceof Int32Array
          ? DT.INT32
          : DT.INT64;

/** An initializer with raw little-endian data. */
export function tensor(name: string, dims: readonly number[], data: TensorData) {
  return onnx.TensorProto.create({
    name,
    dims: [...dims],
    dataType: dtypeOf(data),
    rawData: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)),
  });
}

type AttrValue = number | number[] | string;

export function node(
  op: string,
  inputs: readonly string[],
  outputs: readonly string[],
  attrs: Record<string, AttrValue> = {},
  name = outputs[0],
) {
  const attribute = Object.entries(attrs).map(([k, v]) => {
    if (Array.isArray(v))
      return onnx.AttributeProto.create({ name: k, type: onnx.AttributeProto.AttributeType.INTS, ints: v });
    if (typeof v === 'string')
      return onnx.AttributeProto.create({
        name: k,
        type: onnx.AttributeProto.AttributeType.STRING,
        s: new TextEncoder().encode(v),
      });
    return Number.isInteger(v)
      ? onnx.AttributeProto.create({ name: k, type: onnx.AttributeProto.AttributeType.INT, i: v })
      : onnx.AttributeProto.create({ name: k, type: onnx.AttributeProto.AttributeType.FLOAT, f: v });
  });
  return onnx.NodeProto.create({ opType: op, input: [...inputs], output: [...outputs], attribute, name });
}

/** A graph input/output; a string dimension is symbolic (the batch). */
export function valueInfo(name: string, elemType: number, dims: readonly (number | string)[]) {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  });
}

export interface ModelParts {
  readonly name: string;
  readonly nodes: ReturnType<typeof node>[];
  readonly initializers: ReturnType<typeof tensor>[];
  readonly inputs: ReturnType<typeof valueInfo>[];
  readonly outputs: ReturnType<typeof valueInfo>[];
  readonly docString?: string;
  readonly opset?: number;
}

/** Serialized model bytes. */
export function modelBytes(p: ModelParts): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 7,
    producerName: 'strumgen',
    docString: p.docString ?? '',
    opsetImport: [{ domain: '', version: p.opset ?? 13 }],
    graph: {
      name: p.name,
      node: p.nodes,
      initializer: p.initializers,
      input: p.inputs,
      output: p.outputs,
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
