import type { PreparedInputs } from '../inputs.js';
import type { Program } from '../program.js';
import type { DropoutSettings } from './dropout/sites.js';

/** The label that no loss is taken at (PyTorch's `ignore_index`): padding, special tokens, sub-words. */
export const IGNORED_LABEL = -100;

/**
 * One batch to train on: the model's inputs, and one label per sequence `[B]` (classification) or
 * per token `[B·T]` (tagging), where IGNORED_LABEL takes no part in the loss.
 */
export interface TrainingBatch {
  readonly inputs: PreparedInputs;
  readonly labels: Int32Array;
}

/** AdamW's settings for one step (`torch.optim.AdamW`, amsgrad off). */
export interface StepSettings {
  readonly lr: number;
  readonly weightDecay: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  /** The run's step number (from 0), which picks the step's dropout masks; absent: 0. */
  readonly step?: number;
}

/** AdamW's state of one trained tensor: the steps taken and both moments, in the weight's layout. */
export interface OptimizerTensorState {
  readonly step: number;
  readonly expAvg: Float32Array | Float64Array;
  readonly expAvgSq: Float32Array | Float64Array;
}

/** What a backend trains: a program compiled with `{ fuse: false }`, all its weights, which to train. */
export interface TrainingSetup {
  readonly program: Program;
  /** Every weight of the program by name, as loaded (the trained ones at their starting values). */
  readonly weights: ReadonlyMap<string, Float32Array>;
  /** The names of the trained weights, each a weight of the program. */
  readonly trained: readonly string[];
  /** The program output the loss is taken of (`logits`). */
  readonly output: string;
  /** The number of classes: the last axis of the output. */
  readonly classes: number;
  /** AdamW's state to resume from, by trained weight name; absent: fresh. */
  readonly optimizerState?: ReadonlyMap<string, OptimizerTensorState>;
  /** Dropout in every training step (never in an evaluation); absent or P = 0: none. */
  readonly dropout?: DropoutSettings;
}

/** The mean cross-entropy of one batch, and the logits it was taken of (row-major, f32). */
export interface BatchLoss {
  readonly loss: number;
  readonly logits: Float32Array;
}

/**
 * A way to train: the CPU reference (f64) or WebGPU. Both compute the same step, held against
 * each other and against PyTorch (docs/training.md).
 */
export interface TrainingBackend {
  readonly name: 'cpu' | 'webgpu';
  /**
   * One step: forward, mean cross-entropy over the labels that are not IGNORED_LABEL, backward to
   * the trained weights, one AdamW update with these settings. Resolves to the step's loss (taken
   * before the update) and its logits.
   */
  step(batch: TrainingBatch, settings: StepSettings): Promise<BatchLoss>;
  /** The forward pass and the loss only, no update (evaluation). */
  evaluate(batch: TrainingBatch): Promise<BatchLoss>;
  /** dLoss/dWeight of the last step, before its update, by trained weight name. */
  lastGradients(): Promise<ReadonlyMap<string, Float32Array | Float64Array>>;
  /** The trained weights as they are now, by name. */
  trainedWeights(): Promise<ReadonlyMap<string, Float32Array>>;
  /** AdamW's state now, by trained weight name (for a checkpoint). */
  optimizerState(): Promise<ReadonlyMap<string, OptimizerTensorState>>;
  /** Frees what the backend holds (GPU buffers). */
  dispose(): void;
}
