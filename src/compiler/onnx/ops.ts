import type { NodeOf } from '../../runtime/ops/node.js';
import type { Shape } from '../../runtime/program.js';
import type {
  ActivationName,
  LinearActivation,
  PrimitiveOp,
  SlotOp,
} from '../../runtime/ops/registry.js';
import type { Visibility } from './mask.js';
import { float, int, ints, type OnnxAttr } from './proto.js';

/**
 * The ops with an ONNX translation: every op the lowering emits, the load-time `weight_product`,
 * and the `linear` that the graph-level rewrites (fusion-algebra.ts, fold-query.ts) emit, which
 * an optimized export keeps.
 */
export type TranslatedOp = PrimitiveOp | 'linear';

/** What a translation sees of the IR node it translates and how it emits ONNX nodes. */
export interface TranslationContext<O extends TranslatedOp = TranslatedOp> {
  readonly node: NodeOf<O>;
  /** ONNX value names of the node's inputs, in order. */
  readonly inputs: readonly string[];
  /** The IR shapes of the node's inputs, in order. */
  readonly inputShapes: readonly Shape[];
  /** Appends one ONNX node with one output and returns the output's name. */
  emit(
    opType: string,
    inputs: readonly string[],
    attrs?: Readonly<Record<string, OnnxAttr>>,
    domain?: string,
  ): string;
  f32(value: number): string;
  i32(value: number): string;
  i64(values: readonly number[]): string;
  /**
   * inputs[0] · inputs[1] with input `transposed` read transposed (a PyTorch-layout weight
   * [out, in] as [in, out]): a MatMul after one Transpose per weight, or for an export that only
   * ONNX Runtime runs and `transposed` 1, its FusedMatMul with transB, which leaves it no weight
   * to transpose when it creates the session.
   */
  matmulTransposed(transposed: 0 | 1): string;
  /** Which keys each query sees, as bool and as float 0/1: [B,1,1,T], or [B,1,T,T] when causal. */
  visibility(mask: string, causal: boolean): Visibility;
}

/** Returns the ONNX value name of the node's result. */
export type Translation<O extends TranslatedOp = TranslatedOp> = (
  ctx: TranslationContext<O>,
) => string;

/** Scores of hidden keys before the softmax: exp() of it minus any finite maximum is exactly 0. */
export const MASKED_SCORE = -1e30;

const unaryOp =
  <O extends PrimitiveOp>(opType: string): Translation<O> =>
  (ctx) =>
    ctx.emit(opType, [ctx.inputs[0]!]);

/** 0.5 · x · (1 + erf(x / √2)), GELU's exact form (opset 17 has no Gelu op). */
const gelu: Translation<'gelu'> = (ctx) => {
  const x = ctx.inputs[0]!;
  const erf = ctx.emit('Erf', [ctx.emit('Div', [x, ctx.f32(Math.SQRT2)])]);
  const half = ctx.emit('Mul', [x, ctx.f32(0.5)]);
  return ctx.emit('Mul', [half, ctx.emit('Add', [erf, ctx.f32(1)])]);
};

/** 0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 x³))). */
const geluTanh: Translation<'gelu_tanh'> = (ctx) => {
  const x = ctx.inputs[0]!;
  const cube = ctx.emit('Mul', [ctx.emit('Mul', [x, x]), x]);
  const inner = ctx.emit('Add', [x, ctx.emit('Mul', [cube, ctx.f32(0.044715)])]);
  const tanh = ctx.emit('Tanh', [ctx.emit('Mul', [inner, ctx.f32(Math.sqrt(2 / Math.PI))])]);
  const half = ctx.emit('Mul', [x, ctx.f32(0.5)]);
  return ctx.emit('Mul', [half, ctx.emit('Add', [tanh, ctx.f32(1)])]);
};

/**
 * Multi-head attention on q, k, v [B,T,d]: heads split to [B,h,T,dh], scores q·kᵀ/√dh, hidden
 * keys set to MASKED_SCORE, softmax, then the probabilities multiplied by the visibility (0/1),
 * which changes nothing where a query sees a key and makes a query that sees none output zeros,
 * as the reference does. Heads are merged back to [B,T,d].
 */
