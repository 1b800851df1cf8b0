import type { DType, ProgramNode, Shape } from '../program.js';
import {
  finite,
  flag,
  integer,
  listOf,
  nonNegative,
  oneOf,
  text,
  type AttrSchema,
  type AttrsOf,
} from './attr-schema.js';
import {
  addLayerNormShape,
  attentionShape,
  bottleneckShape,
  broadcastShape,
  slotBottleneckShape,
  slotLinearShape,
  concatShape,
  embeddingsShape,
  firstTokenShape,
  fusionMixShape,
  gatherShape,
  linearShape,
  matmulShape,
  rowDotShape,
  rowParameters,
  sameAsFirst,
  selectShape,
  tokenMeanShape,
  weightedSumShape,
  weightProductShape,
  type ShapeResult,
} from './shape-rules.js';

/**
 * The groups an op belongs to; passes and per-op tables ask the registry instead of listing ops:
 * - source: inputs and weights, whose nodes carry their own shape and compute nothing;
 * - activation: elementwise functions that epilogue fusion folds into a linear;
 * - fused: produced by the passes only (one GPU kernel each), never by the lowering;
 * - load: computed once when the program is loaded, from weights (and other load-time values)
 *   only, never in a forward pass: the passes produce them, and they cost no per-pass FLOPs;
 * - slot: adapter slots, whose weights are stacked per slot and picked per sequence by an i32
 *   slot index; the lowering emits them for `slots` programs, the passes leave them alone, and
 *   training refuses them.
 */
export type OpGroup = 'source' | 'activation' | 'fused' | 'load' | 'slot';

/** The output dtype: always f32, that of input `like`, or declared by the node itself (sources). */
export type DTypeRule = DType | { readonly like: number } | 'declared';

/** What a FLOP formula sees: the node's attributes and every size resolved at one run's B and T. */
export interface FlopContext<A> {
  readonly attrs: A;
  readonly batch: number;
  readonly seq: number;
  /** The output's rows: the product of every axis but the last (B·T, or B for a head's [B, n]). */
  readonly rows: number;
  /** The last axis of the output. */
  readonly width: number;
  readonly inputs: readonly (readonly number[])[];
}

export interface OpDef<S extends AttrSchema, G extends OpGroup> {
  /** Number of inputs, or the minimum for variadic ops. */
  readonly arity: number;
  readonly variadic?: boolean;
  readonly attrs: S;
  /** Positions of the inputs that hold i32 values (masks, indices); every other one is f32. */
  readonly i32Inputs?: readonly number[];
  /** For an op whose optional inputs move the i32 ones: their positions from the attributes. */
  readonly i32InputsOf?: (attrs: AttrsOf<S>) => readonly number[];
  readonly dtype: DTypeRule;
  readonly groups: readonly G[];
  /** The output shape from the input shapes; absent for sources, whose nodes carry their own. */
  readonly shape?: (inputs: readonly Shape[], attrs: AttrsOf<S>) => ShapeResult;
  /**
   * Floating-point operations of one forward pass, multiply-adds counting two. Absent for ops
   * whose work is a rounding error beside the matmuls (elementwise ops, LayerNorms, copies).
   */
  readonly flops?: (context: FlopContext<AttrsOf<S>>) => number;
}

/** An entry, with its attribute types inferred from its schema for the callbacks. */
const op = <const S extends AttrSchema, const G extends OpGroup = never>(def: OpDef<S, G>) => def;

const activation = () =>
  op({ arity: 1, attrs: {}, dtype: 'f32', groups: ['activation'], shape: sameAsFirst });

/** The activations as ops; their names are also the values of `activation` attributes. */
const ACTIVATION_OPS = {
  relu: activation(),
  gelu: activation(),
  gelu_tanh: activation(),
  silu: activation(),
  tanh: activation(),
  sigmoid: activation(),
  /** PyTorch's `nn.LeakyReLU()`: slope 0.01 below zero (AdapterHub's `leakyrelu`). */
  leaky_relu: activation(),
};

