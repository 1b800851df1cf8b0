import type { AttrValue, Dim, DType, Shape } from './types.js';

/**
 * Every IR op and its facts, in one table (as tinygrad's Ops / TVM's op patterns):
 * - class: what fusion may do with it (elementwise ops fuse into producers; one reduction or
 *   matmul per kernel, except the patterns the fusion passes name explicitly);
 * - arity: the number of inputs, or the minimum for variadic ops;
 * - shape: the output shape from the input shapes, or a reason the inputs do not fit.
 */
export type OpClass = 'source' | 'elementwise' | 'broadcast' | 'reduction' | 'matmul' | 'opaque';

export interface OpInfo {
  readonly class: OpClass;
  readonly arity: number;
  readonly variadic?: boolean;
  /** Attributes the op requires. */
  readonly attrs: readonly string[];
  /** Absent for sources (inputs and weights), whose nodes carry their own shape. */
  readonly shape?: (
    inputs: readonly Shape[],
    attrs: Readonly<Record<string, AttrValue>>,
  ) => Shape | string;
  readonly dtype?: DType;
}

const same = (inputs: readonly Shape[]) => inputs[0]!;

function last(shape: Shape): Dim {
  return shape[shape.length - 1]!;
}

function showShape(shape: Shape): string {
  return `[${shape.join(',')}]`;
}

/** Right-aligned broadcasting of b onto a: b's dims must equal a's or be 1; the result is a's shape. */
function broadcastOnto(inputs: readonly Shape[]): Shape | string {
  const [a, b] = inputs as [Shape, Shape];
  if (b.length > a.length) return `cannot broadcast ${showShape(b)} onto ${showShape(a)}`;
  for (let i = 1; i <= b.length; i++) {
    const db = b[b.length - i]!;
    if (db !== 1 && db !== a[a.length - i])
      return `cannot broadcast ${showShape(b)} onto ${showShape(a)}`;
  }
  return a;
}

function matmul(inputs: readonly Shape[]): Shape | string {
  const [x, w] = inputs as [Shape, Shape];
  if (w.length !== 2) return `weight must be 2-D [out, in], got ${showShape(w)}`;
  if (last(x) !== w[1]) return `inner sizes differ: ${showShape(x)} x ${showShape(w)}ᵀ`;
  return [...x.slice(0, -1), w[0]!];
}

function allSame(inputs: readonly Shape[], from = 0): Shape | string {
  const first = inputs[from]!;
  for (const shape of inputs.slice(from)) {
    if (showShape(shape) !== showShape(first))
      return `shapes differ: ${inputs.map(showShape).join(' ')}`;
  }
  return first;
}

const unary: OpInfo = { class: 'elementwise', arity: 1, attrs: [], shape: same };

