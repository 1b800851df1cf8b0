import type { PredictionHeadSpec } from '../../../compiler/model.js';
import { LIBRARY_ACTIVATIONS } from './adapter-config.js';
import { overlaySaved } from './plain.js';
import type { PyValue } from './python-json.js';

/**
 * A head's config dict as the head classes build it (`adapters/src/adapters/heads/base.py`:
 * `ClassificationHead`, `MultiLabelClassificationHead`, `TaggingHead`): `label2id` from the
 * labels, `use_pooler` and `bias` for the classification types, `dropout_prob` null unless a
 * saved config set it.
 */
export function headConfig(head: PredictionHeadSpec): Map<string, PyValue> {
  const rebuilt = new Map<string, PyValue>([
    ['head_type', head.type],
    ['num_labels', head.labels.length],
    ['layers', head.layers],
    [
      'activation_function',
      head.activation === 'none' ? null : LIBRARY_ACTIVATIONS[head.activation],
    ],
    ['label2id', new Map(head.labels.map((label, id) => [label, id]))],
    ...(head.type === 'tagging'
      ? []
      : ([
          ['use_pooler', head.usePooler],
          ['bias', head.bias],
        ] as const)),
    ['dropout_prob', null],
  ]);
  return overlaySaved(rebuilt, head.savedConfig);
}