export type ActivationName = keyof typeof ACTIVATION_OPS;
export const ACTIVATIONS = Object.keys(ACTIVATION_OPS) as readonly ActivationName[];
/** What a fused kernel applies between its matmul and its epilogue: nothing, or an activation. */
export const LINEAR_ACTIVATIONS = ['none', 'identity', ...ACTIVATIONS] as const;
export type LinearActivation = (typeof LINEAR_ACTIVATIONS)[number];
const linearActivation = oneOf(LINEAR_ACTIVATIONS);

const matmulFlops = (k: number, { rows, width }: { rows: number; width: number }) =>
  2 * rows * k * width;

/**
 * Every op and its facts, in one table (as tinygrad's Ops): attribute schema, dtype rule, groups,
 * shape rule and FLOP formula. The per-op tables elsewhere (WGSL templates, CPU kernels, ONNX
 * translations) are typed against its names, so an op missing from one is a type error.
 */
export const OPS = {
  input: op({ arity: 0, attrs: { name: text }, dtype: 'declared', groups: ['source'] }),
  weight: op({ arity: 0, attrs: { name: text }, dtype: 'declared', groups: ['source'] }),
  matmul: op({
    arity: 2,
    attrs: {},
    dtype: 'f32',
    groups: [],
    shape: ([x, w]) => matmulShape(x!, w!),
    flops: (c) => matmulFlops(c.inputs[1]![1]!, c),
  }),
  add: op({ arity: 2, attrs: {}, dtype: 'f32', groups: [], shape: broadcastShape }),
  /** a · b elementwise, b broadcast onto a as for `add`: a scaling [1] or [d], a gate [B, 1, 1]. */
  mul: op({ arity: 2, attrs: {}, dtype: 'f32', groups: [], shape: broadcastShape }),
  scale: op({ arity: 1, attrs: { factor: finite }, dtype: 'f32', groups: [], shape: sameAsFirst }),
  ...ACTIVATION_OPS,
  layer_norm: op({
    arity: 3,
    attrs: { eps: nonNegative },
    dtype: 'f32',
    groups: [],
    shape: ([x, gamma, beta]) => rowParameters(x!, gamma!, beta!) ?? x!,
  }),
  /** Multi-head attention of q, k, v [B,T,d] with the padding mask [B,T] (and causal mask). */
  attention: op({
    arity: 4,
    i32Inputs: [3],
    attrs: { heads: integer(1), causal: flag },
    dtype: 'f32',
    groups: [],
    shape: (inputs, attrs) => attentionShape(inputs, attrs.heads),
    flops: ({ attrs, batch, seq, width }) =>
      4 * batch * (attrs.causal ? (seq * (seq + 1)) / 2 : seq * seq) * width,
  }),
  /** Per-row dot product of two [..., d] tensors: [..., 1]. */
  row_dot: op({
    arity: 2,
    attrs: {},
    dtype: 'f32',
    groups: [],
    shape: rowDotShape,
    flops: ({ rows, inputs }) => 2 * rows * inputs[0]!.at(-1)!,
  }),
  /** Concatenation of N tensors [..., 1] along the last axis: [..., N]. */
  concat: op({ arity: 1, variadic: true, attrs: {}, dtype: 'f32', groups: [], shape: concatShape }),
  /** Softmax over the last axis. */
  softmax: op({ arity: 1, attrs: {}, dtype: 'f32', groups: [], shape: sameAsFirst }),
  /** Σ_i α[..., i] · v_i for α [..., N] and N tensors v_i [..., d]. */
  weighted_sum: op({
    arity: 2,
    variadic: true,
    attrs: {},
    dtype: 'f32',
    groups: [],
    shape: weightedSumShape,
    flops: ({ rows, inputs, width }) => 2 * rows * (inputs.length - 1) * width,
  }),
  /**
   * Rows of a table [V, d] by i32 ids [...]: [..., d]. An id outside 0..V-1 reads the nearest row
   * (clamped): the runtime rejects such ids before running, and no kernel reads out of bounds.
   */
  gather: op({
    arity: 2,
    i32Inputs: [1],
    attrs: {},
    dtype: 'f32',
    groups: [],
    shape: ([table, ids]) => gatherShape(table!, ids!),
  }),
  /** Row 0 of each sequence: [B, T, ...] → [B, ...] (the head's [CLS] or <s> token). */
  first_token: op({ arity: 1, attrs: {}, dtype: 'f32', groups: [], shape: firstTokenShape }),
  /** The mean over all T positions of each sequence, padding included: [B, T, C] → [B, 1, C]. */
  token_mean: op({ arity: 1, attrs: {}, dtype: 'f32', groups: [], shape: tokenMeanShape }),
  /** Per sequence b, the row of branch index[b]: index [B] (i32), branches [B, ...]. */
  select: op({
    arity: 2,
    variadic: true,
    i32Inputs: [0],
    attrs: {},
    dtype: { like: 1 },
    groups: [],
    shape: selectShape,
  }),

  /**
   * act(x·Wᵀ + b) · scale + residual, a matmul with its epilogue. Inputs [x, W, bias?, residual?]
   * as `bias` and `residual` say; W is [out, in], or [in, out] with `transposeWeight`.
   */
  linear: op({
    arity: 2,
    variadic: true,
    attrs: {
      activation: linearActivation,
      scale: finite,
      bias: flag,
      residual: flag,
      transposeWeight: flag,
    },
    dtype: 'f32',
    groups: ['fused'],
    shape: linearShape,
    flops: (c) => matmulFlops(c.inputs[1]![c.attrs.transposeWeight ? 0 : 1]!, c),
  }),
  /** LN(x + y): the residual add and the LayerNorm of a post-LN site in one row kernel. */
  add_layer_norm: op({
    arity: 4,
    attrs: { eps: nonNegative },
    dtype: 'f32',
    groups: ['fused'],
    shape: addLayerNormShape,
  }),
  /**
   * Adapters at one site in one kernel: inputs [y, u, then W_down, b_down, W_up, b_up per adapter].
   * Adapter i reads y_i (or u where `reads[i]` is 'u') and y_{i+1} = y_i + scales[i] · Δ_i.
   * With `residual` false there is one adapter and the output is its scaled delta alone.
   */
  bottleneck: op({
    arity: 6,
    variadic: true,
    attrs: {
      activations: listOf(linearActivation),
      scales: listOf(finite),
      reads: listOf(oneOf(['y', 'u'])),
      residual: flag,
    },
    dtype: 'f32',
    groups: ['fused'],
    shape: bottleneckShape,
    flops: ({ rows, inputs }) => {
      let flops = 0;
      for (let i = 2; i < inputs.length; i += 4)
        flops += 4 * rows * inputs[i]![0]! * inputs[i]![1]!;
      return flops;
    },
  }),
  /**
   * A transformer's input embeddings in one row kernel: word[ids] + position[positionIds]
   * (+ type[typeIds] with `tokenTypes`), then LayerNorm with `layerNorm`. Inputs [ids, word,
   * positionIds, position, (typeIds, type)?, (gamma, beta)?]; ids clamped as `gather`'s.
   */
  embeddings: op({
    arity: 4,
    variadic: true,
    attrs: { tokenTypes: flag, layerNorm: flag, eps: nonNegative },
    i32Inputs: [0, 2],
    i32InputsOf: (attrs) => (attrs.tokenTypes ? [0, 2, 4] : [0, 2]),
    dtype: 'f32',
    groups: ['fused'],
    shape: embeddingsShape,
  }),
  /**
   * AdapterFusion after the algebraic rewrite, in one row kernel: inputs [q', o_1..o_N] and
   * Σ_i softmax_i(factor · q'·o_i) · o_i.
   */
  fusion_mix: op({
    arity: 3,
    variadic: true,
    attrs: { factor: finite },
    dtype: 'f32',
    groups: ['fused'],
    shape: fusionMixShape,
    flops: ({ rows, inputs, width }) => 4 * rows * (inputs.length - 1) * width,
  }),
  /**
   * Aᵀ·B of two load-time values, computed once at load: A [m, n] and B [m, p] give [n, p], a
   * vector B [m] gives [n]. The fusion algebra's fold W_Kᵀ·W_Q (and W_Kᵀ·b_Q) is one.
   */
  weight_product: op({
    arity: 2,
    attrs: {},
    dtype: 'f32',
    groups: ['load'],
    shape: weightProductShape,
  }),

  /**
   * One adapter per sequence from stacked weights: inputs [residual, z, slot, W_down [S, r, d],
   * b_down [S, r], W_up [S, d, r], b_up [S, d], scale [S]] and, with s = slot[b],
   * residual + scale[s] · (W_up_s · act(W_down_s · z + b_down_s) + b_up_s).
   */
  slot_bottleneck: op({
    arity: 8,
    i32Inputs: [2],
    attrs: { activation: linearActivation },
    dtype: 'f32',
    groups: ['slot'],
    shape: slotBottleneckShape,
    flops: ({ rows, inputs }) => 4 * rows * inputs[3]![1]! * inputs[3]![2]!,
  }),
  /** act(x · W_sᵀ + b_s) per sequence, s = slot[b]: x [B, n] or [B, T, n], W [S, out, n], b [S, out]. */
  slot_linear: op({
    arity: 4,
    i32Inputs: [1],
    attrs: { activation: linearActivation },
    dtype: 'f32',
    groups: ['slot'],
    shape: slotLinearShape,
    flops: (c) => matmulFlops(c.inputs[2]![2]!, c),
  }),
};