export const OPS = {
  input: { class: 'source', arity: 0, attrs: ['name'] },
  weight: { class: 'source', arity: 0, attrs: ['name'] },
  matmul: { class: 'matmul', arity: 2, attrs: [], shape: matmul },
  add: { class: 'broadcast', arity: 2, attrs: [], shape: broadcastOnto },
  scale: { class: 'elementwise', arity: 1, attrs: ['factor'], shape: same },
  relu: unary,
  gelu: unary,
  gelu_tanh: unary,
  silu: unary,
  tanh: unary,
  layer_norm: {
    class: 'reduction',
    arity: 3,
    attrs: ['eps'],
    shape: (inputs) => {
      const [x, gamma, beta] = inputs as [Shape, Shape, Shape];
      if (gamma.length !== 1 || gamma[0] !== last(x) || beta.length !== 1 || beta[0] !== last(x)) {
        return `gamma and beta must be [${last(x)}]`;
      }
      return x;
    },
  },
  /** Multi-head attention of q, k, v [B,T,d] with the padding mask [B,T] (and causal mask). */
  attention: {
    class: 'opaque',
    arity: 4,
    attrs: ['heads', 'causal'],
    shape: (inputs, attrs) => {
      const qkv = allSame(inputs.slice(0, 3));
      if (typeof qkv === 'string') return qkv;
      if (qkv.length !== 3) return `q, k, v must be [B,T,d], got ${showShape(qkv)}`;
      const d = qkv[2]!;
      if (typeof d !== 'number' || d % (attrs.heads as number) !== 0) return 'heads must divide d';
      const mask = inputs[3]!;
      if (mask.length !== 2 || mask[0] !== qkv[0] || mask[1] !== qkv[1])
        return 'mask must be [B,T]';
      return qkv;
    },
  },
  /** Per-row dot product of two [..., d] tensors: [..., 1]. */
  row_dot: {
    class: 'reduction',
    arity: 2,
    attrs: [],
    shape: (inputs) => {
      const shape = allSame(inputs);
      return typeof shape === 'string' ? shape : [...shape.slice(0, -1), 1];
    },
  },
  /** Concatenation of N tensors [..., 1] along the last axis: [..., N]. */
  concat: {
    class: 'opaque',
    arity: 1,
    variadic: true,
    attrs: [],
    shape: (inputs) => {
      const shape = allSame(inputs);
      if (typeof shape === 'string') return shape;
      if (last(shape) !== 1) return 'concat takes [..., 1] tensors';
      return [...shape.slice(0, -1), inputs.length];
    },
  },
  /** Softmax over the last axis. */
  softmax: { class: 'reduction', arity: 1, attrs: [], shape: same },
  /** Σ_i α[..., i] · v_i for α [..., N] and N tensors v_i [..., d]. */
  weighted_sum: {
    class: 'opaque',
    arity: 2,
    variadic: true,
    attrs: [],
    shape: (inputs) => {
      const [alpha, ...values] = inputs as [Shape, ...Shape[]];
      const shape = allSame(values);
      if (typeof shape === 'string') return shape;
      if (last(alpha) !== values.length)
        return `α has ${last(alpha)} weights for ${values.length} values`;
      return shape;
    },
  },
  /** Per sequence b, the row of branch index[b]: index [B] (i32), branches [B, ...]. */
  select: {
    class: 'opaque',
    arity: 2,
    variadic: true,
    attrs: [],
    shape: (inputs) => {
      const [index, ...branches] = inputs as [Shape, ...Shape[]];
      if (index.length !== 1) return 'index must be [B]';
      const shape = allSame(branches);
      if (typeof shape === 'string') return shape;
      if (shape[0] !== index[0]) return 'branches must share the batch dimension of the index';
      return shape;
    },
  },

  // Fused ops: produced by the passes in src/compiler/passes/, one GPU kernel each.

  /**
   * act(x·Wᵀ + b) · scale + residual, the epilogue of a matmul fused into it. Inputs
   * [x, W, bias?, residual?] as `bias` and `residual` say; W is [out, in], or [in, out] with
   * `transposeWeight`. `activation` is 'none' or an activation op name.
   */
  linear: {
    class: 'matmul',
    arity: 2,
    variadic: true,
    attrs: ['activation', 'scale', 'bias', 'residual', 'transposeWeight'],
    shape: (inputs, attrs) => {
      const [x, w] = inputs as [Shape, Shape];
      const weight = attrs.transposeWeight ? [w[1]!, w[0]!] : w;
      const out = matmul([x, weight]);
      if (typeof out === 'string') return out;
      const expected = 2 + (attrs.bias ? 1 : 0) + (attrs.residual ? 1 : 0);
      if (inputs.length !== expected) return `expected ${expected} inputs`;
      if (attrs.bias && showShape(inputs[2]!) !== showShape([weight[0]!]))
        return 'bias must be [out]';
      if (attrs.residual && showShape(inputs[inputs.length - 1]!) !== showShape(out)) {
        return 'residual must have the output shape';
      }
      return out;
    },
  },
  /** LN(x + y): the residual add and the LayerNorm of a post-LN site in one row kernel. */
  add_layer_norm: {
    class: 'reduction',
    arity: 4,
    attrs: ['eps'],
    shape: (inputs) => {
      const sum = allSame(inputs.slice(0, 2));
      if (typeof sum === 'string') return sum;
      const [, , gamma, beta] = inputs as [Shape, Shape, Shape, Shape];
      if (
        gamma.length !== 1 ||
        gamma[0] !== last(sum) ||
        beta.length !== 1 ||
        beta[0] !== last(sum)
      ) {
        return `gamma and beta must be [${last(sum)}]`;
      }
      return sum;
    },
  },
  /**
   * Adapters at one site in one kernel: inputs [y, u, then W_down, b_down, W_up, b_up per adapter].
   * Adapter i reads y_i (or u where `reads[i]` is 'u') and y_{i+1} = y_i + scales[i] · Δ_i.
   * With `residual` false there is one adapter and the output is its scaled delta alone.
   */
  bottleneck: {
    class: 'opaque',
    arity: 6,
    variadic: true,
    attrs: ['activations', 'scales', 'reads', 'residual'],
    shape: (inputs, attrs) => {
      const [y, u] = inputs as [Shape, Shape];
      const count = (attrs.scales as readonly number[]).length;
      if (inputs.length !== 2 + 4 * count) return `expected ${2 + 4 * count} inputs`;
      if (!attrs.residual && count !== 1) return 'a delta-only bottleneck holds one adapter';
      if (showShape(y) !== showShape(u)) return 'y and u must have one shape';
      for (let i = 0; i < count; i++) {
        const [wd, bd, wu, bu] = inputs.slice(2 + 4 * i, 6 + 4 * i) as [Shape, Shape, Shape, Shape];
        const r = wd[0]!;
        const d = last(y);
        const ok = showShape(wd) === showShape([r, d]) && showShape(bd) === showShape([r]);
        if (!ok || showShape(wu) !== showShape([d, r]) || showShape(bu) !== showShape([d])) {
          return `adapter ${i} weights do not fit d=${d}`;
        }
      }
      return y;
    },
  },
  /**
   * AdapterFusion after the algebraic rewrite, in one row kernel: inputs [q', o_1..o_N] and
   * Σ_i softmax_i(factor · q'·o_i) · o_i.
   */
  fusion_mix: {
    class: 'opaque',
    arity: 3,
    variadic: true,
    attrs: ['factor'],
    shape: (inputs) => allSame(inputs),
  },
} as const satisfies Record<string, OpInfo>;

export type OpName = keyof typeof OPS;

export function opInfo(op: string): OpInfo | undefined {
  return (OPS as Record<string, OpInfo>)[op];
}
