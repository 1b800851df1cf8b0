import { activations } from '../math.js';
import type { OpAttrs } from '../../ops/registry.js';
import { broadcastIndex, lastDim, rowCount, type Value64 } from './values.js';
import type { DifferentiableOp } from './differentiable-ops.js';

/**
 * The CPU reference's kernels (kernels.ts) once more, every value kept in f64: the same formulas
 * in the same order, without rounding each node's output to f32. The backward pass runs on these
 * values, and finite differences of them are exact to about 1e-10.
 */
export type ForwardKernel<O extends DifferentiableOp> = (
  inputs: readonly Value64[],
  attrs: OpAttrs<O>,
  outShape: readonly number[],
) => Float64Array | Int32Array;

function unary<O extends DifferentiableOp>(f: (x: number) => number): ForwardKernel<O> {
  return ([x]) => Float64Array.from(x!.data, f);
}

function broadcast<O extends 'add' | 'mul'>(f: (a: number, b: number) => number): ForwardKernel<O> {
  return ([a, b]) => {
    const index = broadcastIndex(a!.shape, b!.shape);
    const out = new Float64Array(a!.data.length);
    for (let i = 0; i < out.length; i++) out[i] = f(a!.data[i]!, b!.data[index[i]!]!);
    return out;
  };
}

const matmul: ForwardKernel<'matmul'> = ([x, w]) => {
  const k = lastDim(x!);
  const n = w!.shape[0]!;
  const m = rowCount(x!);
  const out = new Float64Array(m * n);
  for (let row = 0; row < m; row++) {
    for (let col = 0; col < n; col++) {
      let sum = 0;
      for (let i = 0; i < k; i++) sum += x!.data[row * k + i]! * w!.data[col * k + i]!;
      out[row * n + col] = sum;
    }
  }
  return out;
};

const layerNorm: ForwardKernel<'layer_norm'> = ([x, gamma, beta], { eps }) => {
  const d = lastDim(x!);
  const out = new Float64Array(x!.data.length);
  for (let row = 0; row < rowCount(x!); row++) {
    const o = row * d;
    let mean = 0;
    for (let i = 0; i < d; i++) mean += x!.data[o + i]!;
    mean /= d;
    let variance = 0;
    for (let i = 0; i < d; i++) variance += (x!.data[o + i]! - mean) ** 2;
    variance /= d;
    const inv = 1 / Math.sqrt(variance + eps);
    for (let i = 0; i < d; i++) {
      out[o + i] = (x!.data[o + i]! - mean) * inv * gamma!.data[i]! + beta!.data[i]!;
    }
  }
  return out;
};

/**
 * The attention probabilities of query i of sequence b and head h over the seq keys, written to
 * `probs`; false where the query sees no key (its output is zeros, as in the CPU reference).
 */
export function attentionProbabilities(
  [q, k, , mask]: readonly Value64[],
  { heads, causal }: OpAttrs<'attention'>,
  b: number,
  h: number,
  i: number,
  probs: Float64Array,
): boolean {
  const [, seq, d] = q!.shape as [number, number, number];
  const dh = d / heads;
  const scale = 1 / Math.sqrt(dh);
  const qo = (b * seq + i) * d + h * dh;
  let max = -Infinity;
  for (let j = 0; j < seq; j++) {
    if (mask!.data[b * seq + j] === 0 || (causal && j > i)) {
      probs[j] = -Infinity;
      continue;
    }
    const ko = (b * seq + j) * d + h * dh;
    let dot = 0;
    for (let c = 0; c < dh; c++) dot += q!.data[qo + c]! * k!.data[ko + c]!;
    probs[j] = dot * scale;
    if (probs[j]! > max) max = probs[j]!;
  }
  if (max === -Infinity) return false;
  let total = 0;
  for (let j = 0; j < seq; j++) {
    probs[j] = probs[j] === -Infinity ? 0 : Math.exp(probs[j]! - max);
    total += probs[j]!;
  }
  for (let j = 0; j < seq; j++) probs[j]! /= total;
  return true;
}

/**
 * Attention with each probability P_ij times factors[((b·H + h)·T + i)·T + j] where factors are
 * given (dropout of the probabilities: 0 or 1/(1 − p)), as the probabilities are without.
 */
export function attentionOutput(
  inputs: readonly Value64[],
  attrs: OpAttrs<'attention'>,
  factors?: Float64Array,
): Float64Array {
  const [q, , v] = inputs;
  const [batch, seq, d] = q!.shape as [number, number, number];
  const dh = d / attrs.heads;
  const out = new Float64Array(q!.data.length);
  const probs = new Float64Array(seq);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < attrs.heads; h++) {
      for (let i = 0; i < seq; i++) {
        if (!attentionProbabilities(inputs, attrs, b, h, i, probs)) continue;
        if (factors) {
          const fo = ((b * attrs.heads + h) * seq + i) * seq;
          for (let j = 0; j < seq; j++) probs[j]! *= factors[fo + j]!;
        }
        const qo = (b * seq + i) * d + h * dh;
        for (let c = 0; c < dh; c++) {
          let sum = 0;
          for (let j = 0; j < seq; j++) sum += probs[j]! * v!.data[(b * seq + j) * d + h * dh + c]!;
          out[qo + c] = sum;
        }
      }
    }
  }
  return out;
}

