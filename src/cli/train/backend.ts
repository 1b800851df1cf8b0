import type { TrainingBackend, TrainingSetup } from '../../runtime/training/backend.js';
import { createCpuTrainer } from '../../runtime/training/cpu-backend.js';
import { acquireGpu } from '../../runtime/webgpu/acquire.js';
import type { TrainBackendChoice } from './options.js';

async function hasWebGpuAdapter(): Promise<boolean> {
  try {
    return (await (await acquireGpu()).requestAdapter()) !== null;
  } catch {
    return false;
  }
}

/**
 * The backend of --backend: cpu, webgpu, or auto (WebGPU where an adapter exists, else the CPU
 * reference, with a notice). The WebGPU trainer's module is loaded only when it is chosen.
 */
export async function createTrainer(
  setup: TrainingSetup,
  choice: TrainBackendChoice,
  onNotice: (notice: string) => void,
): Promise<TrainingBackend> {
  if (choice === 'cpu') return createCpuTrainer(setup);
  if (choice === 'auto' && !(await hasWebGpuAdapter())) {
    onNotice('no WebGPU adapter: training on the CPU reference');
    return createCpuTrainer(setup);
  }
  const { createWebGpuTrainer } = await import('../../runtime/webgpu/training/index.js');
  return createWebGpuTrainer(setup);
}
