import onnxProto from 'onnx-proto';
import type { onnx as schema } from 'onnx-proto';

/**
 * The ONNX protobuf messages, from the `onnx-proto` package (static protobufjs code generated from
 * ONNX 1.10.2's onnx.proto), and small constructors for the pieces an export builds.
 */

const { onnx } = onnxProto;

/** The default-domain operator set the export targets (LayerNormalization is new in 17). */
export const OPSET = 17;
/** IR version 8: the one opset 17 needs, and the newest that onnx-proto 8's schema describes. */
export const IR_VERSION = 8;

export type ModelProto = schema.IModelProto;
export type GraphProto = schema.IGraphProto;
export type NodeProto = schema.INodeProto;
export type TensorProto = schema.ITensorProto;
export type ValueInfoProto = schema.IValueInfoProto;
export type AttributeProto = schema.IAttributeProto;

/** Element types the export uses. */
export type ElemType = 'f32' | 'i32' | 'i64' | 'bool';

const DATA_TYPES: Readonly<Record<ElemType, number>> = {
  f32: onnx.TensorProto.DataType.FLOAT,
  i32: onnx.TensorProto.DataType.INT32,
  i64: onnx.TensorProto.DataType.INT64,
  bool: onnx.TensorProto.DataType.BOOL,
};

export function dataType(type: ElemType): number {
  return DATA_TYPES[type];
}

/** An attribute value, tagged with the protobuf field it goes in. */
export type OnnxAttr =
  { readonly int: number } | { readonly float: number } | { readonly ints: readonly number[] };

export const int = (value: number): OnnxAttr => ({ int: value });
export const float = (value: number): OnnxAttr => ({ float: value });
export const ints = (values: readonly number[]): OnnxAttr => ({ ints: values });

export function attribute(name: string, value: OnnxAttr): AttributeProto {
  const { AttributeType } = onnx.AttributeProto;
  if ('int' in value) return { name, type: AttributeType.INT, i: value.int };
  if ('float' in value) return { name, type: AttributeType.FLOAT, f: value.float };
  return { name, type: AttributeType.INTS, ints: [...value.ints] };
}

/** A tensor stored as little-endian raw bytes (every platform Node runs on is little-endian). */
export function tensorProto(
  name: string,
  type: ElemType,
  dims: readonly number[],
  data: Float32Array | Int32Array | BigInt64Array | Uint8Array,
): TensorProto {
  return {
    name,
    dataType: dataType(type),
    dims: [...dims],
    rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}

/** A graph input or output: a tensor type whose dims are sizes or symbols such as 'B' and 'T'. */
export function valueInfo(
  name: string,
  type: ElemType,
  dims: readonly (number | string)[],
  docString?: string,
): ValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: dataType(type),
        shape: {
          dim: dims.map((dim) => (typeof dim === 'number' ? { dimValue: dim } : { dimParam: dim })),
        },
      },
    },
    ...(docString !== undefined ? { docString } : {}),
  };
}

/** Serializes a model; protobufjs verifies nothing, so the builders above must be right. */
export function encodeModel(model: ModelProto): Uint8Array {
  return onnx.ModelProto.encode(onnx.ModelProto.fromObject(model)).finish();
}

/** Parses a model back (for tests and tools). */
export function decodeModel(bytes: Uint8Array): schema.ModelProto {
  return onnx.ModelProto.decode(bytes);
}
