import { join } from 'node:path';
import { savedWeightsOf, type Model, type SavedWeights } from '../compiler/index.js';
import { renameSavedTensors, SAVED_WEIGHT_FILES } from '../runtime/adapterhub/saved-tensors.js';
import { WeightError } from '../runtime/errors.js';
import type { TensorMap } from '../runtime/safetensors.js';
import { checkpointDirectory, isFile } from './checkpoint-files.js';
import { CliError } from './io.js';
import { toCliError } from './runtime-errors.js';
import { readTensorFile } from './weights-files.js';

export interface SavedWeightFiles {
  /** One map per directory, its tensors under the declared names. */
  readonly tensors: readonly TensorMap[];
  readonly files: readonly string[];
}

/**
 * The weights of the AdapterHub directories a graph reads (`adapter/head/fusion NAME from
 * "DIR"`): each directory's safetensors or PyTorch file, renamed to the declared names. A
 * directory with neither file, or with both, is an error naming it.
 */
export function readSavedWeights(
  cwd: string,
  specPath: string,
  model: Model,
  graph: string,
): SavedWeightFiles {
  const read = savedWeightsOf(model, graph).map((saved) =>
    readSavedDirectory(cwd, specPath, saved),
  );
  return { tensors: read.map((r) => r.tensors), files: read.map((r) => r.file) };
}

/**
 * One AdapterHub directory's weights: its safetensors or PyTorch file, renamed to the declared
 * name. A directory with neither file, or with both, is an error naming it.
 */
export function readSavedDirectory(
  cwd: string,
  specPath: string,
  saved: SavedWeights,
): { tensors: TensorMap; file: string } {
  const dir = checkpointDirectory(specPath, saved.dir);
  const names = SAVED_WEIGHT_FILES[saved.kind];
  const safetensors = join(dir, names.safetensors);
  const pytorch = join(dir, names.pytorch);
  const [hasSafetensors, hasPytorch] = [isFile(cwd, safetensors), isFile(cwd, pytorch)];
  if (hasSafetensors && hasPytorch)
    throw new CliError(
      `${dir}: error: holds both ${names.safetensors} and ${names.pytorch}; keep the one the ${saved.kind} was saved as`,
    );
  if (!hasSafetensors && !hasPytorch)
    throw new CliError(
      `${dir}: error: no weights for ${saved.kind} '${saved.name}': neither ${names.safetensors} nor ${names.pytorch}`,
    );
  const file = hasSafetensors ? safetensors : pytorch;
  try {
    const tensors = renameSavedTensors(
      readTensorFile(cwd, file),
      saved.kind,
      saved.savedName,
      saved.name,
      file,
    );
    return { tensors, file };
  } catch (error) {
    if (error instanceof WeightError)
      throw new CliError(error.message.replace(`${file}: `, `${file}: error: `));
    throw toCliError(error);
  }
}
