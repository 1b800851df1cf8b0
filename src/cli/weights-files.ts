import { SafetensorsError, loadSafetensors, type TensorMap } from '../runtime/safetensors.js';
import { CliError } from './io.js';
import { readBinaryFile } from './files.js';

/** Reads one safetensors file; a corrupt file is one clear error naming it. */
export function readTensorFile(cwd: string, path: string): TensorMap {
  const bytes = readBinaryFile(cwd, path);
  try {
    return loadSafetensors(bytes, path);
  } catch (error) {
    if (error instanceof SafetensorsError) throw new CliError(`error: ${error.message}`);
    throw error;
  }
}

/** Reads several weight files into one map; a tensor in two files is an error. */
export function readWeightFiles(cwd: string, paths: readonly string[]): TensorMap {
  const merged: TensorMap = new Map();
  const origin = new Map<string, string>();
  for (const path of paths) {
    for (const [name, tensor] of readTensorFile(cwd, path)) {
      const earlier = origin.get(name);
      if (earlier) throw new CliError(`error: tensor '${name}' is in both ${earlier} and ${path}`);
      origin.set(name, path);
      merged.set(name, tensor);
    }
  }
  return merged;
}
