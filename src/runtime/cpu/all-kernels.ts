import type { NodeOf } from '../ops/node.js';
import type { ComputeOp } from '../ops/registry.js';
import { FUSED_KERNELS } from './fused-kernels.js';
import { PRIMITIVE_KERNELS, type CpuKernel, type CpuTensor } from './kernels.js';
import { SLOT_KERNELS } from './slot-kernels.js';

/** Every op the CPU reference runs: the primitive ops, the fused ops the passes produce, the slot ops. */
export const CPU_KERNELS: { readonly [O in ComputeOp]: CpuKernel<O> } = {
  ...PRIMITIVE_KERNELS,
  ...FUSED_KERNELS,
  ...SLOT_KERNELS,
};

/** Runs the kernel of `node`'s op on its input values. */
export function runCpuKernel<O extends ComputeOp>(
  node: NodeOf<O>,
  inputs: readonly CpuTensor[],
  outShape: readonly number[],
): Float32Array | Int32Array {
  const kernel: CpuKernel<O> = CPU_KERNELS[node.op];
  return kernel(inputs, node.attrs, outShape);
}
