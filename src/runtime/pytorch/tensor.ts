/**
 * Gathers a tensor's elements from its storage, for any strides (torch.save keeps a view's
 * strides and whole storage), and converts them as loadSafetensors does: F32, F16 and BF16 to
 * Float32Array, I64 narrowed to Int32Array with a range check, I32 to Int32Array, U8 as bytes.
 */

import { halfToFloat, type Tensor } from '../safetensors.js';
import { PytorchCheckpointError } from './error.js';
import type { StorageType } from './storage.js';
import type { TensorView } from './rebuild.js';

export function materialize(view: TensorView, name: string, file: string): Tensor {
  const fail = (message: string) => new PytorchCheckpointError(file, message, name);
  const type = view.storage.type;
  if (typeof type === 'string') throw fail(type);
  const count = view.shape.reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(count))
    throw fail(`shape [${view.shape.join(', ')}] has too many elements`);
  if (count > 0) {
    const last = view.shape.reduce(
      (sum, size, i) => sum + (size - 1) * view.stride[i]!,
      view.offset,
    );
    if (last >= view.storage.numel)
      throw fail(
        `storage offset ${view.offset}, shape [${view.shape.join(', ')}] and stride [${view.stride.join(', ')}] reach element ${last}, past the ${view.storage.numel} elements of storage '${view.storage.key}'`,
      );
  }
  const bytes = gather(view, type, count);
  return { dtype: type.dtype, shape: [...view.shape], data: decode(bytes, type, name, file) };
}

/** The elements in row-major order, as contiguous little-endian bytes. */
function gather(view: TensorView, type: StorageType, count: number): Uint8Array {
  const size = type.itemSize;
  const source = view.storage.bytes;
  if (isRowMajor(view.shape, view.stride)) {
    const start = view.offset * size;
    return source.slice(start, start + count * size);
  }
  const out = new Uint8Array(count * size);
  const index = new Array<number>(view.shape.length).fill(0);
  let element = view.offset;
  for (let i = 0; i < count; i++) {
    out.set(source.subarray(element * size, (element + 1) * size), i * size);
    for (let axis = view.shape.length - 1; axis >= 0; axis--) {
      element += view.stride[axis]!;
      if (++index[axis]! < view.shape[axis]!) break;
      element -= view.stride[axis]! * view.shape[axis]!;
      index[axis] = 0;
    }
  }
  return out;
}

/** Row-major strides, ignoring those of dimensions of size 1 (which torch leaves arbitrary). */
function isRowMajor(shape: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    if (shape[axis] !== 1 && stride[axis] !== expected) return false;
    expected *= shape[axis]!;
  }
  return true;
}

function decode(
  bytes: Uint8Array,
  type: StorageType,
  name: string,
  file: string,
): Float32Array | Int32Array | Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = bytes.byteLength / type.itemSize;
  switch (type.dtype) {
    case 'F32':
      return Float32Array.from({ length: count }, (_, i) => view.getFloat32(4 * i, true));
    case 'F16':
      return Float32Array.from({ length: count }, (_, i) =>
        halfToFloat(view.getUint16(2 * i, true)),
      );
    case 'BF16': {
      // bfloat16 is the top half of a float32, so shifting the bits up is exact.
      const words = Uint32Array.from(
        { length: count },
        (_, i) => view.getUint16(2 * i, true) << 16,
      );
      return new Float32Array(words.buffer);
    }
    case 'I32':
      return Int32Array.from({ length: count }, (_, i) => view.getInt32(4 * i, true));
    case 'I64':
      return Int32Array.from({ length: count }, (_, i) => {
        const value = view.getBigInt64(8 * i, true);
        if (value > 0x7fffffffn || value < -0x80000000n)
          throw new PytorchCheckpointError(
            file,
            `I64 value ${value} at index ${i} does not fit in int32`,
            name,
          );
        return Number(value);
      });
    case 'U8':
      return bytes;
    default:
      throw new PytorchCheckpointError(file, `storage dtype ${type.dtype} is not read`, name);
  }
}
