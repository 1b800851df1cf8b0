import type { Program } from '../program.js';
import { IGNORED_LABEL, type TrainingBackend } from './backend.js';
import { makeBatch } from './batch.js';
import type { EncodedData } from './encode.js';

export interface Evaluation {
  /** The mean cross-entropy over every label of the data (not a mean of batch means). */
  readonly loss: number;
  /** The share of labels whose largest logit is the label's. */
  readonly accuracy: number;
  /** How many labels: rows, or tagged words. */
  readonly labels: number;
}

/** The loss and accuracy of the backend's weights now, in batches of `batchSize` in file order. */
export async function evaluateData(
  backend: TrainingBackend,
  program: Program,
  data: EncodedData,
  batchSize: number,
  classes: number,
): Promise<Evaluation> {
  let lossSum = 0;
  let correct = 0;
  let labels = 0;
  for (let start = 0; start < data.rows.length; start += batchSize) {
    const indices = Array.from(
      { length: Math.min(batchSize, data.rows.length - start) },
      (_, i) => start + i,
    );
    const batch = makeBatch(program, data, indices);
    const { loss, logits } = await backend.evaluate(batch);
    let counted = 0;
    batch.labels.forEach((label, row) => {
      if (label === IGNORED_LABEL) return;
      counted++;
      if (argmax(logits, row * classes, classes) === label) correct++;
    });
    lossSum += loss * counted;
    labels += counted;
  }
  return { loss: lossSum / labels, accuracy: correct / labels, labels };
}

function argmax(values: Float32Array, offset: number, count: number): number {
  let best = 0;
  for (let i = 1; i < count; i++) if (values[offset + i]! > values[offset + best]!) best = i;
  return best;
}
