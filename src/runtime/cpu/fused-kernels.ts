import type { LinearActivation, OpsIn } from '../ops/registry.js';
import { PRIMITIVE_KERNELS, type CpuKernel, type CpuTensor } from './kernels.js';

/**
 * CPU kernels of the fused ops, written as compositions of the primitive kernels, so a fused
 * graph computes exactly what the unfused graph does (the passes are checked against this).
 */

const k = PRIMITIVE_KERNELS;
const NO_ATTRS = {};

function tensor(data: Float32Array | Int32Array, shape: readonly number[]): CpuTensor {
  return { data, shape };
}

function transpose(w: CpuTensor): CpuTensor {
  const [rows, cols] = w.shape as [number, number];
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) out[c * rows + r] = w.data[r * cols + c]!;
  return tensor(out, [cols, rows]);
}

function activate(x: CpuTensor, activation: LinearActivation): CpuTensor {
  if (activation === 'none' || activation === 'identity') return x;
  return tensor(k[activation]([x], NO_ATTRS, x.shape), x.shape);
}

function withLast(shape: readonly number[], last: number): number[] {
  return [...shape.slice(0, -1), last];
}

/** act(x·Wᵀ + b) · scale + residual. */
const linear: CpuKernel<'linear'> = (
  inputs,
  { activation, scale, bias, residual, transposeWeight },
) => {
  const [x, rawW] = inputs as [CpuTensor, CpuTensor];
  const w = transposeWeight ? transpose(rawW) : rawW;
  const shape = withLast(x.shape, w.shape[0]!);
  let out = tensor(k.matmul([x, w], NO_ATTRS, shape), shape);
  if (bias) out = tensor(k.add([out, inputs[2]!], NO_ATTRS, shape), shape);
  out = activate(out, activation);
  if (scale !== 1) out = tensor(k.scale([out], { factor: scale }, shape), shape);
  if (residual) out = tensor(k.add([inputs[inputs.length - 1]!, out], NO_ATTRS, shape), shape);
  return out.data;
};

const addLayerNorm: CpuKernel<'add_layer_norm'> = ([x, y, gamma, beta], attrs) => {
  const sum = tensor(k.add([x!, y!], NO_ATTRS, x!.shape), x!.shape);
  return k.layer_norm([sum, gamma!, beta!], attrs, x!.shape);
};

/** s · (W_up f(W_down z + b_down) + b_up). */
function scaledDelta(
  z: CpuTensor,
  weights: CpuTensor[],
  activation: LinearActivation,
  scale: number,
): CpuTensor {
  const [wd, bd, wu, bu] = weights as [CpuTensor, CpuTensor, CpuTensor, CpuTensor];
  const down = linear(
    [z, wd, bd],
    { activation, scale: 1, bias: true, residual: false, transposeWeight: false },
    [],
  );
  const downShape = withLast(z.shape, wd.shape[0]!);
  const up = linear(
    [tensor(down, downShape), wu, bu],
    { activation: 'none', scale, bias: true, residual: false, transposeWeight: false },
    [],
  );
  return tensor(up, z.shape);
}

const bottleneck: CpuKernel<'bottleneck'> = (inputs, { activations, scales, reads, residual }) => {
  const [y0, u] = inputs as [CpuTensor, CpuTensor];
  let y = y0;
  for (let i = 0; i < scales.length; i++) {
    const weights = inputs.slice(2 + 4 * i, 6 + 4 * i) as CpuTensor[];
    const delta = scaledDelta(reads[i] === 'u' ? u : y, weights, activations[i]!, scales[i]!);
    if (!residual) return delta.data;
    y = tensor(k.add([y, delta], NO_ATTRS, y.shape), y.shape);
  }
  return y.data;
};

const fusionMix: CpuKernel<'fusion_mix'> = ([q, ...outputs], { factor }) => {
  const rowShape = withLast(q!.shape, 1);
  const scores = outputs.map((o) => tensor(k.row_dot([q!, o], NO_ATTRS, rowShape), rowShape));
  const logitShape = withLast(q!.shape, outputs.length);
  const logits = tensor(k.concat(scores, NO_ATTRS, logitShape), logitShape);
  const scaled = tensor(k.scale([logits], { factor }, logitShape), logitShape);
  const alpha = tensor(k.softmax([scaled], NO_ATTRS, logitShape), logitShape);
  return k.weighted_sum([alpha, ...outputs], NO_ATTRS, q!.shape);
};

/** LN(word[ids] + position[positionIds] (+ type[typeIds])), added in the unfused graph's order. */
const embeddings: CpuKernel<'embeddings'> = (inputs, { tokenTypes, layerNorm, eps }) => {
  const [ids, word, positionIds, position] = inputs as [CpuTensor, CpuTensor, CpuTensor, CpuTensor];
  const shape = [...ids.shape, word.shape[1]!];
  const rows = (table: CpuTensor, at: CpuTensor) =>
    tensor(k.gather([table, at], NO_ATTRS, shape), shape);
  let sum = tensor(k.add([rows(word, ids), rows(position, positionIds)], NO_ATTRS, shape), shape);
  if (tokenTypes) {
    const types = rows(inputs[5]!, inputs[4]!);
    sum = tensor(k.add([sum, types], NO_ATTRS, shape), shape);
  }
  if (!layerNorm) return sum.data;
  const [gamma, beta] = inputs.slice(-2) as [CpuTensor, CpuTensor];
  return k.layer_norm([sum, gamma, beta], { eps }, shape);
};

export const FUSED_KERNELS: { readonly [O in OpsIn<'fused'>]: CpuKernel<O> } = {
  linear,
  add_layer_norm: addLayerNorm,
  bottleneck,
  fusion_mix: fusionMix,
  embeddings,
};
