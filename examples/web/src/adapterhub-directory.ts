import {
  SAVED_WEIGHT_FILES,
  type SavedKind,
} from '../../../src/runtime/adapterhub/saved-tensors.js';
import { loadSafetensors, type TensorMap } from '../../../src/runtime/index.js';
import { loadPytorchStateDict } from '../../../src/runtime/pytorch/index.js';
import type { CheckpointSource } from './checkpoint-source.js';
import { LoadError, loadErrorMessage } from './load-error.js';

/** The JSON file that says a directory holds an adapter, a head or a fusion (`loading.py`). */
export const SAVED_CONFIG_FILES: Readonly<Record<SavedKind, string>> = {
  adapter: 'adapter_config.json',
  head: 'head_config.json',
  fusion: 'adapter_fusion_config.json',
};

const KINDS = Object.keys(SAVED_CONFIG_FILES) as SavedKind[];

/** One weights file of a directory, its tensors as saved (under the saved names). */
export interface SavedWeightsFile {
  /** The path under the directory, named in messages: `adapters/sentiment/adapter.safetensors`. */
  readonly file: string;
  readonly tensors: TensorMap;
}

/**
 * A directory that the `adapters` library's `save_adapter`, `save_head` or
 * `save_adapter_fusion` wrote, read into the page. One directory may hold an adapter and its
 * head together, as `save_adapter` with `with_head` writes them.
 */
export interface LoadedSavedDirectory {
  readonly dir: string;
  /** The config files the directory holds, by file name, as text: the compiler checks them. */
  readonly configs: ReadonlyMap<string, string>;
  readonly weights: ReadonlyMap<SavedKind, SavedWeightsFile>;
}

function configText(bytes: Uint8Array, path: string): string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new LoadError(`${path}: not valid UTF-8`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch (error) {
    throw new LoadError(`${path}: not JSON (${loadErrorMessage(error)})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new LoadError(`${path}: must be a JSON object`);
  return text;
}

/** The kind's weights: its safetensors file or its PyTorch one; not both, not neither. */
async function readSavedWeights(
  source: CheckpointSource,
  kind: SavedKind,
): Promise<SavedWeightsFile> {
  const names = SAVED_WEIGHT_FILES[kind];
  const [safetensors, pytorch] = await Promise.all([
    source.has(names.safetensors),
    source.has(names.pytorch),
  ]);
  if (safetensors && pytorch)
    throw new LoadError(
      `${source.dir}: holds both ${names.safetensors} and ${names.pytorch}; keep the one the ${kind} was saved as`,
    );
  if (!safetensors && !pytorch)
    throw new LoadError(
      `${source.dir}: no weights for its ${SAVED_CONFIG_FILES[kind]}: neither ${names.safetensors} nor ${names.pytorch}`,
    );
  const name = safetensors ? names.safetensors : names.pytorch;
  const file = `${source.dir}/${name}`;
  const bytes = await source.read(name);
  if (bytes === undefined) throw new LoadError(`${file}: not found`);
  try {
    return {
      file,
      tensors: safetensors ? loadSafetensors(bytes, file) : loadPytorchStateDict(bytes, file),
    };
  } catch (error) {
    throw new LoadError(loadErrorMessage(error));
  }
}

/** Reads every config file the directory holds and the weights of each, every file strictly. */
export async function loadSavedDirectory(source: CheckpointSource): Promise<LoadedSavedDirectory> {
  const configs = new Map<string, string>();
  const weights = new Map<SavedKind, SavedWeightsFile>();
  for (const kind of KINDS) {
    const name = SAVED_CONFIG_FILES[kind];
    const bytes = await source.read(name);
    if (bytes === undefined) continue;
    configs.set(name, configText(bytes, `${source.dir}/${name}`));
    weights.set(kind, await readSavedWeights(source, kind));
  }
  if (configs.size === 0)
    throw new LoadError(
      `${source.dir}: not an AdapterHub directory: it holds none of ${Object.values(SAVED_CONFIG_FILES).join(', ')}`,
    );
  return { dir: source.dir, configs, weights };
}
