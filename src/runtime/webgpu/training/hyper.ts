import { ADAMW_HYPER } from './adamw-hyper.js';
import type { StepSettings } from '../../training/backend.js';

/**
 * The f32 hyperparameters of AdamW's step `step` (counted from 1), in the kernels' order; the
 * bias corrections in f64 as torch.optim.AdamW computes them on the host.
 */
export function adamwHyper(settings: StepSettings, step: number): Float32Array {
  const { lr, weightDecay, beta1, beta2, eps } = settings;
  const values: Record<(typeof ADAMW_HYPER)[number], number> = {
    stepSize: lr / (1 - beta1 ** step),
    correction2Sqrt: Math.sqrt(1 - beta2 ** step),
    decay: 1 - lr * weightDecay,
    beta1,
    oneMinusBeta1: 1 - beta1,
    beta2,
    oneMinusBeta2: 1 - beta2,
    eps,
  };
  return Float32Array.from(ADAMW_HYPER, (name) => values[name]);
}
