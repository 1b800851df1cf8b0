import type { KernelSpec, SizeExpr, Target, WeightUpload } from '../../runtime/program.js';

/** The buffers of a trained tensor: its value, its gradient, AdamW's moments [m, v], its step's hyperparameters. */
export type TrainedPart = 'param' | 'grad' | 'moments' | 'hyper';

/** One buffer a training dispatch binds. */
export type TrainingBinding =
  /** A buffer of the forward pass (activations, graph inputs, kept values). */
  | { readonly space: 'activation'; readonly buffer: number }
  | { readonly space: 'upload'; readonly upload: number }
  /** A buffer of the backward pass: a node's gradient, or a node's scratch. */
  | { readonly space: 'gradient'; readonly buffer: number }
  | { readonly space: 'trained'; readonly tensor: number; readonly part: TrainedPart }
  | { readonly space: 'labels' }
  | { readonly space: 'loss' }
  /** The run's seed and the step's number, [seed, step] u32, that the dropout masks hash. */
  | { readonly space: 'dropout' };

export interface TrainingDispatch {
  readonly kernel: number;
  /** For people reading a plan: `%12 matmul dW`. */
  readonly label: string;
  /** In binding order after the params uniform; the last one is written. */
  readonly bindings: readonly TrainingBinding[];
  readonly groups: SizeExpr;
}

export interface TrainedTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly elements: number;
}

/**
 * One training step on WebGPU, as the compiler plans it: the forward pass (with every value a
 * gradient kernel reads kept in a buffer of its own), the loss, the backward pass over the
 * nodes a trained weight reaches, AdamW and the refresh of the uploads the forward kernels read.
 */
export interface TrainingPlan {
  readonly target: Target;
  readonly kernels: readonly KernelSpec[];
  readonly uploads: readonly WeightUpload[];
  /** The f32 elements of each upload. */
  readonly uploadElements: readonly number[];
  /** Forward buffers after memory planning, in 4-byte elements. */
  readonly activations: readonly SizeExpr[];
  /** Backward buffers (gradients of values, scratch), reused by liveness, in 4-byte elements. */
  readonly gradients: readonly SizeExpr[];
  readonly trained: readonly TrainedTensor[];
  readonly inputs: readonly { readonly name: string; readonly buffer: number }[];
  /** The output the loss is taken of, its buffer, its classes and whose rows the labels are. */
  readonly output: {
    readonly name: string;
    readonly buffer: number;
    readonly classes: number;
    readonly rows: 'sequence' | 'token';
  };
  /** The forward pass of an evaluation: no dropout. */
  readonly forward: readonly TrainingDispatch[];
  /**
   * The forward pass of a training step: `forward` with each dropout site's values dropped in
   * place after the node computes them, and attention dropping its probabilities.
   */
  readonly trainForward: readonly TrainingDispatch[];
  /** The dropout probability every site drops with; 0: none, and trainForward is forward. */
  readonly dropout: number;
  /** The loss's gradient (dlogits), then the loss itself. */
  readonly loss: readonly TrainingDispatch[];
  readonly backward: readonly TrainingDispatch[];
  /** AdamW per trained tensor, then the uploads of trained weights refreshed from them. */
  readonly update: readonly TrainingDispatch[];
  /** The forward values kept for the backward pass, by node id. */
  readonly kept: readonly number[];
  /** The nodes whose gradient the backward pass computes, by node id, output first. */
  readonly gradientNodes: readonly number[];
}
