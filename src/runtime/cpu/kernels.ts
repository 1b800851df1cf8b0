import type { ComputeOp, OpAttrs, PrimitiveOp, SlotOp } from '../ops/registry.js';
import { elementCount } from '../tensor.js';
import { activations } from './math.js';

/**
 * The CPU reference: one plain kernel per IR op, in a table keyed by op name. Storage is f32,
 * every sum is accumulated in f64 (JavaScript numbers). Obvious code on purpose: this is the
 * oracle the GPU kernels are held against.
 */

export interface CpuTensor {
  readonly data: Float32Array | Int32Array;
  readonly shape: readonly number[];
}

/** The kernel of one op: its attributes have the types the registry gives them. */
export type CpuKernel<O extends ComputeOp> = (
  inputs: readonly CpuTensor[],
  attrs: OpAttrs<O>,
  outShape: readonly number[],
) => Float32Array | Int32Array;

const lastDim = (t: CpuTensor) => t.shape[t.shape.length - 1]!;
const rows = (t: CpuTensor) => elementCount(t.shape) / lastDim(t);

function unary<O extends ComputeOp>(f: (x: number) => number): CpuKernel<O> {
  return ([x]) => {
    const out = new Float32Array(x!.data.length);
    for (let i = 0; i < out.length; i++) out[i] = f(x!.data[i]!);
    return out;
  };
}

/** f(a, b) elementwise with b broadcast onto a from the right (b's dims equal a's or are 1). */
function broadcast<O extends 'add' | 'mul'>(f: (a: number, b: number) => number): CpuKernel<O> {
  return ([a, b]) => {
    const out = new Float32Array(a!.data.length);
    const rank = a!.shape.length;
    const bShape = [...new Array<number>(rank - b!.shape.length).fill(1), ...b!.shape];
    if (b!.data.length === a!.data.length) {
      for (let i = 0; i < out.length; i++) out[i] = f(a!.data[i]!, b!.data[i]!);
      return out;
    }
    const strides = new Array<number>(rank);
    let stride = 1;
    for (let axis = rank - 1; axis >= 0; axis--) {
      strides[axis] = bShape[axis] === 1 ? 0 : stride;
      stride *= bShape[axis]!;
    }
    for (let i = 0; i < out.length; i++) {
      let rest = i;
      let j = 0;
      for (let axis = rank - 1; axis >= 0; axis--) {
        const dim = a!.shape[axis]!;
        j += (rest % dim) * strides[axis]!;
        rest = Math.floor(rest / dim);
      }
      out[i] = f(a!.data[i]!, b!.data[j]!);
    }
    return out;
  };
}

/** out[row, col] = Σ_i x[row, i] · w[col, i] for w [n, k] (PyTorch Linear layout). */
function dot(
  xd: ArrayLike<number>,
  xo: number,
  wd: ArrayLike<number>,
  wo: number,
  k: number,
): number {
  let sum = 0;
  for (let i = 0; i < k; i++) sum += xd[xo + i]! * wd[wo + i]!;
  return sum;
}

/**
 * x [..., k] times wᵀ for w [n, k]. Columns go outermost, four at a time, so each block of w
 * stays in cache while every row of x passes by; each sum is still a plain f64 dot product.
 */
const matmul: CpuKernel<'matmul'> = ([x, w]) => {
  const xd = x!.data;
  const wd = w!.data;
  const k = lastDim(x!);
  const n = w!.shape[0]!;
  const m = rows(x!);
  const out = new Float32Array(m * n);
  let col = 0;
  for (; col + 4 <= n; col += 4) {
    const w0 = col * k;
    const w1 = w0 + k;
    const w2 = w1 + k;
    const w3 = w2 + k;
    for (let row = 0; row < m; row++) {
      const xo = row * k;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let i = 0; i < k; i++) {
        const xi = xd[xo + i]!;
        s0 += xi * wd[w0 + i]!;
        s1 += xi * wd[w1 + i]!;
        s2 += xi * wd[w2 + i]!;
        s3 += xi * wd[w3 + i]!;
      }
      const o = row * n + col;
      out[o] = s0;
      out[o + 1] = s1;
      out[o + 2] = s2;
      out[o + 3] = s3;
    }
  }
  for (; col < n; col++) {
    for (let row = 0; row < m; row++) out[row * n + col] = dot(xd, row * k, wd, col * k, k);
  }
  return out;
};

/** LayerNorm over the last axis with the biased variance. */
const layerNorm: CpuKernel<'layer_norm'> = ([x, gamma, beta], attrs) => {
  const d = lastDim(x!);
  const { eps } = attrs;
  const out = new Float32Array(x!.data.length);
  for (let row = 0; row < rows(x!); row++) {
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
 * Multi-head attention: softmax(q kᵀ / sqrt(d/heads)) v per head, over the keys the padding mask
 * (and the causal mask) leave visible. A query that sees no key gets zeros.
 */
const attention: CpuKernel<'attention'> = ([q, k, v, mask], attrs) => {
  const [batch, seq, d] = q!.shape as [number, number, number];
  const { heads, causal } = attrs;
  const dh = d / heads;
  const scale = 1 / Math.sqrt(dh);
  const out = new Float32Array(q!.data.length);
  const scores = new Float64Array(seq);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < seq; i++) {
        const qo = (b * seq + i) * d + h * dh;
        let max = -Infinity;
        for (let j = 0; j < seq; j++) {
          const visible = mask!.data[b * seq + j] !== 0 && (!causal || j <= i);
          if (!visible) {
            scores[j] = -Infinity;
            continue;
          }
          const ko = (b * seq + j) * d + h * dh;
          let dot = 0;
          for (let c = 0; c < dh; c++) dot += q!.data[qo + c]! * k!.data[ko + c]!;
          scores[j] = dot * scale;
          if (scores[j]! > max) max = scores[j]!;
        }
        if (max === -Infinity) continue;
        let total = 0;
        for (let j = 0; j < seq; j++) {
          scores[j] = scores[j] === -Infinity ? 0 : Math.exp(scores[j]! - max);
          total += scores[j]!;
        }
        for (let c = 0; c < dh; c++) {
          let sum = 0;
          for (let j = 0; j < seq; j++) {
            if (scores[j] !== 0) sum += scores[j]! * v!.data[(b * seq + j) * d + h * dh + c]!;
          }
          out[qo + c] = sum / total;
        }
      }
    }
  }
  return out;
};

