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

/** Reads several weight files into one map; a tensor in two files is an error. */
export function readWeightFiles(cwd: string, paths: readonly string[]): TensorMap {
  const merged: TensorMap = new Map();
  const origin = new Map<string, string>();
  for (const path of paths) {
    for (const [name, tensor] of readTensorFile(cwd, path)) {
      const earlier = origin.get(name);
      if (earlier) {
        throw new CliError(`${path}: error: tensor '${name}' is also in ${earlier}`);
      }
      origin.set(name, path);
      merged.set(name, tensor);
    }
  }
  return merged;
}
