import { erf } from '../math.js';
import type { ActivationName, OpAttrs } from '../../ops/registry.js';
import { attentionProbabilities } from './forward-kernels.js';
import { BackwardError, type DifferentiableOp } from './differentiable-ops.js';
import { broadcastIndex, lastDim, rowCount, type Value64 } from './values.js';

/**
 * Vector-Jacobian products, one per op, in f64: given the op's inputs, its output and the
 * gradient of the loss with respect to that output, the gradient with respect to each input
 * that `wanted` marks (undefined for the others). i32 inputs never get one.
 */
export type Vjp<O extends DifferentiableOp> = (
  inputs: readonly Value64[],
  output: Value64,
  grad: Float64Array,
  attrs: OpAttrs<O>,
  wanted: readonly boolean[],
) => (Float64Array | undefined)[];

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** The derivative of each activation at x. */
export const ACTIVATION_DERIVATIVES: { readonly [A in ActivationName]: (x: number) => number } = {
  relu: (x) => (x > 0 ? 1 : 0),
  gelu: (x) => 0.5 * (1 + erf(x / Math.SQRT2)) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x),
  gelu_tanh: (x) => {
    const t = Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x));
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x);
  },
  silu: (x) => {
    const s = 1 / (1 + Math.exp(-x));
    return s * (1 + x * (1 - s));
  },
  tanh: (x) => 1 - Math.tanh(x) ** 2,
  sigmoid: (x) => {
    const s = 1 / (1 + Math.exp(-x));
    return s * (1 - s);
  },
  leaky_relu: (x) => (x > 0 ? 1 : 0.01),
};

function activationVjp<O extends ActivationName>(name: O): Vjp<O> {
  const derivative = ACTIVATION_DERIVATIVES[name];
  return ([x], _output, grad) => [Float64Array.from(grad, (g, i) => g * derivative(x!.data[i]!))];
}

/** a ∘ b with b broadcast onto a: b's gradient sums over the axes it was broadcast along. */
function broadcastVjp<O extends 'add' | 'mul'>(product: boolean): Vjp<O> {
  return ([a, b], _output, grad, _attrs, wanted) => {
    const index = broadcastIndex(a!.shape, b!.shape);
    let da: Float64Array | undefined;
    let db: Float64Array | undefined;
    if (wanted[0]) {
      da = product ? Float64Array.from(grad, (g, i) => g * b!.data[index[i]!]!) : grad.slice();
    }
    if (wanted[1]) {
      db = new Float64Array(b!.data.length);
      for (let i = 0; i < grad.length; i++) {
        db[index[i]!]! += product ? grad[i]! * a!.data[i]! : grad[i]!;
      }
    }
    return [da, db];
  };
}

const matmul: Vjp<'matmul'> = ([x, w], _output, grad, _attrs, wanted) => {
  const k = lastDim(x!);
  const n = w!.shape[0]!;
  const m = rowCount(x!);
  const dx = wanted[0] ? new Float64Array(m * k) : undefined;
  const dw = wanted[1] ? new Float64Array(n * k) : undefined;
  for (let row = 0; row < m; row++) {
    for (let col = 0; col < n; col++) {
      const g = grad[row * n + col]!;
      if (g === 0) continue;
      for (let i = 0; i < k; i++) {
        if (dx) dx[row * k + i]! += g * w!.data[col * k + i]!;
        if (dw) dw[col * k + i]! += g * x!.data[row * k + i]!;
      }
    }
  }
  return [dx, dw];
};

