import type { JsonValue } from '../checkpoint/json.js';
import type { PredictionHeadSpec } from '../../model.js';
import { AdapterConfigError } from './adapter-config-error.js';
import { hubActivation, HUB_ACTIVATION_NAMES } from './hub-activation.js';
import { readWrapper } from './saved-wrapper.js';

export type HeadParts = Omit<PredictionHeadSpec, 'name' | 'source' | 'span'> & {
  readonly savedName: string | undefined;
};

/** The config keys of each head type adaptc runs (`adapters/src/adapters/heads/base.py`). */
const HEAD_KEYS: Readonly<Record<PredictionHeadSpec['type'], readonly string[]>> = {
  classification: ['use_pooler', 'bias'],
  multilabel_classification: ['use_pooler', 'bias'],
  tagging: [],
};
const COMMON_KEYS = [
  'head_type',
  'num_labels',
  'layers',
  'activation_function',
  'label2id',
  'dropout_prob',
];

/**
 * Reads `head_config.json` as `PredictionHeadLoader.save` writes it (`loading.py`): the
 * `build_full_config` wrapper around the head's config dict. Classification, multi-label and
 * tagging heads; any other `head_type`, or a key the type does not have, is an error naming it.
 */
export function readHeadConfig(value: JsonValue, file: string, hidden: number): HeadParts {
  const { top, name } = readWrapper(value, file, hidden);
  const config = top.get('config');
  if (!(config instanceof Map)) throw new AdapterConfigError(file, 'expected an object', 'config');
  const fail = (key: string, message: string): never => {
    throw new AdapterConfigError(file, message, `config.${key}`);
  };
  const headType: JsonValue | undefined = config.get('head_type');
  if (
    headType !== 'classification' &&
    headType !== 'multilabel_classification' &&
    headType !== 'tagging'
  ) {
    return fail(
      'head_type',
      `${JSON.stringify(headType ?? null)} is not supported (adaptc runs classification, multilabel_classification and tagging heads)`,
    );
  }
  const known = new Set([...COMMON_KEYS, ...HEAD_KEYS[headType]]);
  for (const key of config.keys()) if (!known.has(key)) fail(key, 'unknown key');
  const integer = (key: string, min: number): number => {
    const item = config.get(key);
    if (typeof item !== 'number' || !Number.isInteger(item) || item < min)
      return fail(
        key,
        `expected an integer of at least ${min}, got ${JSON.stringify(item ?? null)}`,
      );
    return item;
  };
  const flag = (key: string, fallback: boolean): boolean => {
    const item = config.get(key);
    if (item === undefined) return fallback;
    if (typeof item !== 'boolean') return fail(key, `expected true or false`);
    return item;
  };
  const numLabels = integer('num_labels', 1);
  const layers = integer('layers', 1);
  const activationName = config.get('activation_function');
  let activation: HeadParts['activation'] = 'none';
  if (activationName !== null && activationName !== undefined) {
    const found = typeof activationName === 'string' ? hubActivation(activationName) : undefined;
    if (found === undefined)
      fail(
        'activation_function',
        `${JSON.stringify(activationName)} is not supported (adaptc runs ${HUB_ACTIVATION_NAMES.join(', ')})`,
      );
    activation = found!;
  }
  const dropout = config.get('dropout_prob');
  if (dropout !== undefined && dropout !== null && typeof dropout !== 'number')
    fail('dropout_prob', 'expected a number or null');
  return {
    savedName: name,
    type: headType,
    layers,
    activation,
    usePooler: headType === 'tagging' ? false : flag('use_pooler', false),
    bias: headType === 'tagging' ? true : flag('bias', true),
    labels: readLabels(config.get('label2id'), numLabels, (message) => fail('label2id', message)),
  };
}

/** Names by id from `label2id`; without one, transformers' `LABEL_0`, `LABEL_1`, … */
function readLabels(
  value: JsonValue | undefined,
  count: number,
  fail: (message: string) => never,
): string[] {
  if (value === undefined || value === null)
    return Array.from({ length: count }, (_, i) => `LABEL_${i}`);
  if (!(value instanceof Map)) return fail('expected an object of label names to ids');
  const labels = new Array<string | undefined>(count).fill(undefined);
  for (const [label, id] of value) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= count)
      fail(`${JSON.stringify(label)}: expected an id from 0 to ${count - 1}`);
    if (labels[id as number] !== undefined)
      fail(
        `ids must be distinct: ${JSON.stringify(label)} and ${JSON.stringify(labels[id as number])} are both ${String(id)}`,
      );
    labels[id as number] = label;
  }
  const missing = labels.findIndex((label) => label === undefined);
  if (missing >= 0) fail(`no label has id ${missing} (num_labels is ${count})`);
  return labels as string[];
}
