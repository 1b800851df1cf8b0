import type { NodeOf } from '../../runtime/ops/node.js';
import type { ComputeOp } from '../../runtime/ops/registry.js';
import type { KernelContext, KernelEmission, KernelTemplate } from './kernel.js';
import { attentionKernel } from './kernels/attention.js';
import { bottleneckKernel } from './kernels/bottleneck.js';
import { embeddingsKernel, firstTokenKernel, gatherKernel } from './kernels/embeddings.js';
import {
  activationKernel,
  addKernel,
  mulKernel,
  scaleKernel,
  selectKernel,
} from './kernels/elementwise.js';
import { linearKernel } from './kernels/linear.js';
import {
  concatKernel,
  fusionMixKernel,
  layerNormKernel,
  rowDotKernel,
  softmaxKernel,
  weightedSumKernel,
} from './kernels/rows.js';
import { slotBottleneckKernel } from './kernels/slot-bottleneck.js';
import { slotLinearKernel } from './kernels/slot-linear.js';
import { tokenMeanKernel } from './kernels/token-mean.js';
import { weightProductKernel } from './kernels/weight-product.js';

/** One template per op that computes; an op the registry adds without one is a type error. */
export type KernelTemplates = { readonly [O in ComputeOp]: KernelTemplate<O> };

/**
 * The WGSL template for every op that computes: one dispatch per node, in the forward pass or,
 * for a load-time node, once at load.
 */
export const KERNEL_TEMPLATES = {
  matmul: linearKernel,
  linear: linearKernel,
  add: addKernel,
  mul: mulKernel,
  scale: scaleKernel,
  relu: activationKernel,
  gelu: activationKernel,
  gelu_tanh: activationKernel,
  silu: activationKernel,
  tanh: activationKernel,
  sigmoid: activationKernel,
  leaky_relu: activationKernel,
  layer_norm: layerNormKernel,
  add_layer_norm: layerNormKernel,
  attention: attentionKernel,
  row_dot: rowDotKernel,
  concat: concatKernel,
  softmax: softmaxKernel,
  weighted_sum: weightedSumKernel,
  gather: gatherKernel,
  first_token: firstTokenKernel,
  token_mean: tokenMeanKernel,
  select: selectKernel,
  bottleneck: bottleneckKernel,
  fusion_mix: fusionMixKernel,
  embeddings: embeddingsKernel,
  weight_product: weightProductKernel,
  slot_bottleneck: slotBottleneckKernel,
  slot_linear: slotLinearKernel,
} satisfies KernelTemplates;

/**
 * The kernel of one node from its op's template. Indexing the table through its mapped type gives
 * `KernelTemplate<O>` for the node's own op, so the call type-checks for every op without a cast.
 */
export function emitKernel<O extends ComputeOp>(
  node: NodeOf<O>,
  context: KernelContext,
): KernelEmission {
  const templates: KernelTemplates = KERNEL_TEMPLATES;
  const template = templates[node.op];
  return template(node, context);
}
