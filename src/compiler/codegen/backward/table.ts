import {
  BackwardError,
  type DifferentiableOp,
} from '../../../runtime/cpu/backward/differentiable-ops.js';
import type { NodeOf } from '../../../runtime/ops/node.js';
import { attentionBackward } from './attention.js';
import { activationBackward, addBackward, mulBackward, scaleBackward } from './elementwise.js';
import { layerNormBackward } from './layer-norm.js';
import { matmulBackward } from './matmul.js';
import { concatBackward, rowDotBackward, softmaxBackward, weightedSumBackward } from './rows.js';
import { firstTokenBackward, selectBackward, tokenMeanBackward } from './tokens.js';
import type { BackwardContext, BackwardEmission, BackwardTemplate } from './types.js';

/** The tables (word, position, type embeddings) stay frozen: nothing flows into them. */
const gatherBackward: BackwardTemplate<'gather'> = (node, context) => {
  if (context.wanted[0]) {
    throw new BackwardError(
      `node %${node.id} is a gather of an embedding table, which training keeps frozen: train adapter, fusion or head weights only`,
    );
  }
  return [];
};

/** One gradient template per op the CPU reference has a VJP for (its VJPS table). */
export const BACKWARD_TEMPLATES: { readonly [O in DifferentiableOp]: BackwardTemplate<O> } = {
  matmul: matmulBackward,
  add: addBackward,
  mul: mulBackward,
  scale: scaleBackward,
  relu: activationBackward,
  gelu: activationBackward,
  gelu_tanh: activationBackward,
  silu: activationBackward,
  tanh: activationBackward,
  sigmoid: activationBackward,
  leaky_relu: activationBackward,
  layer_norm: layerNormBackward,
  attention: attentionBackward,
  row_dot: rowDotBackward,
  concat: concatBackward,
  softmax: softmaxBackward,
  weighted_sum: weightedSumBackward,
  gather: gatherBackward,
  first_token: firstTokenBackward,
  token_mean: tokenMeanBackward,
  select: selectBackward,
};

/** The gradient kernels of one node from its op's template. */
export function emitBackward<O extends DifferentiableOp>(
  node: NodeOf<O>,
  context: BackwardContext,
): BackwardEmission[] {
  const templates: { readonly [P in DifferentiableOp]: BackwardTemplate<P> } = BACKWARD_TEMPLATES;
  const template = templates[node.op];
  return template(node, context);
}
