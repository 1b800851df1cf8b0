import { loadSafetensors, type TensorMap } from '../../../src/runtime/index.js';
import { loadTokenizer, type TextTokenizer } from '../../../src/runtime/text/tokenizer.js';
import type { CheckpointSource } from './checkpoint-source.js';
import { LoadError, loadErrorMessage } from './load-error.js';
import { readShardIndex } from './shard-index.js';

const SINGLE_FILE = 'model.safetensors';
const SHARD_INDEX = 'model.safetensors.index.json';

/** A Hugging Face checkpoint directory read into the page: what the compiler and runtime take. */
export interface LoadedCheckpoint {
  readonly dir: string;
  /** config.json as text: the compiler reads and checks it. */
  readonly config: string;
  readonly tensors: TensorMap;
  /** The weight files read, as paths under the directory. */
  readonly files: readonly string[];
  /** From tokenizer.json (and tokenizer_config.json where present); undefined without one. */
  readonly tokenizer: TextTokenizer | undefined;
  /** tokenizer.json parsed, for turning token ids back into text. */
  readonly tokenizerJson: object | undefined;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function utf8(bytes: Uint8Array, path: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new LoadError(`${path}: not valid UTF-8`);
  }
}

function json(text: string, path: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new LoadError(`${path}: not JSON (${loadErrorMessage(error)})`);
  }
}

async function readText(source: CheckpointSource, name: string): Promise<string | undefined> {
  const bytes = await source.read(name);
  return bytes === undefined ? undefined : utf8(bytes, `${source.dir}/${name}`);
}

/** One safetensors file; a corrupt one is an error naming it (and the tensor). */
async function readWeightsFile(source: CheckpointSource, name: string): Promise<TensorMap> {
  const path = `${source.dir}/${name}`;
  const bytes = await source.read(name);
  if (bytes === undefined) throw new LoadError(`${path}: not found`);
  try {
    return loadSafetensors(bytes, path);
  } catch (error) {
    throw new LoadError(loadErrorMessage(error));
  }
}

/** Every shard the index lists, each holding exactly the tensors the index gives it. */
async function readShards(
  source: CheckpointSource,
): Promise<{ tensors: TensorMap; files: string[] }> {
  const index = `${source.dir}/${SHARD_INDEX}`;
  const byShard = readShardIndex(json((await readText(source, SHARD_INDEX))!, index), index);
  const tensors: TensorMap = new Map();
  const files: string[] = [];
  for (const [shard, listed] of byShard) {
    const path = `${source.dir}/${shard}`;
    if (!(await source.has(shard)))
      throw new LoadError(
        `${index}: weight_map[${JSON.stringify(listed[0])}]: the shard ${path} does not exist`,
      );
    const contents = await readWeightsFile(source, shard);
    const expected = new Set(listed);
    for (const name of listed) {
      if (!contents.has(name))
        throw new LoadError(
          `${index}: tensor '${name}' is listed in ${shard}, but ${path} does not hold it`,
        );
    }
    for (const [name, tensor] of contents) {
      if (!expected.has(name)) {
        const earlier = tensors.has(name) ? '; an earlier shard holds it too' : '';
        throw new LoadError(
          `${path}: tensor '${name}' is not listed for this shard in ${index}${earlier}`,
        );
      }
      tensors.set(name, tensor);
    }
    files.push(path);
  }
  return { tensors, files };
}

/** `model.safetensors`, or the shards of `model.safetensors.index.json`; not both, not neither. */
async function readWeights(
  source: CheckpointSource,
): Promise<{ tensors: TensorMap; files: string[] }> {
  const [single, sharded] = await Promise.all([source.has(SINGLE_FILE), source.has(SHARD_INDEX)]);
  if (single && sharded)
    throw new LoadError(
      `${source.dir}: holds both ${SINGLE_FILE} and ${SHARD_INDEX}; keep the one the checkpoint was saved as`,
    );
  if (single)
    return {
      tensors: await readWeightsFile(source, SINGLE_FILE),
      files: [`${source.dir}/${SINGLE_FILE}`],
    };
  if (sharded) return readShards(source);
  throw new LoadError(`${source.dir}: no weights: neither ${SINGLE_FILE} nor ${SHARD_INDEX}`);
}

/** The tokenizer of tokenizer.json, with tokenizer_config.json where the directory has one. */
async function readTokenizer(source: CheckpointSource) {
  const path = `${source.dir}/tokenizer.json`;
  const text = await readText(source, 'tokenizer.json');
  if (text === undefined) return { tokenizer: undefined, tokenizerJson: undefined };
  const configPath = `${source.dir}/tokenizer_config.json`;
  const configText = await readText(source, 'tokenizer_config.json');
  const config = configText === undefined ? undefined : json(configText, configPath);
  if (config !== undefined && !isRecord(config))
    throw new LoadError(`${configPath}: must be a JSON object`);
  const parsed = json(text, path);
  if (!isRecord(parsed)) throw new LoadError(`${path}: must be a JSON object`);
  try {
    return { tokenizer: loadTokenizer(text, config, path), tokenizerJson: parsed };
  } catch (error) {
    throw new LoadError(loadErrorMessage(error));
  }
}

/** Reads the directory's config.json, weights and tokenizer, every file strictly. */
export async function loadCheckpoint(source: CheckpointSource): Promise<LoadedCheckpoint> {
  const config = await readText(source, 'config.json');
  if (config === undefined) throw new LoadError(`${source.dir}/config.json: not found`);
  const weights = await readWeights(source);
  return { dir: source.dir, config, ...weights, ...(await readTokenizer(source)) };
}

/** Extra weights (adapters, fusions) from one safetensors file. */
export function readExtraWeights(bytes: Uint8Array, name: string): TensorMap {
  try {
    return loadSafetensors(bytes, name);
  } catch (error) {
    throw new LoadError(loadErrorMessage(error));
  }
}
