import { savedWeightsOf, type Model } from '../../../src/compiler/index.js';
import { renameSavedTensors } from '../../../src/runtime/adapterhub/saved-tensors.js';
import type { TensorMap } from '../../../src/runtime/index.js';
import { SAVED_CONFIG_FILES } from './adapterhub-directory.js';
import { LoadError, loadErrorMessage } from './load-error.js';
import { savedDirectoryFor } from './spec-files.js';

/**
 * The weights of the AdapterHub directories a graph reads (`adapter/head/fusion NAME from
 * "DIR"`), from the loaded directories, each file's tensors renamed to the declared names as
 * `adapt run` renames them. One map per directory and kind; a directory the page has not loaded
 * is an error naming it.
 */
export function savedWeightsFor(model: Model, graph: string): TensorMap[] {
  return savedWeightsOf(model, graph).map((saved) => {
    const directory = savedDirectoryFor(saved.dir);
    const weights = directory?.weights.get(saved.kind);
    if (!directory || !weights)
      throw new LoadError(
        `${saved.dir}: the ${saved.kind} '${saved.name}' reads this directory, but no loaded AdapterHub directory with ${SAVED_CONFIG_FILES[saved.kind]} matches it: load it`,
      );
    try {
      return renameSavedTensors(
        weights.tensors,
        saved.kind,
        saved.savedName,
        saved.name,
        weights.file,
      );
    } catch (error) {
      throw new LoadError(loadErrorMessage(error));
    }
  });
}
