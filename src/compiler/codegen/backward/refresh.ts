import type { KernelSpec, WeightPart } from '../../../runtime/program.js';
import { bindings, ENTRY_BUILTINS, FLAT_GROUP } from '../wgsl.js';

const SIZE = 256;

/** The elements a part of a weight of `shape` takes in its upload. */
export function partElements(shape: readonly number[], part: WeightPart): number {
  const [rows, cols] = shape.length === 1 ? [1, shape[0]!] : (shape as [number, number]);
  const [outRows, width] = part.transpose && shape.length === 2 ? [cols, rows] : [rows, cols];
  return outRows * (part.columns ? part.columns[1] - part.columns[0] : width);
}

/**
 * Copies a trained weight, as AdamW left it, into the upload the forward kernels read: at
 * `offset`, transposed if the part says so, then a window of its columns (what the runtime
 * does to a weight once at upload).
 */
export function refreshKernel(
  shape: readonly number[],
  part: WeightPart,
  offset: number,
): KernelSpec & { readonly elements: number } {
  const [rows, cols] = shape.length === 1 ? [1, shape[0]!] : (shape as [number, number]);
  const transpose = part.transpose && shape.length === 2;
  const width = transpose ? rows : cols;
  const [start, end] = part.columns ?? [0, width];
  const elements = partElements(shape, part);
  const source = transpose ? 'c * COLS + r' : 'r * COLS + c';
  return {
    name: `refresh_${rows}x${cols}${transpose ? '_t' : ''}_${start}-${end}_at${offset}`,
    wgsl: `${bindings(['param', 'out'])}
const COLS = ${cols}u;
const START = ${start}u;
const WIDTH = ${end - start}u;

@compute @workgroup_size(${SIZE})
fn main(${ENTRY_BUILTINS}) {
  ${FLAT_GROUP}
  let i = group * ${SIZE}u + lid;
  if (i >= ${elements}u) { return; }
  let r = i / WIDTH;
  let c = START + i % WIDTH;
  out[${offset}u + i] = param[${source}];
}
`,
    storageBindings: 2,
    elements,
  };
}