const attention: Translation<'attention'> = (ctx) => {
  const [q, k, v, mask] = ctx.inputs as [string, string, string, string];
  const d = ctx.node.shape[2] as number;
  const { heads, causal } = ctx.node.attrs;
  const dh = d / heads;
  const split = ctx.i64([0, 0, heads, dh]);
  const toHeads = (x: string, perm: readonly number[]) =>
    ctx.emit('Transpose', [ctx.emit('Reshape', [x, split])], { perm: ints(perm) });
  const qh = toHeads(q, [0, 2, 1, 3]);
  const kt = toHeads(k, [0, 2, 3, 1]);
  const vh = toHeads(v, [0, 2, 1, 3]);
  const scores = ctx.emit('Mul', [ctx.emit('MatMul', [qh, kt]), ctx.f32(1 / Math.sqrt(dh))]);
  const visible = ctx.visibility(mask, causal);
  const masked = ctx.emit('Where', [visible.bool, scores, ctx.f32(MASKED_SCORE)]);
  const probs = ctx.emit('Mul', [ctx.emit('Softmax', [masked], { axis: int(-1) }), visible.float]);
  const context = ctx.emit('Transpose', [ctx.emit('MatMul', [probs, vh])], {
    perm: ints([0, 2, 1, 3]),
  });
  return ctx.emit('Reshape', [context, ctx.i64([0, 0, d])]);
};

/**
 * Σ_i α[..., i:i+1] · v_i, as a chain of Adds rather than one Sum: onnxruntime-web's WebGPU
 * provider has no Sum kernel and would run it on the CPU.
 */
const weightedSum: Translation<'weighted_sum'> = (ctx) => {
  const [alpha, ...values] = ctx.inputs as [string, ...string[]];
  const terms = values.map((value, i) => {
    const weight = ctx.emit('Slice', [alpha, ctx.i64([i]), ctx.i64([i + 1]), ctx.i64([-1])]);
    return ctx.emit('Mul', [weight, value]);
  });
  return terms.slice(1).reduce((sum, term) => ctx.emit('Add', [sum, term]), terms[0]!);
};

/**
 * Per sequence b the row of branch index[b]: a chain of Where(index == i, branch_i, …) starting
 * from branch 0, with the condition unsqueezed to [B,1,…]. An index out of range selects branch 0
 * (the adaptc runtime rejects it instead).
 */
const select: Translation<'select'> = (ctx) => {
  const [index, ...branches] = ctx.inputs as [string, ...string[]];
  const rank = ctx.node.shape.length;
  const axes = ctx.i64(Array.from({ length: rank - 1 }, (_, i) => i + 1));
  let out = branches[0]!;
  for (let i = 1; i < branches.length; i++) {
    const chosen = ctx.emit('Unsqueeze', [ctx.emit('Equal', [index, ctx.i32(i)]), axes]);
    out = ctx.emit('Where', [chosen, branches[i]!, out]);
  }
  return out;
};

/**
 * Rows of table [n, d] at ids [B,T] → [B,T,d]. Ids are clipped to 0..n-1 first, as the CPU and
 * WebGPU kernels clamp them: ONNX's Gather would count a negative id from the end and stop at
 * one past it.
 */
const gather: Translation<'gather'> = (ctx) => {
  const [table, ids] = ctx.inputs as [string, string];
  const rows = ctx.inputShapes[0]![0] as number;
  const clipped = ctx.emit('Clip', [ids, ctx.i32(0), ctx.i32(rows - 1)]);
  return ctx.emit('Gather', [table, clipped], { axis: int(0) });
};

/** An activation of a fused op's attribute on one value, as the activation op translates. */
function activate(
  ctx: TranslationContext<SlotOp>,
  value: string,
  activation: LinearActivation,
): string {
  if (activation === 'none' || activation === 'identity') return value;
  const translation = ONNX_TRANSLATIONS[activation] as Translation<ActivationName>;
  return translation({ ...ctx, inputs: [value] } as unknown as TranslationContext<ActivationName>);
}

/** Slot s = index[b] of a stacked tensor [S, ...]: Gather, [B, ...]. */
const perSequence = (ctx: TranslationContext<SlotOp>, stacked: string, index: string) =>
  ctx.emit('Gather', [stacked, index], { axis: int(0) });

/** x [B, T, n] times each sequence's W [B, out, n] transposed, plus its bias [B, out]. */
function batchedLinear(
  ctx: TranslationContext<SlotOp>,
  x: string,
  w: string,
  b: string,
  index: string,
): string {
  const weight = ctx.emit('Transpose', [perSequence(ctx, w, index)], { perm: ints([0, 2, 1]) });
  const bias = ctx.emit('Unsqueeze', [perSequence(ctx, b, index), ctx.i64([1])]);
  return ctx.emit('Add', [ctx.emit('MatMul', [x, weight]), bias]);
}

