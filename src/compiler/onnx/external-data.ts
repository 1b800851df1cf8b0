import onnxProto from 'onnx-proto';
import type { ModelProto } from './proto.js';

const { onnx } = onnxProto;

/** A model whose large initializers live outside its protobuf, as ONNX's external data. */
export interface OnnxModelFiles {
  readonly model: Uint8Array;
  /** Each initializer's bytes under the `location` its TensorProto names, read from offset 0. */
  readonly externalData: readonly { readonly path: string; readonly data: Uint8Array }[];
}

/** Smaller initializers (constants, biases of tiny models) stay inside the protobuf. */
const EXTERNAL_MIN_BYTES = 4096;

/**
 * Moves every initializer of at least EXTERNAL_MIN_BYTES out of `model` (which it changes) into
 * a file of its own, `w<k>`, that is a view of the weight's own bytes: no copy of the weights is
 * made, and ONNX Runtime copies each once, straight into the tensor it creates. Returns the files.
 */
export function moveToExternalData(model: ModelProto): OnnxModelFiles['externalData'] {
  const externalData: { path: string; data: Uint8Array }[] = [];
  for (const tensor of model.graph?.initializer ?? []) {
    const data = tensor.rawData;
    if (!data || data.byteLength < EXTERNAL_MIN_BYTES) continue;
    const path = `w${externalData.length}`;
    externalData.push({ path, data });
    tensor.rawData = null;
    tensor.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    tensor.externalData = [
      { key: 'location', value: path },
      { key: 'offset', value: '0' },
      { key: 'length', value: String(data.byteLength) },
    ];
  }
  return externalData;
}