export type OpName = keyof typeof OPS;
type Entry<O extends OpName> = (typeof OPS)[O];
export type OpAttrs<O extends OpName> = AttrsOf<Entry<O>['attrs']>;

/** The ops of a group, as a type: `OpsIn<'source'>` is 'input' | 'weight'. */
export type OpsIn<G extends OpGroup> = {
  [O in OpName]: G extends Entry<O>['groups'][number] ? O : never;
}[OpName];
/** The ops that compute something: every per-op kernel table has one entry for each. */
export type ComputeOp = Exclude<OpName, OpsIn<'source'>>;

/**
 * The ops with a plain meaning, each one CPU kernel and one ONNX translation: every compute op but
 * the fused ones. The lowering emits all of them except the load-time ops, which passes add.
 */
export type PrimitiveOp = Exclude<ComputeOp, OpsIn<'fused'>>;

/** The ops of adapter slots: one CPU kernel and one ONNX translation each, no backward pass. */
export type SlotOp = OpsIn<'slot'>;

/** The facts of one op, with its attributes typed loosely: for code that handles every op alike. */
export type AnyOpDef = OpDef<AttrSchema, OpGroup>;

export const OP_NAMES = Object.keys(OPS) as readonly OpName[];

export function isOpName(name: string): name is OpName {
  return Object.hasOwn(OPS, name);
}

