import type { JsonObject, JsonValue } from '../checkpoint/json.js';
import { AdapterConfigError } from './adapter-config-error.js';

/**
 * The keys `build_full_config` (`adapters/src/adapters/configuration/model_adapters_config.py`)
 * writes around a saved config: the loader's kwargs, the model it was saved from, the version.
 */
export const WRAPPER_KEYS: readonly string[] = [
  'config',
  'hidden_size',
  'model_class',
  'model_name',
  'model_type',
  'name',
  'version',
];

/**
 * The wrapper of a saved head or fusion config: an object of the wrapper keys only, saved for a
 * model of this hidden size; its `name` (the head's, or the fused adapters joined with commas).
 */
export function readWrapper(
  value: JsonValue,
  file: string,
  hidden: number,
): { readonly top: JsonObject; readonly name: string | undefined } {
  if (!(value instanceof Map)) throw new AdapterConfigError(file, 'expected a JSON object');
  for (const key of value.keys()) {
    if (!WRAPPER_KEYS.includes(key)) throw new AdapterConfigError(file, 'unknown key', key);
  }
  const savedHidden = value.get('hidden_size');
  if (savedHidden !== undefined && savedHidden !== hidden) {
    throw new AdapterConfigError(
      file,
      `${String(savedHidden)}, but the model's hidden size is ${hidden}`,
      'hidden_size',
    );
  }
  const name = value.get('name');
  if (name !== undefined && typeof name !== 'string')
    throw new AdapterConfigError(file, 'expected a string', 'name');
  return { top: value, name };
}
