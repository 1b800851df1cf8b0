import type { Dim, DType, Shape } from '../program.js';
import {
  fail,
  readArray,
  readBoolean,
  readInteger,
  readNumber,
  readOneOf,
  sameShape,
  showShape,
} from './read.js';

/**
 * What each op the runtime executes requires of its node: the number of inputs, the dtype of
 * each, the attributes and their types, and the output shape from the input shapes. A program
 * whose nodes satisfy these rules cannot make a CPU kernel read past the end of a tensor.
 */
export interface OpRule {
  readonly arity: number;
  readonly variadic?: boolean;
  /** Positions of the inputs that hold i32 values (masks, indices); every other one is f32. */
  readonly i32Inputs?: readonly number[];
  readonly attrs: Readonly<Record<string, (value: unknown, path: string) => void>>;
  /** The output shape, or why the inputs do not fit. */
  readonly shape: (
    inputs: readonly Shape[],
    attrs: Readonly<Record<string, unknown>>,
  ) => Shape | string;
  readonly dtype: DType;
}

const ACTIVATIONS = ['relu', 'gelu', 'gelu_tanh', 'silu', 'tanh'] as const;
const LINEAR_ACTIVATIONS = ['none', 'identity', ...ACTIVATIONS] as const;

const finite = (value: unknown, path: string) => void readNumber(value, path);
const nonNegative = (value: unknown, path: string) => void readNumber(value, path, 0);
const flag = (value: unknown, path: string) => void readBoolean(value, path);
const positiveInteger = (value: unknown, path: string) => void readInteger(value, path, 1);
const linearActivation = (value: unknown, path: string) =>
  void readOneOf(value, path, LINEAR_ACTIVATIONS);

function listOf(item: (value: unknown, path: string) => void) {
  return (value: unknown, path: string) => {
    const list = readArray(value, path);
    if (list.length === 0) fail(path, 'must not be empty');
    list.forEach((entry, i) => item(entry, `${path}[${i}]`));
  };
}

const last = (shape: Shape): Dim | undefined => shape[shape.length - 1];
const withLast = (shape: Shape, dim: Dim): Shape => [...shape.slice(0, -1), dim];

function allSame(shapes: readonly Shape[]): Shape | string {
  const first = shapes[0]!;
  if (shapes.some((shape) => !sameShape(shape, first)))
    return `shapes differ: ${shapes.map(showShape).join(' ')}`;
  return first;
}

function matmulShape(x: Shape, w: Shape): Shape | string {
  if (x.length === 0) return 'the input must have at least one axis';
  if (w.length !== 2) return `the weight must be 2-D [out, in], got ${showShape(w)}`;
  if (last(x) !== w[1]) return `inner sizes differ: ${showShape(x)} times ${showShape(w)}ᵀ`;
  return withLast(x, w[0]!);
}

/** b broadcast onto a from the right: each of b's dims equals a's or is 1. */
function broadcastShape([a, b]: readonly Shape[]): Shape | string {
  const fits =
    b!.length <= a!.length &&
    b!.every((dim, i) => dim === 1 || dim === a![a!.length - b!.length + i]);
  return fits ? a! : `cannot broadcast ${showShape(b!)} onto ${showShape(a!)}`;
}

function rowParameters(x: Shape, gamma: Shape, beta: Shape): string | undefined {
  const d = last(x);
  if (d === undefined) return 'the input must have at least one axis';
  if (!sameShape(gamma, [d]) || !sameShape(beta, [d])) return `gamma and beta must be [${d}]`;
  return undefined;
}

const unary: OpRule = { arity: 1, attrs: {}, shape: ([x]) => x!, dtype: 'f32' };

function linearShape(inputs: readonly Shape[], attrs: Readonly<Record<string, unknown>>) {
  const [x, w] = inputs as [Shape, Shape];
  const weight = attrs.transposeWeight && w.length === 2 ? [w[1]!, w[0]!] : w;
  const out = matmulShape(x, weight);
  if (typeof out === 'string') return out;
  const expected = 2 + (attrs.bias ? 1 : 0) + (attrs.residual ? 1 : 0);
  if (inputs.length !== expected) return `takes ${expected} inputs, got ${inputs.length}`;
  if (attrs.bias && !sameShape(inputs[2]!, [weight[0]!])) return `the bias must be [${weight[0]}]`;
  if (attrs.residual && !sameShape(inputs[inputs.length - 1]!, out))
    return `the residual must be ${showShape(out)}`;
  return out;
}

function bottleneckShape(inputs: readonly Shape[], attrs: Readonly<Record<string, unknown>>) {
  const [y, u] = inputs as [Shape, Shape];
  const scales = attrs.scales as readonly number[];
  const lists = ['activations', 'reads'] as const;
  for (const list of lists) {
    if ((attrs[list] as readonly unknown[]).length !== scales.length)
      return `${list} has ${(attrs[list] as readonly unknown[]).length} entries for ${scales.length} adapters`;
  }
  if (inputs.length !== 2 + 4 * scales.length)
    return `takes ${2 + 4 * scales.length} inputs for ${scales.length} adapters, got ${inputs.length}`;
  if (!attrs.residual && scales.length !== 1)
    return 'a bottleneck without residual holds one adapter';
  if (!sameShape(y, u)) return `y ${showShape(y)} and u ${showShape(u)} must have one shape`;
  const d = last(y);
  if (d === undefined) return 'y must have at least one axis';
  for (let i = 0; i < scales.length; i++) {
    const [wd, bd, wu, bu] = inputs.slice(2 + 4 * i, 6 + 4 * i) as [Shape, Shape, Shape, Shape];
    const r = wd[0];
    const fits =
      r !== undefined &&
      sameShape(wd, [r, d]) &&
      sameShape(bd, [r]) &&
      sameShape(wu, [d, r]) &&
      sameShape(bu, [d]);
    if (!fits) return `the weights of adapter ${i} do not fit hidden size ${d}`;
  }
  return y;
}

