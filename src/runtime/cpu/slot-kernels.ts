import type { LinearActivation, SlotOp } from '../ops/registry.js';
import type { CpuKernel, CpuTensor } from './kernels.js';
import { activations } from './math.js';

/**
 * CPU kernels of the adapter-slot ops. Each rounds to f32 where the unslotted graph stores a
 * value (after each matmul, bias add, activation and scale), so a slot computes exactly what the
 * plain graph of its adapter does.
 */

const round = Math.fround;

function activate(x: number, activation: LinearActivation): number {
  return activation === 'none' || activation === 'identity' ? x : activations[activation](x);
}

/** The slot of sequence b, checked: the runtime validates adapter_index before any kernel runs. */
function slotOf(slot: CpuTensor, b: number, count: number): number {
  const s = slot.data[b]!;
  if (!(s >= 0 && s < count))
    throw new Error(`slot index ${s} of sequence ${b} outside 0..${count - 1}`);
  return s;
}

/** residual + scale[s] · (W_up_s · act(W_down_s · z + b_down_s) + b_up_s), s = slot[b]. */
const slotBottleneck: CpuKernel<'slot_bottleneck'> = (inputs, { activation }) => {
  const [residual, z, slot, wd, bd, wu, bu, scale] = inputs as CpuTensor[] as [
    CpuTensor,
    CpuTensor,
    CpuTensor,
    CpuTensor,
    CpuTensor,
    CpuTensor,
    CpuTensor,
    CpuTensor,
  ];
  const [batch, seq, d] = residual.shape as [number, number, number];
  const [count, r] = wd.shape as [number, number];
  const out = new Float32Array(residual.data.length);
  const hidden = new Float64Array(r);
  for (let b = 0; b < batch; b++) {
    const s = slotOf(slot, b, count);
    const factor = scale.data[s]!;
    for (let t = 0; t < seq; t++) {
      const row = (b * seq + t) * d;
      for (let j = 0; j < r; j++) {
        const w = (s * r + j) * d;
        let sum = 0;
        for (let c = 0; c < d; c++) sum += wd.data[w + c]! * z.data[row + c]!;
        hidden[j] = round(activate(round(round(sum) + bd.data[s * r + j]!), activation));
      }
      for (let c = 0; c < d; c++) {
        const w = (s * d + c) * r;
        let sum = 0;
        for (let j = 0; j < r; j++) sum += wu.data[w + j]! * hidden[j]!;
        const up = round(round(sum) + bu.data[s * d + c]!);
        out[row + c] = residual.data[row + c]! + (factor === 1 ? up : round(factor * up));
      }
    }
  }
  return out;
};

/** act(x · W_sᵀ + b_s) per sequence b, s = slot[b], for x [B, n] or [B, T, n]. */
const slotLinear: CpuKernel<'slot_linear'> = ([x, slot, w, bias], { activation }, outShape) => {
  const batch = x!.shape[0]!;
  const n = x!.shape[x!.shape.length - 1]!;
  const [count, outSize] = w!.shape as [number, number];
  const rowsPerSequence = x!.data.length / n / batch;
  const out = new Float32Array(outShape.reduce((a, b) => a * b, 1));
  for (let b = 0; b < batch; b++) {
    const s = slotOf(slot!, b, count);
    for (let t = 0; t < rowsPerSequence; t++) {
      const row = b * rowsPerSequence + t;
      for (let o = 0; o < outSize; o++) {
        const at = (s * outSize + o) * n;
        let sum = 0;
        for (let i = 0; i < n; i++) sum += x!.data[row * n + i]! * w!.data[at + i]!;
        out[row * outSize + o] = activate(
          round(round(sum) + bias!.data[s * outSize + o]!),
          activation,
        );
      }
    }
  }
  return out;
};

export const SLOT_KERNELS: { readonly [O in SlotOp]: CpuKernel<O> } = {
  slot_bottleneck: slotBottleneck,
  slot_linear: slotLinear,
};
