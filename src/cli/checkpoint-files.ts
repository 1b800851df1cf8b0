import { statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { readShardIndex, ShardIndexError } from '../runtime/checkpoint/shard-index.js';
import { isRecord } from '../runtime/guards.js';
import type { TensorMap } from '../runtime/safetensors.js';
import { parseTensorFile } from './tensor-file.js';
import { loadTokenizer, type TextTokenizer } from '../runtime/text/tokenizer.js';
import { TokenizerError } from '../runtime/text/tokenizer-error.js';
import { readBinaryFile, readInputFile } from './input-file.js';
import { CliError } from './io.js';
import { toCliError } from './runtime-errors.js';
import { decodeUtf8 } from './utf8.js';

/**
 * A Hugging Face checkpoint directory's files: its weights, whole (`model.safetensors`) or
 * sharded (`model.safetensors.index.json` naming the shard of every tensor), and its JSON files.
 */

export const SINGLE_FILE = 'model.safetensors';
export const SHARD_INDEX = 'model.safetensors.index.json';
/** What checkpoints saved before safetensors hold: one PyTorch state dict. */
export const PYTORCH_FILE = 'pytorch_model.bin';

/** The most bytes of a checkpoint's JSON file: real ones are a few MiB at most (tokenizer.json). */
const MAX_JSON_BYTES = 64 * 2 ** 20;

export interface CheckpointWeights {
  /** Every tensor of the checkpoint, from however many files. */
  readonly tensors: TensorMap;
  /** The files read, as paths under the directory. */
  readonly files: readonly string[];
}

/** One weights file of the checkpoint (safetensors or .bin); a corrupt one is an error naming it. */
function readWeightsFile(cwd: string, path: string): TensorMap {
  return parseTensorFile(readBinaryFile(cwd, path), path);
}

export function isFile(cwd: string, path: string): boolean {
  try {
    return statSync(resolve(cwd, path)).isFile();
  } catch {
    return false;
  }
}

/**
 * The tensors of the checkpoint in `dir`: `model.safetensors`, or the shards that
 * `model.safetensors.index.json` lists. A directory with both, or with neither, is an error.
 */
export function readCheckpointWeights(cwd: string, dir: string): CheckpointWeights {
  const single = join(dir, SINGLE_FILE);
  const index = join(dir, SHARD_INDEX);
  const [hasSingle, hasIndex] = [isFile(cwd, single), isFile(cwd, index)];
  if (hasSingle && hasIndex)
    throw new CliError(
      `${dir}: error: holds both ${SINGLE_FILE} and ${SHARD_INDEX}; keep the one the checkpoint was saved as`,
    );
  if (hasSingle) return { tensors: readWeightsFile(cwd, single), files: [single] };
  if (hasIndex) return readShards(cwd, dir, index);
  const pytorch = join(dir, PYTORCH_FILE);
  if (isFile(cwd, pytorch)) return { tensors: readWeightsFile(cwd, pytorch), files: [pytorch] };
  throw new CliError(
    `${dir}: error: no weights: neither ${SINGLE_FILE} nor ${SHARD_INDEX}, nor ${PYTORCH_FILE}`,
  );
}

/** A checkpoint directory as the spec names it: relative to the spec file's folder. */
export function checkpointDirectory(specPath: string, dir: string): string {
  return isAbsolute(dir) ? dir : join(dirname(specPath), dir);
}

export interface Checkpoint {
  readonly dir: string;
  readonly weights: CheckpointWeights;
  /** From tokenizer.json (and tokenizer_config.json where present); undefined without one. */
  readonly tokenizer: TextTokenizer | undefined;
}

/**
 * What `model NAME from "DIR"` reads at run time: the weights and the tokenizer of DIR (left
 * unread with `tokenizer: false`, for runs on token ids, which need none).
 */
export function readCheckpoint(
  cwd: string,
  specPath: string,
  dir: string,
  options: { readonly tokenizer?: boolean } = {},
): Checkpoint {
  const path = checkpointDirectory(specPath, dir);
  const weights = readCheckpointWeights(cwd, path);
  const text =
    options.tokenizer === false ? undefined : readCheckpointText(cwd, path, 'tokenizer.json');
  if (text === undefined) return { dir: path, weights, tokenizer: undefined };
  const config = readCheckpointJson(cwd, path, 'tokenizer_config.json');
  if (config !== undefined && !isRecord(config))
    throw new CliError(`${join(path, 'tokenizer_config.json')}: error: must be a JSON object`);
  try {
    return {
      dir: path,
      weights,
      tokenizer: loadTokenizer(text, config, join(path, 'tokenizer.json')),
    };
  } catch (error) {
    if (!(error instanceof TokenizerError)) throw toCliError(error);
    throw new CliError(`${error.file}: error: ${error.message.slice(error.file.length + 2)}`);
  }
}

/** A text file of the checkpoint (strict UTF-8), or undefined where the directory has none. */
export function readCheckpointText(cwd: string, dir: string, name: string): string | undefined {
  const path = join(dir, name);
  if (!isFile(cwd, path)) return undefined;
  return decodeUtf8(
    readInputFile(cwd, { path, what: `a checkpoint's ${name}`, maxBytes: MAX_JSON_BYTES }),
    path,
  );
}

/** A JSON file of the checkpoint, or undefined where the directory has none. */
export function readCheckpointJson(cwd: string, dir: string, name: string): unknown {
  const text = readCheckpointText(cwd, dir, name);
  if (text === undefined) return undefined;
  const path = join(dir, name);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new CliError(
      `${path}: error: not JSON (${error instanceof Error ? error.message : String(error)})`,
    );
  }
}

/** `weight_map` read strictly (readShardIndex): tensor name → a shard file beside the index. */
function readWeightMap(value: unknown, index: string): Map<string, string[]> {
  try {
    return readShardIndex(value, index);
  } catch (error) {
    if (!(error instanceof ShardIndexError)) throw error;
    throw new CliError(`${error.file}: error: ${error.key}: ${error.why}`);
  }
}

/** Every shard of the index read, each holding exactly the tensors the index gives it. */
function readShards(cwd: string, dir: string, index: string): CheckpointWeights {
  const byShard = readWeightMap(readCheckpointJson(cwd, dir, SHARD_INDEX), index);
  const tensors: TensorMap = new Map();
  const files: string[] = [];
  for (const [shard, listed] of byShard) {
    const path = join(dir, shard);
    if (!isFile(cwd, path))
      throw new CliError(
        `${index}: error: weight_map[${JSON.stringify(listed[0])}]: the shard ${path} does not exist`,
      );
    const contents = readWeightsFile(cwd, path);
    const expected = new Set(listed);
    for (const name of listed) {
      if (!contents.has(name))
        throw new CliError(
          `${index}: error: tensor '${name}' is listed in ${shard}, but ${path} does not hold it`,
        );
    }
    for (const [name, tensor] of contents) {
      if (!expected.has(name))
        throw new CliError(
          `${path}: error: tensor '${name}' is not listed for this shard in ${index}${tensors.has(name) ? '; an earlier shard holds it too' : ''}`,
        );
      tensors.set(name, tensor);
    }
    files.push(path);
  }
  // Listed in file-name order, which is the shards' numbering.
  return { tensors, files: files.sort() };
}
