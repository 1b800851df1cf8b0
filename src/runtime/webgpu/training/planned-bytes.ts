import { evaluateSize } from '../../program.js';
import type { TrainingPlan } from '../../../compiler/training/types.js';
import { roundUp16 } from '../buffer-bytes.js';

export interface TrainingMemory {
  /** Forward buffers, the kept values among them. */
  readonly activations: number;
  /** Gradients of values and scratch, reused by liveness. */
  readonly gradients: number;
  /** Every weight buffer the kernels read (frozen and trained, as uploaded). */
  readonly weights: number;
  /** Per trained tensor: its value, gradient and AdamW's two moments. */
  readonly optimizer: number;
  /**
   * Labels, the loss, the read-back of the logits and the dropout's seed and step (16 bytes:
   * the masks are recomputed from the hash, forward and backward, never stored).
   */
  readonly io: number;
  readonly total: number;
}

/**
 * The GPU memory a training step of the plan takes at batch B and sequence length T, in bytes,
 * as the WebGPU trainer allocates it (each buffer rounded up to 16 bytes): the peak planned.
 */
export function plannedBytes(plan: TrainingPlan, batch: number, seq: number): TrainingMemory {
  const sum = (
    sizes: readonly { perToken: number; perSequence: number; fixed: number; divide: number }[],
  ) => sizes.reduce((n, s) => n + roundUp16(4 * evaluateSize(s, batch, seq)), 0);
  const activations = sum(plan.activations);
  const gradients = sum(plan.gradients);
  const weights = plan.uploadElements.reduce((n, e) => n + roundUp16(4 * e), 0);
  const optimizer = plan.trained.reduce(
    (n, t) => n + 2 * roundUp16(4 * t.elements) + roundUp16(8 * t.elements) + 32,
    0,
  );
  const rows = plan.output.rows === 'token' ? batch * seq : batch;
  const io = roundUp16(4 * rows) + 16 + roundUp16(4 * rows * plan.output.classes + 16) + 16;
  return {
    activations,
    gradients,
    weights,
    optimizer,
    io,
    total: activations + gradients + weights + optimizer + io,
  };
}
