import type { SavedConfigValue } from '../../../compiler/model.js';
import { PyFloat, type PyValue } from './python-json.js';

/** The config fields the library's dataclasses and heads declare as floats. */
const FLOAT_KEYS: ReadonlySet<string> = new Set([
  'scaling',
  'dropout',
  'phm_init_range',
  'stochastic_depth',
  'dropout_prob',
]);

/**
 * A value read from a saved config as Python held it: JSON does not say whether `4` was an int
 * or a float, so the fields typed float print as floats and every other number as an int where
 * it is integral.
 */
export function toPython(value: SavedConfigValue, key: string): PyValue {
  if (typeof value === 'number')
    return FLOAT_KEYS.has(key) || !Number.isInteger(value) ? new PyFloat(value) : value;
  if (Array.isArray(value))
    return (value as readonly SavedConfigValue[]).map((item) => toPython(item, key));
  if (value instanceof Map) {
    const map = new Map<string, PyValue>();
    for (const [name, item] of value as ReadonlyMap<string, SavedConfigValue>)
      map.set(name, toPython(item, key));
    return map;
  }
  return value as null | boolean | string;
}

/**
 * A config as rebuilt from the spec, with the saved config's values over it where the saved
 * one has the key: a config read from a directory is written back as it was read (`asdict` of
 * the loaded dataclass writes every field; the saved values of those it holds). Keys of the
 * saved config that `keep` does not allow and the rebuilt one lacks are left out.
 */
export function overlaySaved(
  rebuilt: ReadonlyMap<string, PyValue>,
  saved: SavedConfigValue | undefined,
  keep: (key: string, value: SavedConfigValue) => boolean = () => false,
): Map<string, PyValue> {
  const out = new Map(rebuilt);
  if (!(saved instanceof Map)) return out;
  for (const [key, value] of saved as ReadonlyMap<string, SavedConfigValue>) {
    if (rebuilt.has(key) || keep(key, value)) out.set(key, toPython(value, key));
  }
  return out;
}