const layerNorm: Vjp<'layer_norm'> = ([x, gamma], _output, grad, { eps }, wanted) => {
  const d = lastDim(x!);
  const dx = wanted[0] ? new Float64Array(x!.data.length) : undefined;
  const dgamma = wanted[1] ? new Float64Array(d) : undefined;
  const dbeta = wanted[2] ? new Float64Array(d) : undefined;
  const normalized = new Float64Array(d);
  for (let row = 0; row < rowCount(x!); row++) {
    const o = row * d;
    let mean = 0;
    for (let i = 0; i < d; i++) mean += x!.data[o + i]!;
    mean /= d;
    let variance = 0;
    for (let i = 0; i < d; i++) variance += (x!.data[o + i]! - mean) ** 2;
    variance /= d;
    const inv = 1 / Math.sqrt(variance + eps);
    let sumG = 0;
    let sumGN = 0;
    for (let i = 0; i < d; i++) {
      normalized[i] = (x!.data[o + i]! - mean) * inv;
      const g = grad[o + i]! * gamma!.data[i]!;
      sumG += g;
      sumGN += g * normalized[i]!;
      if (dgamma) dgamma[i]! += grad[o + i]! * normalized[i]!;
      if (dbeta) dbeta[i]! += grad[o + i]!;
    }
    if (!dx) continue;
    // dx = inv/d · (d·ĝ − Σĝ − x̂·Σ(ĝ·x̂)) with ĝ = grad·γ, the biased variance's derivative.
    for (let i = 0; i < d; i++) {
      const g = grad[o + i]! * gamma!.data[i]!;
      dx[o + i] = (inv / d) * (d * g - sumG - normalized[i]! * sumGN);
    }
  }
  return [dx, dgamma, dbeta];
};

/**
 * Attention's VJP; with `factors` (dropout of the probabilities, as attentionOutput takes them)
 * the output is Σ_j P_ij·m_ij·v_j, so dv_j gets P·m·g and dP_ij = m_ij·(g·v_j).
 */
export function attentionVjp(
  inputs: readonly Value64[],
  grad: Float64Array,
  attrs: OpAttrs<'attention'>,
  wanted: readonly boolean[],
  factors?: Float64Array,
): (Float64Array | undefined)[] {
  const [q, k, v] = inputs;
  const [batch, seq, d] = q!.shape as [number, number, number];
  const dh = d / attrs.heads;
  const scale = 1 / Math.sqrt(dh);
  const dq = wanted[0] ? new Float64Array(q!.data.length) : undefined;
  const dk = wanted[1] ? new Float64Array(k!.data.length) : undefined;
  const dv = wanted[2] ? new Float64Array(v!.data.length) : undefined;
  const probs = new Float64Array(seq);
  const dScores = new Float64Array(seq);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < attrs.heads; h++) {
      for (let i = 0; i < seq; i++) {
        if (!attentionProbabilities(inputs, attrs, b, h, i, probs)) continue;
        const qo = (b * seq + i) * d + h * dh;
        const fo = ((b * attrs.heads + h) * seq + i) * seq;
        // dP_j = m_j·(g·v_j); dS_j = P_j (dP_j − Σ P dP), the softmax's VJP.
        let weighted = 0;
        for (let j = 0; j < seq; j++) {
          if (probs[j] === 0) {
            dScores[j] = 0;
            continue;
          }
          const m = factors ? factors[fo + j]! : 1;
          const vo = (b * seq + j) * d + h * dh;
          let dp = 0;
          for (let c = 0; c < dh; c++) {
            dp += grad[qo + c]! * v!.data[vo + c]!;
            if (dv) dv[vo + c]! += probs[j]! * m * grad[qo + c]!;
          }
          dp *= m;
          dScores[j] = dp;
          weighted += probs[j]! * dp;
        }
        for (let j = 0; j < seq; j++) {
          if (probs[j] === 0) continue;
          const ds = probs[j]! * (dScores[j]! - weighted) * scale;
          const ko = (b * seq + j) * d + h * dh;
          for (let c = 0; c < dh; c++) {
            if (dq) dq[qo + c]! += ds * k!.data[ko + c]!;
            if (dk) dk[ko + c]! += ds * q!.data[qo + c]!;
          }
        }
      }
    }
  }
  return [dq, dk, dv, undefined];
}

const attention: Vjp<'attention'> = (inputs, _output, grad, attrs, wanted) =>
  attentionVjp(inputs, grad, attrs, wanted);

const rowDot: Vjp<'row_dot'> = ([a, b], _output, grad, _attrs, wanted) => {
  const d = lastDim(a!);
  const da = wanted[0]
    ? Float64Array.from(b!.data, (v, i) => v * grad[Math.floor(i / d)]!)
    : undefined;
  const db = wanted[1]
    ? Float64Array.from(a!.data, (v, i) => v * grad[Math.floor(i / d)]!)
    : undefined;
  return [da, db];
};

