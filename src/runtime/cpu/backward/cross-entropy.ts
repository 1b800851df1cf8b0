import { BackwardError } from './differentiable-ops.js';

export interface CrossEntropy {
  /** The mean over the N rows of −log softmax(logits)[label]. */
  readonly loss: number;
  /** dLoss/dlogits, [N, C]: (softmax − one-hot) / N. */
  readonly gradient: Float64Array;
}

/**
 * Mean cross-entropy of logits [N, C] (row-major) against one integer label per row, as
 * torch.nn.functional.cross_entropy(logits, labels, reduction='mean') with no class weights,
 * no label smoothing and no ignore_index: a label outside 0..C-1 is refused.
 */
export function crossEntropy(
  logits: ArrayLike<number>,
  classes: number,
  labels: ArrayLike<number>,
): CrossEntropy {
  if (!Number.isSafeInteger(classes) || classes < 1) {
    throw new BackwardError(`cross-entropy needs at least one class, got ${classes}`);
  }
  const rows = labels.length;
  if (rows === 0 || logits.length !== rows * classes) {
    throw new BackwardError(
      `cross-entropy: ${logits.length} logits do not make ${rows} rows of ${classes} classes`,
    );
  }
  const gradient = new Float64Array(rows * classes);
  let total = 0;
  for (let row = 0; row < rows; row++) {
    const label = labels[row]!;
    if (!Number.isInteger(label) || label < 0 || label >= classes) {
      throw new BackwardError(
        `cross-entropy: label ${label} of row ${row} is not a class in 0..${classes - 1}`,
      );
    }
    const o = row * classes;
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, logits[o + c]!);
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += gradient[o + c] = Math.exp(logits[o + c]! - max);
    // −log softmax[label] = log Σ exp(z − max) − (z_label − max), free of overflow.
    total += Math.log(sum) - (logits[o + label]! - max);
    for (let c = 0; c < classes; c++) gradient[o + c] = gradient[o + c]! / sum / rows;
    gradient[o + label]! -= 1 / rows;
  }
  return { loss: total / rows, gradient };
}
