/**
 * AdamW as torch.optim.AdamW with amsgrad and maximize off: PyTorch 1.13's
 * torch/optim/adamw.py, function _single_tensor_adamw (_single_tensor_adam in
 * torch/optim/adam.py is the same update with the decay added to the gradient instead):
 *
 *   step += 1
 *   p ← p · (1 − lr·weight_decay)
 *   m ← β1·m + (1 − β1)·g
 *   v ← β2·v + (1 − β2)·g²
 *   p ← p − (lr / (1 − β1^step)) · m / (sqrt(v) / sqrt(1 − β2^step) + eps)
 *
 * Every step is computed in f64 and the moments are kept in f64; the parameter is stored back
 * into its own array, so an f32 parameter is rounded to f32 once per step. PyTorch computes an
 * f32 parameter's update in f32 (each of the operations above rounded), so the two agree to a
 * few f32 roundings per step (1.5 ulps, 1e-7 relative, over three steps of the test fixture),
 * not exactly. For f64 parameters they agree exactly on that fixture.
 */

export interface AdamWOptions {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
}

/** torch.optim.AdamW's defaults. */
export const ADAMW_DEFAULTS: AdamWOptions = {
  lr: 1e-3,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  weightDecay: 0.01,
};

/** The state of one parameter tensor, as PyTorch keeps it per parameter. */
export interface AdamWState {
  step: number;
  readonly expAvg: Float64Array;
  readonly expAvgSq: Float64Array;
}

export function adamwState(size: number): AdamWState {
  return { step: 0, expAvg: new Float64Array(size), expAvgSq: new Float64Array(size) };
}

/** One AdamW step of `param` (updated in place) with gradient `grad`. */
export function adamwStep(
  param: Float32Array | Float64Array,
  grad: ArrayLike<number>,
  state: AdamWState,
  options: AdamWOptions = ADAMW_DEFAULTS,
): void {
  const { lr, beta1, beta2, eps, weightDecay } = options;
  if (grad.length !== param.length || state.expAvg.length !== param.length) {
    throw new RangeError(
      `adamwStep: parameter of ${param.length} elements, gradient of ${grad.length}, state of ${state.expAvg.length}`,
    );
  }
  state.step += 1;
  const stepSize = lr / (1 - beta1 ** state.step);
  const correction2Sqrt = Math.sqrt(1 - beta2 ** state.step);
  const decay = 1 - lr * weightDecay;
  for (let i = 0; i < param.length; i++) {
    const g = grad[i]!;
    const m = (state.expAvg[i] = beta1 * state.expAvg[i]! + (1 - beta1) * g);
    const v = (state.expAvgSq[i] = beta2 * state.expAvgSq[i]! + (1 - beta2) * g * g);
    param[i] = param[i]! * decay - (stepSize * m) / (Math.sqrt(v) / correction2Sqrt + eps);
  }
}
