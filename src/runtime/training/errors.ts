import { AdaptRuntimeError, WeightError } from '../errors.js';

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

/**
 * Frozen weights that no weight map holds: they would stay at a seed, untrained. A WeightError,
 * so an app that catches those catches it; the CLI tells it apart to say which files to give.
 */
export class FrozenWeightsMissingError extends WeightError {
  override name = 'FrozenWeightsMissingError';
  constructor(readonly names: readonly string[]) {
    const shown = names
      .slice(0, 5)
      .map((name) => `'${name}'`)
      .join(', ');
    super([
      `${names.length} frozen weight${names.length > 1 ? 's are' : ' is'} in no file: ${shown}${names.length > 5 ? ', …' : ''}`,
    ]);
  }
}