/** residual + scale[s] · (W_up_s · act(W_down_s · z + b_down_s) + b_up_s), batched per sequence. */
const slotBottleneck: Translation<'slot_bottleneck'> = (ctx) => {
  const [residual, z, slot, wd, bd, wu, bu, scale] = ctx.inputs as string[] as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const down = activate(ctx, batchedLinear(ctx, z, wd, bd, slot), ctx.node.attrs.activation);
  const up = batchedLinear(ctx, down, wu, bu, slot);
  const factor = ctx.emit('Reshape', [perSequence(ctx, scale, slot), ctx.i64([-1, 1, 1])]);
  return ctx.emit('Add', [residual, ctx.emit('Mul', [up, factor])]);
};

/** act(x · W_sᵀ + b_s); a head's x [B, n] as [B, 1, n] for the batched MatMul. */
const slotLinear: Translation<'slot_linear'> = (ctx) => {
  const [x, slot, w, b] = ctx.inputs as [string, string, string, string];
  const rows = ctx.inputShapes[0]!.length === 2;
  const input = rows ? ctx.emit('Unsqueeze', [x, ctx.i64([1])]) : x;
  const out = activate(ctx, batchedLinear(ctx, input, w, b, slot), ctx.node.attrs.activation);
  return rows ? ctx.emit('Squeeze', [out, ctx.i64([1])]) : out;
};

/**
 * One ONNX translation per IR op of the unfused graph (sources, `input` and `weight`, are graph
 * inputs and initializers, handled by the exporter). The fused ops have none: export the graph
 * as lowered.
 */
export const ONNX_TRANSLATIONS: { readonly [O in PrimitiveOp]: Translation<O> } = {
  matmul: (ctx) => ctx.matmulTransposed(1),
  add: (ctx) => ctx.emit('Add', [ctx.inputs[0]!, ctx.inputs[1]!]),
  // ONNX broadcasts from the right as the IR does: b [d], [1] or [B,1,1] onto a [B,T,d].
  mul: (ctx) => ctx.emit('Mul', [ctx.inputs[0]!, ctx.inputs[1]!]),
  scale: (ctx) => ctx.emit('Mul', [ctx.inputs[0]!, ctx.f32(ctx.node.attrs.factor)]),
  relu: unaryOp('Relu'),
  gelu,
  gelu_tanh: geluTanh,
  silu: (ctx) => ctx.emit('Mul', [ctx.inputs[0]!, ctx.emit('Sigmoid', [ctx.inputs[0]!])]),
  tanh: unaryOp('Tanh'),
  layer_norm: (ctx) =>
    ctx.emit('LayerNormalization', [...ctx.inputs], {
      axis: int(-1),
      epsilon: float(ctx.node.attrs.eps),
    }),
  attention,
  row_dot: (ctx) =>
    ctx.emit('ReduceSum', [ctx.emit('Mul', [ctx.inputs[0]!, ctx.inputs[1]!]), ctx.i64([-1])], {
      keepdims: int(1),
    }),
  concat: (ctx) => ctx.emit('Concat', [...ctx.inputs], { axis: int(-1) }),
  softmax: (ctx) => ctx.emit('Softmax', [ctx.inputs[0]!], { axis: int(-1) }),
  weighted_sum: weightedSum,
  sigmoid: unaryOp('Sigmoid'),
  leaky_relu: (ctx) => ctx.emit('LeakyRelu', [ctx.inputs[0]!], { alpha: float(0.01) }),
  gather,
  // Row 0 of each sequence: a scalar index drops the T axis, [B,T,d] → [B,d].
  first_token: (ctx) => ctx.emit('Gather', [ctx.inputs[0]!, ctx.i32(0)], { axis: int(1) }),
  // Opset 17's ReduceMean takes its axes as an attribute (opset 18 made them an input).
  token_mean: (ctx) =>
    ctx.emit('ReduceMean', [ctx.inputs[0]!], { axes: ints([1]), keepdims: int(1) }),
  select,
  // Aᵀ·B of initializers: ONNX Runtime folds it to a constant when it creates the session.
  weight_product: (ctx) => ctx.matmulTransposed(0),
  slot_bottleneck: slotBottleneck,
  slot_linear: slotLinear,
};

/** Translates `ctx.node` with its op's translation. */
export function translate<O extends PrimitiveOp>(ctx: TranslationContext<O>): string {
  const translation: Translation<O> = ONNX_TRANSLATIONS[ctx.node.op];
  return translation(ctx);
}
