/** ‖out − ref‖ / ‖ref‖: how GPU results are held against the CPU reference (docs/design.md §4). */
export function relativeError(out: ArrayLike<number>, ref: ArrayLike<number>): number {
  if (out.length !== ref.length)
    throw new Error(`cannot compare ${out.length} values with ${ref.length}`);
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < ref.length; i++) {
    diff += (out[i]! - ref[i]!) ** 2;
    norm += ref[i]! ** 2;
  }
  return norm === 0 ? Math.sqrt(diff) : Math.sqrt(diff / norm);
}

/** The tolerance of docs/design.md §4 for f32 GPU results against the f64-accumulating reference. */
export const GPU_TOLERANCE = 1e-4;