export const OP_RULES: Readonly<Record<string, OpRule>> = {
  matmul: { arity: 2, attrs: {}, shape: ([x, w]) => matmulShape(x!, w!), dtype: 'f32' },
  add: { arity: 2, attrs: {}, shape: broadcastShape, dtype: 'f32' },
  scale: { arity: 1, attrs: { factor: finite }, shape: ([x]) => x!, dtype: 'f32' },
  relu: unary,
  gelu: unary,
  gelu_tanh: unary,
  silu: unary,
  tanh: unary,
  layer_norm: {
    arity: 3,
    attrs: { eps: nonNegative },
    shape: ([x, gamma, beta]) => rowParameters(x!, gamma!, beta!) ?? x!,
    dtype: 'f32',
  },
  attention: {
    arity: 4,
    i32Inputs: [3],
    attrs: { heads: positiveInteger, causal: flag },
    shape: (inputs, attrs) => {
      const qkv = allSame(inputs.slice(0, 3));
      if (typeof qkv === 'string') return qkv;
      if (qkv.length !== 3) return `q, k and v must be [B, T, d], got ${showShape(qkv)}`;
      const d = qkv[2]!;
      if (typeof d !== 'number' || d % (attrs.heads as number) !== 0)
        return `heads (${String(attrs.heads)}) must divide d (${d})`;
      if (!sameShape(inputs[3]!, [qkv[0]!, qkv[1]!]))
        return `the mask must be [${qkv[0]}, ${qkv[1]}], got ${showShape(inputs[3]!)}`;
      return qkv;
    },
    dtype: 'f32',
  },
  row_dot: {
    arity: 2,
    attrs: {},
    shape: (inputs) => {
      const shape = allSame(inputs);
      if (typeof shape === 'string' || shape.length === 0) return 'takes two tensors of one shape';
      return withLast(shape, 1);
    },
    dtype: 'f32',
  },
  concat: {
    arity: 1,
    variadic: true,
    attrs: {},
    shape: (inputs) => {
      const shape = allSame(inputs);
      if (typeof shape === 'string') return shape;
      if (last(shape) !== 1) return 'takes tensors [..., 1]';
      return withLast(shape, inputs.length);
    },
    dtype: 'f32',
  },
  softmax: unary,
  weighted_sum: {
    arity: 2,
    variadic: true,
    attrs: {},
    shape: ([alpha, ...values]) => {
      const shape = allSame(values);
      if (typeof shape === 'string') return shape;
      if (shape.length === 0) return 'the values must have at least one axis';
      if (!sameShape(alpha!, withLast(shape, values.length)))
        return `α must be ${showShape(withLast(shape, values.length))} for ${values.length} values, got ${showShape(alpha!)}`;
      return shape;
    },
    dtype: 'f32',
  },
  select: {
    arity: 2,
    variadic: true,
    i32Inputs: [0],
    attrs: {},
    shape: ([index, ...branches]) => {
      if (index!.length !== 1) return `the index must be [B], got ${showShape(index!)}`;
      const shape = allSame(branches);
      if (typeof shape === 'string') return shape;
      if (shape[0] !== index![0]) return 'the branches must share the batch axis of the index';
      return shape;
    },
    dtype: 'f32',
  },
  linear: {
    arity: 2,
    variadic: true,
    attrs: {
      activation: linearActivation,
      scale: finite,
      bias: flag,
      residual: flag,
      transposeWeight: flag,
    },
    shape: linearShape,
    dtype: 'f32',
  },
  add_layer_norm: {
    arity: 4,
    attrs: { eps: nonNegative },
    shape: ([x, y, gamma, beta]) => {
      if (!sameShape(x!, y!))
        return `x ${showShape(x!)} and y ${showShape(y!)} must have one shape`;
      return rowParameters(x!, gamma!, beta!) ?? x!;
    },
    dtype: 'f32',
  },
  bottleneck: {
    arity: 6,
    variadic: true,
    attrs: {
      activations: listOf(linearActivation),
      scales: listOf(finite),
      reads: listOf((value, path) => void readOneOf(value, path, ['y', 'u'])),
      residual: flag,
    },
    shape: bottleneckShape,
    dtype: 'f32',
  },
  fusion_mix: {
    arity: 3,
    variadic: true,
    attrs: { factor: finite },
    shape: (inputs) => {
      const shape = allSame(inputs);
      if (typeof shape === 'string') return shape;
      return shape.length === 0 ? 'the inputs must have at least one axis' : shape;
    },
    dtype: 'f32',
  },
};
