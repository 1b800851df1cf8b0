import { InputError } from '../../errors.js';
import { IGNORED_LABEL } from '../../training/backend.js';

/**
 * Refuses labels the loss cannot take, before any GPU work: the wrong count for the batch, a
 * label that is neither a class nor IGNORED_LABEL, or no label counted at all.
 */
export function checkLabels(labels: Int32Array, rows: number, classes: number, what: string): void {
  if (labels.length !== rows) {
    throw new InputError(`${labels.length} labels for a batch that takes ${rows} (${what})`);
  }
  let counted = 0;
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    if (label === IGNORED_LABEL) continue;
    if (label < 0 || label >= classes) {
      throw new InputError(
        `label ${label} at row ${i} is not a class in 0..${classes - 1} (nor ${IGNORED_LABEL}, ignored)`,
      );
    }
    counted++;
  }
  if (counted === 0) {
    throw new InputError(
      `every label of the batch is ${IGNORED_LABEL}: the loss has nothing to average`,
    );
  }
}
