import { loadSafetensors, type TensorMap } from '../runtime/safetensors.js';
import { CliError } from './io.js';
import { readBinaryFile } from './input-file.js';
import { toCliError } from './runtime-errors.js';

/** Reads one safetensors file; a corrupt file is one clear error naming it. */
export function readTensorFile(cwd: string, path: string): TensorMap {
  const bytes = readBinaryFile(cwd, path);
  try {
    return loadSafetensors(bytes, path);
  } catch (error) {
    throw toCliError(error);
  }
}

/**
 * Reads several weight files, one map each (a model prefix is judged per file); a tensor in two
 * files is an error.
 */
export function readWeightFiles(cwd: string, paths: readonly string[]): TensorMap[] {
  const origin = new Map<string, string>();
  return paths.map((path) => {
    const tensors = readTensorFile(cwd, path);
    for (const name of tensors.keys()) {
      const earlier = origin.get(name);
      if (earlier) {
        throw new CliError(`${path}: error: tensor '${name}' is also in ${earlier}`);
      }
      origin.set(name, path);
    }
    return tensors;
  });
}
