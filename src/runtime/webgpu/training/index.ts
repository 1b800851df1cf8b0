import type { TrainingPlan } from '../../../compiler/training/index.js';
import { BackwardError } from '../../cpu/backward/differentiable-ops.js';
import type { Target } from '../../program.js';
import type { TrainingSetup } from '../../training/backend.js';
import { activeDropout } from '../../training/dropout/sites.js';
import { GpuDevice } from '../device.js';
import { WebGpuTrainer } from './trainer.js';

export interface WebGpuTrainerOptions {
  /** The device to train on; absent: the runtime acquires one (navigator.gpu, or Dawn in Node). */
  readonly device?: GPUDevice;
  /** The kernel profile; absent: the acquired adapter's, else the program's, else 'software'. */
  readonly target?: Target;
  /**
   * The compiler's plan for this setup (planTraining), made ahead of time; absent: planned here,
   * with the compiler's planner imported when first needed (the runtime imports no compiler
   * module statically, so an app that ships a plan ships no compiler).
   */
  readonly plan?: TrainingPlan;
}

async function planFor(
  setup: TrainingSetup,
  target: Target,
  maxBindingBytes: number,
): Promise<TrainingPlan> {
  const { planTraining } = await import('../../../compiler/training/index.js');
  return planTraining(setup.program, {
    trained: setup.trained,
    output: setup.output,
    target,
    maxBindingBytes,
    dropout: activeDropout(setup.dropout)?.probability ?? 0,
  });
}

/**
 * The WebGPU training backend (docs/training-webgpu.md): the compiler's training plan for the
 * setup, run on the device. The program must be compiled with `{ fuse: false }`.
 */
export async function createWebGpuTrainer(
  setup: TrainingSetup,
  options: WebGpuTrainerOptions = {},
): Promise<WebGpuTrainer> {
  let owned: GpuDevice | undefined;
  let device = options.device;
  if (!device) {
    owned = await GpuDevice.create();
    device = owned.device;
  }
  try {
    const limits = device.limits;
    const target =
      options.target ?? owned?.adapter.profile ?? setup.program.gpu?.target ?? 'software';
    const plan =
      options.plan ??
      (await planFor(
        setup,
        target,
        Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize),
      ));
    const probability = activeDropout(setup.dropout)?.probability ?? 0;
    if (plan.dropout !== probability) {
      throw new BackwardError(
        `the plan drops with probability ${plan.dropout}, the setup with ${probability}`,
      );
    }
    if (plan.output.name !== setup.output || plan.output.classes !== setup.classes) {
      throw new BackwardError(
        `the plan takes the loss of '${plan.output.name}' over ${plan.output.classes} classes, the setup of '${setup.output}' over ${setup.classes}`,
      );
    }
    const mine = owned;
    const trainer = new WebGpuTrainer(device, plan, setup, () => mine?.dispose());
    owned = undefined;
    try {
      await trainer.initialize();
    } catch (error) {
      trainer.dispose();
      throw error;
    }
    return trainer;
  } catch (error) {
    owned?.dispose();
    throw error;
  }
}

export { WebGpuTrainer } from './trainer.js';
export { plannedBytes, type TrainingMemory } from './planned-bytes.js';
