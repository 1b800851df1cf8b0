import type { WeightPart, WeightUpload } from '../../program.js';

/** A weight as a plan's upload holds it: transposed if asked, then a window of its columns. */
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

/** The parts of an upload back to back, as the forward runtime packs them. */
export function packUpload(
  upload: WeightUpload,
  weights: ReadonlyMap<string, Float32Array>,
  shapes: ReadonlyMap<string, readonly number[]>,
): Float32Array {
  const parts = upload.parts.map((part) => {
    const data = weights.get(part.weight);
    const shape = shapes.get(part.weight);
    if (!data || !shape) throw new Error(`no value for weight '${part.weight}'`);
    return weightPart(data, shape, part);
  });
  const packed = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    packed.set(part, offset);
    offset += part.length;
  }
  return packed;
}
