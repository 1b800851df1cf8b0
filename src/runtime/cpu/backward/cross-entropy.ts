import { BackwardError } from './differentiable-ops.js';

export interface CrossEntropy {
  /** The mean over the counted rows (those whose label is not ignored) of −log softmax(logits)[label]. */
  readonly loss: number;
  /** dLoss/dlogits, [N, C]: (softmax − one-hot) / N_counted on counted rows, 0 on ignored rows. */
  readonly gradient: Float64Array;
  /** How many rows the mean is over. */
  readonly counted: number;
}

export interface CrossEntropyOptions {
  /** A label that takes no part in the loss (PyTorch's `ignore_index`, usually -100); absent: none. */
  readonly ignoreIndex?: number;
}

/**
 * Mean cross-entropy of logits [N, C] (row-major) against one integer label per row, as
 * torch.nn.functional.cross_entropy(logits, labels, ignore_index=…, reduction='mean') with no class
 * weights and no label smoothing. A label outside 0..C-1 that is not the ignore index is refused;
 * so is a batch whose every label is ignored (PyTorch's mean over no rows is NaN).
 */
export function crossEntropy(
  logits: ArrayLike<number>,
  classes: number,
  labels: ArrayLike<number>,
  options: CrossEntropyOptions = {},
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
  const { ignoreIndex } = options;
  if (ignoreIndex !== undefined && !Number.isSafeInteger(ignoreIndex)) {
    throw new BackwardError(`cross-entropy: ignore index ${ignoreIndex} is not an integer`);
  }
  let counted = 0;
  for (let row = 0; row < rows; row++) {
    const label = labels[row]!;
    if (label === ignoreIndex) continue;
    if (!Number.isInteger(label) || label < 0 || label >= classes) {
      throw new BackwardError(
        `cross-entropy: label ${label} of row ${row} is not a class in 0..${classes - 1}` +
          (ignoreIndex === undefined ? '' : ` nor the ignore index ${ignoreIndex}`),
      );
    }
    counted++;
  }
  if (counted === 0) {
    throw new BackwardError(
      `cross-entropy: every one of the ${rows} labels is the ignore index ${ignoreIndex}: no row to take the loss of`,
    );
  }
  const gradient = new Float64Array(rows * classes);
  let total = 0;
  for (let row = 0; row < rows; row++) {
    const label = labels[row]!;
    if (label === ignoreIndex) continue;
    const o = row * classes;
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, logits[o + c]!);
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += gradient[o + c] = Math.exp(logits[o + c]! - max);
    // −log softmax[label] = log Σ exp(z − max) − (z_label − max), free of overflow.
    total += Math.log(sum) - (logits[o + label]! - max);
    for (let c = 0; c < classes; c++) gradient[o + c] = gradient[o + c]! / sum / counted;
    gradient[o + label]! -= 1 / counted;
  }
  return { loss: total / counted, gradient, counted };
}
