import type { KernelSpec, WeightPart } from '../../../runtime/program.js';
import { bindings } from '../wgsl.js';
import { perElementEntry } from './common.js';

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

${perElementEntry(`${elements}u`)}
  let r = i / WIDTH;
  let c = START + i % WIDTH;
  out[${offset}u + i] = param[${source}];
}
`,
    storageBindings: 2,
    elements,
  };
}
