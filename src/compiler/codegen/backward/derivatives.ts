import type { ActivationName } from '../../../runtime/ops/registry.js';
import { ACTIVATION_FUNCTIONS } from '../wgsl.js';

/**
 * f′ of each activation in WGSL, `d_NAME(x)`, as the CPU reference's ACTIVATION_DERIVATIVES:
 * gelu's Φ(x) + x·φ(x) with the forward kernel's erf_approx, tanh's argument clamped as the
 * forward kernel clamps it.
 */
export const ACTIVATION_DERIVATIVE_FUNCTIONS = {
  relu: 'fn d_relu(x: f32) -> f32 { return select(0.0, 1.0, x > 0.0); }',
  gelu: `${ACTIVATION_FUNCTIONS.gelu}
fn d_gelu(x: f32) -> f32 {
  return 0.5 * (1.0 + erf_approx(x * 0.7071067811865476)) + x * 0.3989422804014327 * exp(-0.5 * x * x);
}`,
  gelu_tanh: `fn d_gelu_tanh(x: f32) -> f32 {
  let t = tanh(clamp(0.7978845608028654 * (x + 0.044715 * x * x * x), -15.0, 15.0));
  return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * 0.7978845608028654 * (1.0 + 0.134145 * x * x);
}`,
  silu: `fn d_silu(x: f32) -> f32 {
  let s = 1.0 / (1.0 + exp(-x));
  return s * (1.0 + x * (1.0 - s));
}`,
  tanh: `fn d_tanh(x: f32) -> f32 {
  let t = tanh(clamp(x, -15.0, 15.0));
  return 1.0 - t * t;
}`,
  sigmoid: `fn d_sigmoid(x: f32) -> f32 {
  let s = 1.0 / (1.0 + exp(-x));
  return s * (1.0 - s);
}`,
  leaky_relu: 'fn d_leaky_relu(x: f32) -> f32 { return select(0.01, 1.0, x > 0.0); }',
} as const satisfies Readonly<Record<ActivationName, string>>;