const attention: ForwardKernel<'attention'> = (inputs, attrs) => attentionOutput(inputs, attrs);

const rowDot: ForwardKernel<'row_dot'> = ([a, b]) => {
  const d = lastDim(a!);
  const out = new Float64Array(rowCount(a!));
  for (let row = 0; row < out.length; row++) {
    let sum = 0;
    for (let i = 0; i < d; i++) sum += a!.data[row * d + i]! * b!.data[row * d + i]!;
    out[row] = sum;
  }
  return out;
};

const concat: ForwardKernel<'concat'> = (inputs) => {
  const n = inputs.length;
  const count = inputs[0]!.data.length;
  const out = new Float64Array(count * n);
  for (let row = 0; row < count; row++) {
    for (let i = 0; i < n; i++) out[row * n + i] = inputs[i]!.data[row]!;
  }
  return out;
};

const softmax: ForwardKernel<'softmax'> = ([x]) => {
  const n = lastDim(x!);
  const out = new Float64Array(x!.data.length);
  for (let row = 0; row < rowCount(x!); row++) {
    const o = row * n;
    let max = -Infinity;
    for (let i = 0; i < n; i++) max = Math.max(max, x!.data[o + i]!);
    let total = 0;
    for (let i = 0; i < n; i++) total += out[o + i] = Math.exp(x!.data[o + i]! - max);
    for (let i = 0; i < n; i++) out[o + i]! /= total;
  }
  return out;
};

const weightedSum: ForwardKernel<'weighted_sum'> = ([alpha, ...values]) => {
  const n = values.length;
  const d = lastDim(values[0]!);
  const out = new Float64Array(values[0]!.data.length);
  for (let row = 0; row < out.length / d; row++) {
    for (let c = 0; c < d; c++) {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += alpha!.data[row * n + i]! * values[i]!.data[row * d + c]!;
      out[row * d + c] = sum;
    }
  }
  return out;
};

const gather: ForwardKernel<'gather'> = ([table, ids]) => {
  const [count, d] = table!.shape as [number, number];
  const out = new Float64Array(ids!.data.length * d);
  for (let i = 0; i < ids!.data.length; i++) {
    const row = Math.min(Math.max(ids!.data[i]!, 0), count - 1);
    for (let c = 0; c < d; c++) out[i * d + c] = table!.data[row * d + c]!;
  }
  return out;
};

const firstToken: ForwardKernel<'first_token'> = ([x]) => {
  const [batch, seq] = x!.shape as [number, number];
  const width = x!.data.length / (batch * seq);
  const out = new Float64Array(batch * width);
  for (let b = 0; b < batch; b++) {
    for (let c = 0; c < width; c++) out[b * width + c] = x!.data[b * seq * width + c]!;
  }
  return out;
};

const tokenMean: ForwardKernel<'token_mean'> = ([x]) => {
  const [batch, seq, width] = x!.shape as [number, number, number];
  const out = new Float64Array(batch * width);
  for (let b = 0; b < batch; b++) {
    for (let c = 0; c < width; c++) {
      let sum = 0;
      for (let t = 0; t < seq; t++) sum += x!.data[(b * seq + t) * width + c]!;
      out[b * width + c] = sum / seq;
    }
  }
  return out;
};

const select: ForwardKernel<'select'> = ([index, ...branches]) => {
  const first = branches[0]!;
  const perSequence = first.data.length / first.shape[0]!;
  const out =
    first.data instanceof Int32Array
      ? new Int32Array(first.data.length)
      : new Float64Array(first.data.length);
  for (let b = 0; b < first.shape[0]!; b++) {
    const branch = branches[index!.data[b]!]!;
    out.set(branch.data.subarray(b * perSequence, (b + 1) * perSequence), b * perSequence);
  }
  return out;
};

export const FORWARD_KERNELS: { readonly [O in DifferentiableOp]: ForwardKernel<O> } = {
  matmul,
  add: broadcast((a, b) => a + b),
  mul: broadcast((a, b) => a * b),
  scale: ([x], { factor }) => Float64Array.from(x!.data, (v) => v * factor),
  relu: unary(activations.relu),
  gelu: unary(activations.gelu),
  gelu_tanh: unary(activations.gelu_tanh),
  silu: unary(activations.silu),
  tanh: unary(activations.tanh),
  sigmoid: unary(activations.sigmoid),
  leaky_relu: unary(activations.leaky_relu),
  layer_norm: layerNorm,
  attention,
  row_dot: rowDot,
  concat,
  softmax,
  weighted_sum: weightedSum,
  gather,
  first_token: firstToken,
  token_mean: tokenMean,
  select,
};
