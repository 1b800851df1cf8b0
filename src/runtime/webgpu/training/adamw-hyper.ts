/**
 * The hyperparameters one AdamW step of one tensor reads, as f32, in this order (the kernels of
 * compiler/codegen/backward/adamw.ts index them so); the host computes the bias corrections in
 * f64 per step (torch/optim/adamw.py, _single_tensor_adamw): stepSize = lr/(1 − β1ᵗ),
 * correction2Sqrt = √(1 − β2ᵗ), decay = 1 − lr·wd.
 */
export const ADAMW_HYPER = [
  'stepSize',
  'correction2Sqrt',
  'decay',
  'beta1',
  'oneMinusBeta1',
  'beta2',
  'oneMinusBeta2',
  'eps',
] as const;
