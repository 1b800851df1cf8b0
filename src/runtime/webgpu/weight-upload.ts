import type { WeightPart, WeightUpload } from '../program.js';
import { roundUp16 } from './buffer-bytes.js';

/** A weight's value and shape, as the caller found it (or its error for a weight it lacks). */
export type WeightLookup = (name: string) => {
  readonly data: Float32Array;
  readonly shape: readonly number[];
};

/** A weight as the GPU plan wants it: transposed if asked, then a window of its columns. */
function weightPart(data: Float32Array, shape: readonly number[], part: WeightPart): Float32Array {
  if (shape.length === 1) return part.columns ? data.slice(part.columns[0], part.columns[1]) : data;
  let [rows, cols] = shape as [number, number];
  let matrix = data;
  if (part.transpose) {
    matrix = new Float32Array(data.length);
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++) matrix[c * rows + r] = data[r * cols + c]!;
    [rows, cols] = [cols, rows];
  }
  if (!part.columns) return matrix;
  const [start, end] = part.columns;
  const out = new Float32Array(rows * (end - start));
  for (let r = 0; r < rows; r++)
    out.set(matrix.subarray(r * cols + start, r * cols + end), r * (end - start));
  return out;
}

/**
 * The parts of an upload back to back, as its buffer holds them, zero-padded to the buffer's
 * 16-byte multiple. The forward runtime and the trainer both pack through this.
 */
export function packUpload(upload: WeightUpload, weight: WeightLookup): Float32Array {
  const parts = upload.parts.map((part) => {
    const { data, shape } = weight(part.weight);
    return weightPart(data, shape, part);
  });
  const length = parts.reduce((n, p) => n + p.length, 0);
  const packed = new Float32Array(roundUp16(length * 4) / 4);
  let offset = 0;
  for (const part of parts) {
    packed.set(part, offset);
    offset += part.length;
  }
  return packed;
}
