/** A value of the f64 reference: f32 values widened to f64, i32 values (masks, ids) as they are. */
export interface Value64 {
  readonly data: Float64Array | Int32Array;
  readonly shape: readonly number[];
}

export const lastDim = (t: Value64): number => t.shape[t.shape.length - 1]!;
export const rowCount = (t: Value64): number => t.data.length / lastDim(t);

/**
 * For b broadcast onto a from the right (b's dims equal a's or are 1): the index into b of each
 * element of a, as the CPU kernels' `broadcast` computes it.
 */
export function broadcastIndex(aShape: readonly number[], bShape: readonly number[]): Int32Array {
  const count = aShape.reduce((n, d) => n * d, 1);
  const index = new Int32Array(count);
  const rank = aShape.length;
  const padded = [...new Array<number>(rank - bShape.length).fill(1), ...bShape];
  const bCount = padded.reduce((n, d) => n * d, 1);
  if (bCount === count) {
    for (let i = 0; i < count; i++) index[i] = i;
    return index;
  }
  const strides = new Array<number>(rank);
  let stride = 1;
  for (let axis = rank - 1; axis >= 0; axis--) {
    strides[axis] = padded[axis] === 1 ? 0 : stride;
    stride *= padded[axis]!;
  }
  for (let i = 0; i < count; i++) {
    let rest = i;
    let j = 0;
    for (let axis = rank - 1; axis >= 0; axis--) {
      const dim = aShape[axis]!;
      j += (rest % dim) * strides[axis]!;
      rest = Math.floor(rest / dim);
    }
    index[i] = j;
  }
  return index;
}
