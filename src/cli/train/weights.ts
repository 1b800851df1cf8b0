import type { Model } from '../../compiler/index.js';
import { AdaptError, WeightError } from '../../runtime/errors.js';
import type { Program } from '../../runtime/program.js';
import type { TensorMap } from '../../runtime/safetensors.js';
import { FrozenWeightsMissingError } from '../../runtime/training/errors.js';
import { prepareTraining, type PreparedTraining } from '../../runtime/training/session.js';
import type { TrainTarget } from '../../runtime/training/trainable.js';
import type { Checkpoint } from '../checkpoint-files.js';
import { CliError } from '../io.js';
import { toCliError } from '../runtime-errors.js';
import { readSavedWeights } from '../saved-weights.js';
import { readWeightFiles } from '../weights-files.js';

export interface TrainingWeights {
  /** The head, the trained set and every weight of the program bound (`prepareTraining`). */
  readonly prepared: PreparedTraining;
  /** The files read, for the summary. */
  readonly files: readonly string[];
}

/**
 * The training setup from the weights training starts from: the checkpoint's, those of the
 * AdapterHub directories the graph reads (an adapter from a directory is fine-tuned), then the
 * --weights files; `prepareTraining` starts a trained weight none of them holds as its config
 * says. Each fault is one error at its place: the spec for its graph and for frozen weights no
 * file holds (they would not be trained), the weight files for a tensor that does not fit.
 */
export function trainingWeights(
  cwd: string,
  specPath: string,
  lowered: { readonly model: Model; readonly program: Program },
  checkpoint: Checkpoint,
  extra: { readonly weights: readonly string[]; readonly graph: string; readonly seed: number },
  target: TrainTarget,
): TrainingWeights {
  const saved = readSavedWeights(cwd, specPath, lowered.model, extra.graph);
  const given = extra.weights.length > 0 ? readWeightFiles(cwd, extra.weights) : [];
  const maps: TensorMap[] = [checkpoint.weights.tensors, ...saved.tensors, ...given];
  const files = [...checkpoint.weights.files, ...saved.files, ...extra.weights];
  try {
    return {
      prepared: prepareTraining(lowered, { target, weights: maps, seed: extra.seed }),
      files,
    };
  } catch (error) {
    if (error instanceof FrozenWeightsMissingError)
      throw new CliError(
        `${specPath}: error: ${error.message}; give the frozen adapters' weights (adapter NAME from "DIR", or --weights FILE)`,
      );
    if (error instanceof WeightError) throw toCliError(error, { weights: files, spec: specPath });
    if (error instanceof AdaptError) throw new CliError(`${specPath}: error: ${error.message}`);
    throw error;
  }
}
