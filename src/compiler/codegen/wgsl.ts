import type { ActivationName, LinearActivation } from '../../runtime/ops/registry.js';

/** Pieces of WGSL every kernel shares. Generated identifiers only: no user name reaches WGSL. */

/**
 * A loop bound the shader compiler cannot fold: the runtime always writes `params.pad` as 0.
 * With a constant bound LLVM (lavapipe's llvmpipe) unrolls loops of hundreds of iterations when
 * the pipeline first runs: the bottleneck kernel's 192-step down projection took 6.6 s of CPU to
 * compile at BERT-base's width, 0.4 s with this bound, and runs 15% faster (docs/design.md §5).
 */
export const opaqueBound = (bound: string): string => `${bound} + params.pad`;

/** The params uniform at binding 0 and the storage bindings after it, the last one written. */
export function bindings(names: readonly string[], types: readonly string[] = []): string {
  const lines = [
    'struct Params { batch: u32, seq: u32, rows: u32, pad: u32 }',
    '@group(0) @binding(0) var<uniform> params: Params;',
  ];
  names.forEach((name, i) => {
    const last = i === names.length - 1;
    const type = types[i] ?? 'f32';
    lines.push(
      `@group(0) @binding(${i + 1}) var<storage, ${last ? 'read_write' : 'read'}> ${name}: array<${type}>;`,
    );
  });
  return lines.join('\n');
}

/** The flat workgroup index of a dispatch laid out over x and y. */
export const FLAT_GROUP = 'let group = wid.x + wid.y * nwg.x;';

export const ENTRY_BUILTINS =
  '@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32';

/** f32 literal text that WGSL accepts for any finite number. */
export function f32(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`cannot emit ${value} as f32`);
  const text = Math.fround(value).toString();
  return /[.e]/.test(text) ? `${text}f` : `${text}.0f`;
}

/**
 * Activation functions. WGSL has no erf: erf_approx is Abramowitz & Stegun 7.1.26 (absolute error
 * below 1.5e-7, the size of f32 rounding). tanh's argument is clamped, where some drivers' tanh
 * overflows to NaN; tanh(±15) is ±1 in f32.
 */
export const ACTIVATION_FUNCTIONS = {
  relu: 'fn act_relu(x: f32) -> f32 { return max(x, 0.0); }',
  gelu: `fn erf_approx(x: f32) -> f32 {
  let a = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign(x) * (1.0 - poly * exp(-a * a));
}
fn act_gelu(x: f32) -> f32 { return 0.5 * x * (1.0 + erf_approx(x * 0.7071067811865476)); }`,
  gelu_tanh:
    'fn act_gelu_tanh(x: f32) -> f32 { return 0.5 * x * (1.0 + tanh(clamp(0.7978845608028654 * (x + 0.044715 * x * x * x), -15.0, 15.0))); }',
  silu: 'fn act_silu(x: f32) -> f32 { return x / (1.0 + exp(-x)); }',
  tanh: 'fn act_tanh(x: f32) -> f32 { return tanh(clamp(x, -15.0, 15.0)); }',
  sigmoid: 'fn act_sigmoid(x: f32) -> f32 { return 1.0 / (1.0 + exp(-x)); }',
  leaky_relu: 'fn act_leaky_relu(x: f32) -> f32 { return select(0.01 * x, x, x > 0.0); }',
} as const satisfies Readonly<Record<ActivationName, string>>;

/** The WGSL function for an activation, or '' for none; `apply` wraps an expression with it. */
export function activation(name: LinearActivation): {
  functions: string;
  apply: (expr: string) => string;
} {
  if (name === 'none' || name === 'identity') return { functions: '', apply: (expr) => expr };
  return { functions: ACTIVATION_FUNCTIONS[name], apply: (expr) => `act_${name}(${expr})` };
}
