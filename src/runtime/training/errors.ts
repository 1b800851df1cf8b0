import { AdaptRuntimeError } from '../errors.js';

/**
 * A fault in the training data or in a training run, at a place in a file: `location` is
 * `FILE:LINE` (or `FILE`), `detail` what is wrong there. The message is both, so an app can show
 * it as it is, and the CLI prints `location: error: detail`.
 */
export class TrainingError extends AdaptRuntimeError {
  override name = 'TrainingError';
  constructor(
    readonly location: string,
    readonly detail: string,
  ) {
    super(`${location}: ${detail}`);
  }
}
