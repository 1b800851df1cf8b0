import { FUSED_KERNELS } from './fused-kernels.js';
import { PRIMITIVE_KERNELS, type CpuKernel } from './kernels.js';

/** Every op the CPU reference runs: the primitive ops and the fused ops the passes produce. */
export const CPU_KERNELS: Readonly<Record<string, CpuKernel>> = {
  ...PRIMITIVE_KERNELS,
  ...FUSED_KERNELS,
};
