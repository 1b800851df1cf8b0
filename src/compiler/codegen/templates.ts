import type { KernelTemplate } from './kernel.js';
import { attentionKernel } from './kernels/attention.js';
import { bottleneckKernel } from './kernels/bottleneck.js';
import { activationKernel, addKernel, scaleKernel, selectKernel } from './kernels/elementwise.js';
import { linearKernel } from './kernels/linear.js';
import {
  concatKernel,
  fusionMixKernel,
  layerNormKernel,
  rowDotKernel,
  softmaxKernel,
  weightedSumKernel,
} from './kernels/rows.js';

/** The WGSL template for every op that computes: one dispatch per node. */
export const KERNEL_TEMPLATES: Readonly<Record<string, KernelTemplate>> = {
  matmul: linearKernel,
  linear: linearKernel,
  add: addKernel,
  scale: scaleKernel,
  relu: activationKernel,
  gelu: activationKernel,
  gelu_tanh: activationKernel,
  silu: activationKernel,
  tanh: activationKernel,
  layer_norm: layerNormKernel,
  add_layer_norm: layerNormKernel,
  attention: attentionKernel,
  row_dot: rowDotKernel,
  concat: concatKernel,
  softmax: softmaxKernel,
  weighted_sum: weightedSumKernel,
  select: selectKernel,
  bottleneck: bottleneckKernel,
  fusion_mix: fusionMixKernel,
};
