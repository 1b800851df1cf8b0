import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { TensorMap } from '../runtime/safetensors.js';
import { readCheckpointWeights } from './checkpoint-files.js';
import { CliError } from './io.js';
import { readBinaryFile } from './input-file.js';
import { parseTensorFile } from './tensor-file.js';

/** Reads one weight file, safetensors or PyTorch (.bin); a corrupt file is one error naming it. */
export function readTensorFile(cwd: string, path: string): TensorMap {
  return parseTensorFile(readBinaryFile(cwd, path), path);
}

function isDirectory(cwd: string, path: string): boolean {
  try {
    return statSync(resolve(cwd, path)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Reads several weight files, one map each (a model prefix is judged per file); a tensor in two
 * files is an error. A directory is a Hugging Face checkpoint: its weights, whole or sharded,
 * are one map.
 */
export function readWeightFiles(cwd: string, paths: readonly string[]): TensorMap[] {
  const origin = new Map<string, string>();
  return paths.map((path) => {
    const tensors = isDirectory(cwd, path)
      ? readCheckpointWeights(cwd, path).tensors
      : readTensorFile(cwd, path);
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