const concat: Vjp<'concat'> = (inputs, _output, grad, _attrs, wanted) => {
  const n = inputs.length;
  return inputs.map((input, i) =>
    wanted[i] ? Float64Array.from(input.data, (_, row) => grad[row * n + i]!) : undefined,
  );
};

const softmax: Vjp<'softmax'> = ([x], output, grad) => {
  const n = lastDim(x!);
  const y = output.data;
  const dx = new Float64Array(x!.data.length);
  for (let row = 0; row < rowCount(x!); row++) {
    const o = row * n;
    let weighted = 0;
    for (let i = 0; i < n; i++) weighted += grad[o + i]! * y[o + i]!;
    for (let i = 0; i < n; i++) dx[o + i] = y[o + i]! * (grad[o + i]! - weighted);
  }
  return [dx];
};

const weightedSum: Vjp<'weighted_sum'> = ([alpha, ...values], _output, grad, _attrs, wanted) => {
  const n = values.length;
  const d = lastDim(values[0]!);
  const rows = grad.length / d;
  const dAlpha = wanted[0] ? new Float64Array(alpha!.data.length) : undefined;
  const dValues = values.map((value, i) =>
    wanted[i + 1] ? new Float64Array(value.data.length) : undefined,
  );
  for (let row = 0; row < rows; row++) {
    for (let i = 0; i < n; i++) {
      const a = alpha!.data[row * n + i]!;
      const dValue = dValues[i];
      let sum = 0;
      for (let c = 0; c < d; c++) {
        const g = grad[row * d + c]!;
        sum += g * values[i]!.data[row * d + c]!;
        if (dValue) dValue[row * d + c] = a * g;
      }
      if (dAlpha) dAlpha[row * n + i] = sum;
    }
  }
  return [dAlpha, ...dValues];
};

/** The tables (word, position, type embeddings) are frozen: nothing flows into them. */
const gather: Vjp<'gather'> = (_inputs, _output, _grad, _attrs, wanted) => {
  if (wanted[0]) {
    throw new BackwardError(
      'a gather reads an embedding table, which the backward pass keeps frozen: train adapter, fusion or head weights only',
    );
  }
  return [undefined, undefined];
};

const firstToken: Vjp<'first_token'> = ([x], _output, grad) => {
  const [batch, seq] = x!.shape as [number, number];
  const width = x!.data.length / (batch * seq);
  const dx = new Float64Array(x!.data.length);
  for (let b = 0; b < batch; b++)
    dx.set(grad.subarray(b * width, (b + 1) * width), b * seq * width);
  return [dx];
};

const tokenMean: Vjp<'token_mean'> = ([x], _output, grad) => {
  const [batch, seq, width] = x!.shape as [number, number, number];
  const dx = new Float64Array(x!.data.length);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < seq; t++) {
      for (let c = 0; c < width; c++) dx[(b * seq + t) * width + c] = grad[b * width + c]! / seq;
    }
  }
  return [dx];
};

/** Each sequence's gradient goes to the branch it was taken from; the index gets none. */
const select: Vjp<'select'> = ([index, ...branches], _output, grad, _attrs, wanted) => {
  const first = branches[0]!;
  const batch = first.shape[0]!;
  const perSequence = first.data.length / batch;
  const dBranches = branches.map((branch, i) =>
    wanted[i + 1] ? new Float64Array(branch.data.length) : undefined,
  );
  for (let b = 0; b < batch; b++) {
    const target = dBranches[index!.data[b]!];
    target?.set(grad.subarray(b * perSequence, (b + 1) * perSequence), b * perSequence);
  }
  return [undefined, ...dBranches];
};

export const VJPS: { readonly [O in DifferentiableOp]: Vjp<O> } = {
  matmul,
  add: broadcastVjp(false),
  mul: broadcastVjp(true),
  scale: (_inputs, _output, grad, { factor }) => [Float64Array.from(grad, (g) => g * factor)],
  relu: activationVjp('relu'),
  gelu: activationVjp('gelu'),
  gelu_tanh: activationVjp('gelu_tanh'),
  silu: activationVjp('silu'),
  tanh: activationVjp('tanh'),
  sigmoid: activationVjp('sigmoid'),
  leaky_relu: activationVjp('leaky_relu'),
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
