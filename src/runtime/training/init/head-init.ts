import type { WeightSpec } from '../../program.js';
import { normal, streamSeed } from './draws.js';

/** BERT's `initializer_range` (transformers' `BertConfig` default, and the checkpoints'). */
export const INITIALIZER_RANGE = 0.02;

/**
 * One tensor of a new prediction head: `PredictionHead.build` (`adapters/src/adapters/heads/
 * base.py`) ends in `self.apply(model._init_weights)`, which for BERT and RoBERTa
 * (`BertPreTrainedModel._init_weights`) draws Linear weights from N(0, initializer_range²) and
 * zeros their biases.
 */
export function headTensor(spec: WeightSpec, seed: number): Float32Array {
  const count = spec.shape.reduce((a, b) => a * b, 1);
  if (spec.name.endsWith('.bias')) return new Float32Array(count);
  return normal(count, streamSeed(spec.name, seed), INITIALIZER_RANGE);
}
