import type { JsonValue } from '../checkpoint/json.js';
import type { HubFusionFields } from '../../model.js';
import { AdapterConfigError } from './adapter-config-error.js';
import { readWrapper } from './saved-wrapper.js';

const FIELDS = [
  'key',
  'query',
  'value',
  'query_before_ln',
  'regularization',
  'residual_before',
  'temperature',
  'value_before_softmax',
  'value_initialized',
  'dropout_prob',
] as const;
type Field = (typeof FIELDS)[number];
type Plain = boolean | number | null;

/** `adapter_fusion_config.py`: `DynamicAdapterFusionConfig` and `StaticAdapterFusionConfig`. */
export const FUSION_PRESETS: ReadonlyMap<string, Readonly<Record<Field, Plain>>> = new Map([
  [
    'dynamic',
    {
      key: true,
      query: true,
      value: true,
      query_before_ln: false,
      regularization: true,
      residual_before: false,
      temperature: false,
      value_before_softmax: true,
      value_initialized: true,
      dropout_prob: null,
    },
  ],
  [
    'static',
    {
      key: true,
      query: true,
      value: false,
      query_before_ln: false,
      regularization: false,
      residual_before: false,
      temperature: false,
      value_before_softmax: true,
      value_initialized: false,
      dropout_prob: null,
    },
  ],
]);

export interface FusionParts {
  readonly fields: HubFusionFields;
  /** The member adapters as saved: the wrapper's `name` split at commas. */
  readonly members: readonly string[] | undefined;
}

/**
 * Reads `adapter_fusion_config.json` as `AdapterFusionLoader.save` writes it: the
 * `build_full_config` wrapper, its config a dict of every field (or a preset name). Every field
 * is checked; `temperature` true is refused: the library lowers T from 50 by T/1000 on every
 * forward call (`BertFusion.forward`), a state no compiled graph can reproduce.
 */
export function readFusionConfig(value: JsonValue, file: string, hidden: number): FusionParts {
  const { top, name } = readWrapper(value, file, hidden);
  const config = top.get('config');
  if (config === undefined) throw new AdapterConfigError(file, 'missing', 'config');
  return {
    fields: readFusionFields(config, file, 'config.'),
    members: name === undefined ? undefined : name.split(','),
  };
}

export function readFusionFields(config: JsonValue, file: string, prefix: string): HubFusionFields {
  const fail = (key: string, message: string): never => {
    throw new AdapterConfigError(file, message, `${prefix}${key}`.replace(/\.$/, ''));
  };
  let values: Readonly<Record<Field, Plain>>;
  if (typeof config === 'string') {
    const preset = FUSION_PRESETS.get(config);
    if (!preset)
      return fail('', `unknown fusion config ${JSON.stringify(config)} (known: dynamic, static)`);
    values = preset;
  } else if (config instanceof Map) {
    for (const key of config.keys()) {
      if (!(FIELDS as readonly string[]).includes(key)) fail(key, 'unknown key');
    }
    const read: Partial<Record<Field, Plain>> = {};
    for (const field of FIELDS) {
      const item = config.get(field);
      if (item === undefined) fail(field, 'missing');
      if (field === 'dropout_prob') {
        if (item !== null && (typeof item !== 'number' || item < 0 || item > 1))
          fail(field, 'expected a number from 0 to 1, or null');
      } else if (typeof item !== 'boolean') fail(field, 'expected true or false');
      read[field] = item as Plain;
    }
    values = read as Record<Field, Plain>;
  } else {
    return fail('', 'expected an object of fusion fields, or "dynamic" / "static"');
  }
  if (values.temperature === true)
    fail(
      'temperature',
      'true is not supported: the library divides the scores by T = 50 and lowers T by T/1000 on every forward call, so the same input gives other outputs call after call',
    );
  return {
    query: values.query === true,
    key: values.key === true,
    value: values.value === true,
    valueBeforeSoftmax: values.value_before_softmax === true,
    queryBeforeLn: values.query_before_ln === true,
    residualBefore: values.residual_before === true,
  };
}
