import type { FusionSpec } from '../../../compiler/model.js';
import { SaveError } from './error.js';
import { overlaySaved } from './plain.js';
import type { PyValue } from './python-json.js';

/**
 * An AdapterFusion's config (`adapters/src/adapters/configuration/adapter_fusion_config.py`,
 * every field): the spec's fields; `regularization` and `value_initialized` as the `dynamic`
 * preset has them with a value matrix and the `static` one without, unless a saved config set
 * them; `temperature` false (adaptc refuses true) and `dropout_prob` null. The article's fusion
 * is not the library's (scaled scores, keys from the adapters' outputs, a value bias): a
 * SaveError.
 */
export function fusionConfig(fusion: FusionSpec): Map<string, PyValue> {
  const f = fusion.hub;
  if (!f)
    throw new SaveError(
      `fusion '${fusion.name}' cannot be saved as an AdapterHub fusion: it has the article's semantics, which no AdapterFusionConfig computes (write 'preset dynamic' for the library's)`,
    );
  const rebuilt = new Map<string, PyValue>([
    ['key', f.key],
    ['query', f.query],
    ['value', f.value],
    ['query_before_ln', f.queryBeforeLn],
    ['regularization', f.value],
    ['residual_before', f.residualBefore],
    ['temperature', false],
    ['value_before_softmax', f.valueBeforeSoftmax],
    ['value_initialized', f.value],
    ['dropout_prob', null],
  ]);
  return overlaySaved(rebuilt, fusion.savedConfig);
}
