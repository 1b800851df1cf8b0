import type { NodeOf } from '../../../runtime/ops/node.js';
import type { SizeExpr } from '../../../runtime/program.js';
import type { IrNode } from '../../ir/types.js';
import type { DifferentiableOp } from '../../../runtime/cpu/backward/differentiable-ops.js';

/** What a gradient kernel binds, in binding order before the one it writes. */
export type BackwardRead =
  /** dLoss/d(the node's output). */
  | { readonly kind: 'gradient' }
  /** A forward value the pass keeps for the backward pass (or a graph input). */
  | { readonly kind: 'value'; readonly node: number }
  /** A weight as stored, or transposed to [in, out] (k-major) as the forward matmul reads it. */
  | {
      readonly kind: 'weight';
      readonly node: number;
      readonly transpose: boolean;
      /** A window [start, end) of the last axis after transposing, as the forward plan splits it. */
      readonly columns?: readonly [number, number];
    }
  /** The node's scratch buffer, written by an earlier kernel of the same node. */
  | { readonly kind: 'scratch' }
  /** The run's seed and the step's number, [seed, step] u32, for the dropout masks. */
  | { readonly kind: 'dropout' };

/** What a gradient kernel writes: one input's gradient, or the node's scratch (row statistics). */
export type BackwardWrite =
  | { readonly kind: 'input'; readonly index: number }
  | { readonly kind: 'scratch'; readonly perToken: number; readonly perSequence: number };

export interface BackwardEmission {
  /** Equal names mean equal WGSL, as for the forward kernels. */
  readonly name: string;
  readonly wgsl: string;
  readonly reads: readonly BackwardRead[];
  readonly write: BackwardWrite;
  readonly groups: SizeExpr;
}

export interface BackwardContext {
  node(id: number): IrNode;
  /** Per input: whether its gradient is wanted (a trained weight reaches it). */
  readonly wanted: readonly boolean[];
  /** Per input: whether its gradient already holds another consumer's part (add to it). */
  readonly accumulate: readonly boolean[];
  /** The most bytes one storage binding may hold: a larger matmul weight is read in windows. */
  readonly maxBindingBytes: number;
  /** The dropout of this node's attention probabilities, where training drops them. */
  readonly attentionDropout?: { readonly site: number; readonly probability: number };
}

/** The gradient kernels of one node, in order; each writes what its `write` says. */
export type BackwardTemplate<O extends DifferentiableOp> = (
  node: NodeOf<O>,
  context: BackwardContext,
) => BackwardEmission[];
