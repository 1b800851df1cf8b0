/** The CPU reference for training: f64 backward pass, cross-entropy and AdamW. */
export {
  BackwardError,
  requireLoweredProgram,
  type DifferentiableOp,
} from './differentiable-ops.js';
export {
  backward,
  backwardFrom,
  forward64,
  nodesNeedingGradient,
  type BackwardResult,
  type Forward64,
  type OutputGradient,
  type Weights64,
} from './graph-backward.js';
export { crossEntropy, type CrossEntropy, type CrossEntropyOptions } from './cross-entropy.js';
export {
  ADAMW_DEFAULTS,
  adamwState,
  adamwStep,
  type AdamWOptions,
  type AdamWState,
} from './adamw.js';
export { FORWARD_KERNELS } from './forward-kernels.js';
export { ACTIVATION_DERIVATIVES, VJPS, type Vjp } from './vjp.js';
export type { Value64 } from './values.js';