export function opDef(name: OpName): AnyOpDef {
  return OPS[name] as AnyOpDef;
}

export function inGroup(name: OpName, group: OpGroup): boolean {
  return (opDef(name).groups as readonly OpGroup[]).includes(group);
}

/** The ops of a group, in table order. */
export function opsIn<G extends OpGroup>(group: G): readonly OpsIn<G>[] {
  return OP_NAMES.filter((name) => inGroup(name, group)) as OpsIn<G>[];
}

/** The dtype input `index` of `node` must hold, from its op's rule and its attributes. */
export function inputDtype(node: ProgramNode, index: number): DType {
  const rule = opDef(node.op);
  const positions = rule.i32InputsOf ? rule.i32InputsOf(node.attrs) : rule.i32Inputs;
  return positions?.includes(index) ? 'i32' : 'f32';
}

/** The output dtype of an op from its rule and the input dtypes; undefined for sources. */
export function outputDtype(name: OpName, inputs: readonly DType[]): DType | undefined {
  const rule = opDef(name).dtype;
  if (rule === 'declared') return undefined;
  return typeof rule === 'string' ? rule : inputs[rule.like];
}

export const COMPUTE_OPS = OP_NAMES.filter(
  (name) => !inGroup(name, 'source'),
) as readonly ComputeOp[];
