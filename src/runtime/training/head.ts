import { AdaptRuntimeError } from '../errors.js';
import type { Program } from '../program.js';

/** What a training row must hold: one label per text (`sequence`) or one per word (`token`). */
export interface TrainingHead {
  readonly kind: 'sequence' | 'token';
  readonly labels: readonly string[];
}

/**
 * The head a program's loss is taken of: a single-label classification or a tagging head, read
 * from a checkpoint's text program. A language-model head and a multi-label (sigmoid) head are
 * refused: the mean cross-entropy over classes is not their loss.
 */
export function trainingHead(program: Program): TrainingHead {
  const head = program.model.text?.head;
  if (!program.model.text)
    throw new AdaptRuntimeError(
      `graph '${program.graph}' reads hidden states; training takes text, so the model must be read from a checkpoint (model NAME from "DIR")`,
    );
  if (!head)
    throw new AdaptRuntimeError(
      `graph '${program.graph}' has no head to train (its checkpoint has none, or the spec says 'head none')`,
    );
  if (head.layout === 'tied-embeddings')
    throw new AdaptRuntimeError(
      `graph '${program.graph}' ends in a language-model head; training takes a classification or tagging head`,
    );
  if (head.scores === 'sigmoid')
    throw new AdaptRuntimeError(
      `graph '${program.graph}' ends in a multi-label head (sigmoid scores), whose loss is binary cross-entropy; training takes single-label heads`,
    );
  return { kind: head.layout === 'token' ? 'token' : 'sequence', labels: head.labels };
}
