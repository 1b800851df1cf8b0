import { MAX_WORKGROUPS_PER_DIMENSION } from './constants.js';

/**
 * `count` workgroups laid out in x and y within the per-dimension limit, as the kernels' flat
 * group index (FLAT_GROUP in codegen/wgsl.ts) reads them back.
 */
export function dispatchFlat(pass: GPUComputePassEncoder, count: number): void {
  const x = Math.min(count, MAX_WORKGROUPS_PER_DIMENSION);
  pass.dispatchWorkgroups(x, Math.ceil(count / x));
}