const rowDot: CpuKernel<'row_dot'> = ([a, b]) => {
  const d = lastDim(a!);
  const out = new Float32Array(rows(a!));
  for (let row = 0; row < out.length; row++) {
    let sum = 0;
    for (let i = 0; i < d; i++) sum += a!.data[row * d + i]! * b!.data[row * d + i]!;
    out[row] = sum;
  }
  return out;
};

const concat: CpuKernel<'concat'> = (inputs) => {
  const n = inputs.length;
  const count = inputs[0]!.data.length;
  const out = new Float32Array(count * n);
  for (let row = 0; row < count; row++) {
    for (let i = 0; i < n; i++) out[row * n + i] = inputs[i]!.data[row]!;
  }
  return out;
};

const softmax: CpuKernel<'softmax'> = ([x]) => {
  const n = lastDim(x!);
  const out = new Float32Array(x!.data.length);
  for (let row = 0; row < rows(x!); row++) {
    const o = row * n;
    let max = -Infinity;
    for (let i = 0; i < n; i++) max = Math.max(max, x!.data[o + i]!);
    const e = new Float64Array(n);
    let total = 0;
    for (let i = 0; i < n; i++) total += e[i] = Math.exp(x!.data[o + i]! - max);
    for (let i = 0; i < n; i++) out[o + i] = e[i]! / total;
  }
  return out;
};

const weightedSum: CpuKernel<'weighted_sum'> = ([alpha, ...values]) => {
  const n = values.length;
  const d = lastDim(values[0]!);
  const out = new Float32Array(values[0]!.data.length);
  for (let row = 0; row < out.length / d; row++) {
    for (let c = 0; c < d; c++) {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += alpha!.data[row * n + i]! * values[i]!.data[row * d + c]!;
      out[row * d + c] = sum;
    }
  }
  return out;
};

/** Rows of a table [V, d] by ids; an id outside 0..V-1 reads the nearest row (clamped). */
const gather: CpuKernel<'gather'> = ([table, ids]) => {
  const [count, d] = table!.shape as [number, number];
  const out = new Float32Array(ids!.data.length * d);
  for (let i = 0; i < ids!.data.length; i++) {
    const row = Math.min(Math.max(ids!.data[i]!, 0), count - 1);
    out.set(table!.data.subarray(row * d, (row + 1) * d), i * d);
  }
  return out;
};

/** Row 0 of each sequence of x [B, T, ...]. */
const firstToken: CpuKernel<'first_token'> = ([x]) => {
  const [batch, seq] = x!.shape as [number, number];
  const width = x!.data.length / (batch * seq);
  const out = new Float32Array(batch * width);
  for (let b = 0; b < batch; b++)
    out.set(x!.data.subarray(b * seq * width, (b * seq + 1) * width), b * width);
  return out;
};

/** The mean of each sequence's T rows of x [B, T, C], summed in f64: [B, 1, C]. */
const tokenMean: CpuKernel<'token_mean'> = ([x]) => {
  const [batch, seq, width] = x!.shape as [number, number, number];
  const out = new Float32Array(batch * width);
  for (let b = 0; b < batch; b++) {
    for (let c = 0; c < width; c++) {
      let sum = 0;
      for (let t = 0; t < seq; t++) sum += x!.data[(b * seq + t) * width + c]!;
      out[b * width + c] = sum / seq;
    }
  }
  return out;
};

/** Row b of branch index[b]; the runtime has checked every index is in range. */
const select: CpuKernel<'select'> = ([index, ...branches]) => {
  const first = branches[0]!;
  const perSequence = first.data.length / first.shape[0]!;
  const out = new Float32Array(first.data.length);
  for (let b = 0; b < first.shape[0]!; b++) {
    const branch = branches[index!.data[b]!]!;
    out.set(branch.data.subarray(b * perSequence, (b + 1) * perSequence), b * perSequence);
  }
  return out;
};

/** Aᵀ·B for A [m, n] and B [m, p] (or [m], p = 1): each sum accumulated in f64. */
const weightProduct: CpuKernel<'weight_product'> = ([a, b]) => {
  const [m, n] = a!.shape as [number, number];
  const p = b!.shape.length === 1 ? 1 : b!.shape[1]!;
  const sums = new Float64Array(n * p);
  for (let k = 0; k < m; k++) {
    for (let i = 0; i < n; i++) {
      const aki = a!.data[k * n + i]!;
      const row = i * p;
      const bk = k * p;
      for (let j = 0; j < p; j++) sums[row + j]! += aki * b!.data[bk + j]!;
    }
  }
  return Float32Array.from(sums);
};

export const PRIMITIVE_KERNELS: { readonly [O in Exclude<PrimitiveOp, SlotOp>]: CpuKernel<O> } = {
  matmul,
  add: broadcast((a, b) => a + b),
  mul: broadcast((a, b) => a * b),
  scale: ([x], { factor }) => unary<'scale'>((v) => v * factor)([x!], { factor }, []),
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
  weight_product: weightProduct,
};
