/**
 * The bottleneck adapter configuration of the Python `adapters` library (1.x; older
 * `adapter-transformers`), read strictly: every field of
 * `adapters/src/adapters/configuration/adapter_config.py: BnConfig` with the dataclass defaults,
 * from `adapter_config.json` as `save_adapter` writes it, from a bare config dict, or from a
 * config string such as `pfeiffer[reduction_factor=8]` (`AdapterConfig.load`).
 */
import { AdapterConfigError } from './adapter-config-error.js';
import { WRAPPER_KEYS } from './saved-wrapper.js';

export { AdapterConfigError } from './adapter-config-error.js';

/** A scalar for every layer, or per layer (keys are layer indices from 0) with a fallback. */
export type ReductionFactor =
  number | { readonly perLayer: ReadonlyMap<number, number>; readonly default: number | undefined };

export interface BottleneckConfig {
  readonly mh_adapter: boolean;
  readonly output_adapter: boolean;
  readonly reduction_factor: ReductionFactor;
  readonly non_linearity: string;
  readonly original_ln_before: boolean;
  readonly original_ln_after: boolean;
  readonly ln_before: boolean;
  readonly ln_after: boolean;
  readonly init_weights: 'bert' | 'mam_adapter' | 'houlsby';
  readonly is_parallel: boolean;
  readonly scaling: number | 'learned' | 'channel';
  readonly use_gating: boolean;
  readonly residual_before_ln: boolean | 'post_add';
  readonly adapter_residual_before_ln: boolean;
  readonly inv_adapter: null;
  readonly inv_adapter_reduction_factor: number | null;
  readonly cross_adapter: false;
  readonly leave_out: readonly number[];
  readonly dropout: number;
  readonly phm_layer: false;
  readonly phm_dim: number;
  readonly factorized_phm_W: boolean | null;
  readonly shared_W_phm: boolean | null;
  readonly shared_phm_rule: boolean | null;
  readonly factorized_phm_rule: boolean | null;
  readonly phm_c_init: string | null;
  readonly phm_init_range: number | null;
  readonly learn_phm: boolean | null;
  readonly hypercomplex_nonlinearity: string | null;
  readonly phm_rank: number | null;
  readonly phm_bias: boolean | null;
  readonly stochastic_depth: number | null;
  /** adapters 1.2: the seed of a new adapter's initialization; no effect on a loaded one. */
  readonly init_weights_seed: number | null;
}

/** `adapter_config.json` as `save_adapter` writes it (`build_full_config`), around the config. */
export interface SavedAdapterConfig {
  readonly config: BottleneckConfig;
  readonly hidden_size: number | undefined;
  readonly model_class: string | undefined;
  readonly model_name: string | undefined;
  readonly model_type: string | undefined;
  readonly name: string | undefined;
  readonly version: string | undefined;
  readonly type: string | undefined;
}

export type Plain =
  null | boolean | number | string | readonly Plain[] | ReadonlyMap<string, Plain>;

/** `BnConfig`'s fields without a default; every other field is optional. */
const REQUIRED = ['mh_adapter', 'output_adapter', 'reduction_factor', 'non_linearity'] as const;

/** `BnConfig`'s fields with a default, in the dataclass's order, with the defaults. */
export const BN_CONFIG_DEFAULTS: ReadonlyMap<string, Plain> = new Map<string, Plain>([
  ['original_ln_before', false],
  ['original_ln_after', true],
  ['ln_before', false],
  ['ln_after', false],
  ['init_weights', 'bert'],
  ['is_parallel', false],
  ['scaling', 1.0],
  ['use_gating', false],
  ['residual_before_ln', true],
  ['adapter_residual_before_ln', false],
  ['inv_adapter', null],
  ['inv_adapter_reduction_factor', null],
  ['cross_adapter', false],
  ['leave_out', []],
  ['dropout', 0.0],
  ['phm_layer', false],
  ['phm_dim', 4],
  ['factorized_phm_W', true],
  ['shared_W_phm', false],
  ['shared_phm_rule', true],
  ['factorized_phm_rule', false],
  ['phm_c_init', 'normal'],
  ['phm_init_range', 0.0001],
  ['learn_phm', true],
  ['hypercomplex_nonlinearity', 'glorot-uniform'],
  ['phm_rank', 1],
  ['phm_bias', true],
  ['stochastic_depth', 0.0],
  ['init_weights_seed', null],
]);

const FIELDS: ReadonlySet<string> = new Set([...REQUIRED, ...BN_CONFIG_DEFAULTS.keys()]);

/** Keys `from_dict` sets as plain attributes that a saved config may carry besides the fields. */
const EXTRA_KEYS: ReadonlySet<string> = new Set(['architecture', 'invertible_adapter']);

const SEQ_BN: ReadonlyMap<string, Plain> = new Map<string, Plain>([
  ['original_ln_before', true],
  ['original_ln_after', true],
  ['residual_before_ln', true],
  ['adapter_residual_before_ln', false],
  ['ln_before', false],
  ['ln_after', false],
  ['mh_adapter', false],
  ['output_adapter', true],
  ['non_linearity', 'relu'],
  ['reduction_factor', 16],
]);

const DOUBLE_SEQ_BN: ReadonlyMap<string, Plain> = new Map<string, Plain>([
  ['original_ln_before', false],
  ['original_ln_after', true],
  ['residual_before_ln', true],
  ['adapter_residual_before_ln', false],
  ['ln_before', false],
  ['ln_after', false],
  ['mh_adapter', true],
  ['output_adapter', true],
  ['non_linearity', 'swish'],
  ['reduction_factor', 16],
]);

const PAR_BN: ReadonlyMap<string, Plain> = new Map<string, Plain>([
  ['original_ln_before', false],
  ['original_ln_after', true],
  ['ln_before', false],
  ['ln_after', false],
  ['mh_adapter', false],
  ['output_adapter', true],
  ['non_linearity', 'relu'],
  ['reduction_factor', 2],
  ['init_weights', 'mam_adapter'],
  ['is_parallel', true],
  ['scaling', 4.0],
]);

const withField = (base: ReadonlyMap<string, Plain>, key: string, value: Plain) =>
  new Map([...base, [key, value]]);

/** `ADAPTER_CONFIG_MAP`'s bottleneck presets adaptc runs (`adapter_config.py`). */
const PRESETS: ReadonlyMap<string, ReadonlyMap<string, Plain>> = new Map([
  ['seq_bn', SEQ_BN],
  ['pfeiffer', SEQ_BN],
  ['double_seq_bn', DOUBLE_SEQ_BN],
  ['houlsby', DOUBLE_SEQ_BN],
  ['par_bn', PAR_BN],
  ['parallel', PAR_BN],
  ['scaled_par_bn', withField(PAR_BN, 'scaling', 'learned')],
  ['scaled_parallel', withField(PAR_BN, 'scaling', 'learned')],
]);

/** `ADAPTER_CONFIG_MAP` names adaptc knows but does not run, with the reason. */
const UNSUPPORTED_PRESETS: ReadonlyMap<string, string> = new Map([
  ['seq_bn_inv', 'invertible adapters'],
  ['pfeiffer+inv', 'invertible adapters'],
  ['double_seq_bn_inv', 'invertible adapters'],
  ['houlsby+inv', 'invertible adapters'],
  ['compacter', 'parameterized hypercomplex adapters'],
  ['compacter++', 'parameterized hypercomplex adapters'],
  ['prefix_tuning', 'not a bottleneck adapter'],
  ['prefix_tuning_flat', 'not a bottleneck adapter'],
  ['prompt_tuning', 'not a bottleneck adapter'],
  ['lora', 'not a bottleneck adapter'],
  ['ia3', 'not a bottleneck adapter'],
  ['loreft', 'not a bottleneck adapter'],
  ['noreft', 'not a bottleneck adapter'],
  ['direft', 'not a bottleneck adapter'],
  ['mam', 'not a bottleneck adapter'],
  ['unipelt', 'not a bottleneck adapter'],
]);

/**
 * Activations `Activation_Function_Class` (`adapters/src/adapters/methods/modeling.py`) resolves:
 * `leakyrelu`, else the transformers `ACT2FN` names; the library lower-cases the name first.
 */
const NON_LINEARITIES: ReadonlySet<string> = new Set([
  'leakyrelu',
  'relu',
  'relu6',
  'gelu',
  'gelu_new',
  'gelu_fast',
  'gelu_python',
  'gelu_pytorch_tanh',
  'gelu_accurate',
  'quick_gelu',
  'silu',
  'swish',
  'tanh',
  'sigmoid',
  'linear',
  'mish',
]);

const INIT_WEIGHTS = ['bert', 'mam_adapter', 'houlsby'] as const;

/** Reads `adapter_config.json` (the `save_adapter` wrapper or a bare config dict), as parsed JSON. */
export function readBottleneckConfig(value: unknown, file: string): BottleneckConfig {
  return readSavedAdapterConfig(value, file).config;
}

/** Reads `adapter_config.json` with the wrapper's metadata (all undefined for a bare config). */
export function readSavedAdapterConfig(value: unknown, file: string): SavedAdapterConfig {
  const top = toPlain(value, file, '');
  if (!(top instanceof Map)) throw new AdapterConfigError(file, 'expected a JSON object');
  if (!top.has('config')) {
    return { ...noMetadata, config: readFields(top, file, '') };
  }
  // adapter-transformers also wrote the adapter's `type`.
  for (const key of top.keys()) {
    if (!WRAPPER_KEYS.includes(key) && key !== 'type')
      throw new AdapterConfigError(file, 'unknown key', key);
  }
  const inner = top.get('config')!;
  if (!(inner instanceof Map)) {
    throw new AdapterConfigError(file, `expected an object, got ${describe(inner)}`, 'config');
  }
  const hidden = top.get('hidden_size');
  if (
    hidden !== undefined &&
    !(typeof hidden === 'number' && Number.isInteger(hidden) && hidden > 0)
  ) {
    throw new AdapterConfigError(
      file,
      `expected a positive integer, got ${describe(hidden)}`,
      'hidden_size',
    );
  }
  const text = (key: string): string | undefined => {
    const item = top.get(key);
    if (item === undefined || typeof item === 'string') return item;
    throw new AdapterConfigError(file, `expected a string, got ${describe(item)}`, key);
  };
  return {
    config: readFields(inner, file, 'config.'),
    hidden_size: hidden,
    model_class: text('model_class'),
    model_name: text('model_name'),
    model_type: text('model_type'),
    name: text('name'),
    version: text('version'),
    type: text('type'),
  };
}

const noMetadata = {
  hidden_size: undefined,
  model_class: undefined,
  model_name: undefined,
  model_type: undefined,
  name: undefined,
  version: undefined,
  type: undefined,
} as const;

/**
 * Reads a config string as `AdapterConfig.load` does: a preset name of `ADAPTER_CONFIG_MAP`, then
 * optionally `[key=value,...]` replacing fields (`utils.py: parse_adapter_config_string`). Values
 * are Python literals (`8`, `0.5`, `True`, `None`, `'relu'`, `[0, 1]`, `{'0': 4, 'default': 8}`);
 * a bare word is a string, so `non_linearity=swish` reads as `'swish'`.
 */
export function parseConfigString(text: string, file: string): BottleneckConfig {
  const source = text.trim();
  if (source.includes('|')) {
    throw new AdapterConfigError(
      file,
      `config '${source}': unions of configs ('|') are not supported`,
    );
  }
  const match = /^([^[\]|\n]+?)\s*(?:\[(.*)\])?$/s.exec(source);
  if (match === null) throw new AdapterConfigError(file, `invalid config string '${source}'`);
  const name = match[1]!;
  const preset = PRESETS.get(name);
  if (preset === undefined) {
    const reason = UNSUPPORTED_PRESETS.get(name);
    throw new AdapterConfigError(
      file,
      reason === undefined
        ? `unknown adapter config '${name}' (known: ${[...PRESETS.keys()].join(', ')})`
        : `adapter config '${name}' is not supported (${reason})`,
    );
  }
  const fields = new Map(preset);
  if (match[2] !== undefined) {
    for (const [key, value] of new LiteralReader(match[2], file, source).keyValues()) {
      if (!FIELDS.has(key)) throw new AdapterConfigError(file, 'unknown key', key);
      fields.set(key, value);
    }
  }
  return readFields(fields, file, '');
}

/** The reduction factor of layer `layer` (from 0), as `Adapter.__init__` looks it up. */
export function reductionFactorAt(config: BottleneckConfig, layer: number, file: string): number {
  const factor = config.reduction_factor;
  if (typeof factor === 'number') return factor;
  const value = factor.perLayer.get(layer) ?? factor.default;
  if (value === undefined) {
    throw new AdapterConfigError(
      file,
      `no entry for layer ${layer} and no "default"`,
      'reduction_factor',
    );
  }
  return value;
}

function readFields(
  fields: ReadonlyMap<string, Plain>,
  file: string,
  prefix: string,
): BottleneckConfig {
  const fail = (key: string, message: string): never => {
    throw new AdapterConfigError(file, message, prefix + key);
  };
  for (const key of fields.keys()) {
    if (!FIELDS.has(key) && !EXTRA_KEYS.has(key)) fail(key, 'unknown key');
  }
  for (const key of REQUIRED) if (!fields.has(key)) fail(key, 'missing');

  const architecture = fields.get('architecture');
  if (architecture !== undefined && architecture !== null && architecture !== 'bottleneck') {
    fail('architecture', `${describe(architecture)} is not supported (only bottleneck adapters)`);
  }
  const legacyInvertible = fields.get('invertible_adapter');
  if (legacyInvertible !== undefined && legacyInvertible !== null) {
    fail('invertible_adapter', 'is not supported (invertible adapters)');
  }

  const get = (key: string): Plain =>
    fields.has(key) ? fields.get(key)! : BN_CONFIG_DEFAULTS.get(key)!;
  const bool = (key: string): boolean => {
    const value = get(key);
    return typeof value === 'boolean'
      ? value
      : fail(key, `expected a boolean, got ${describe(value)}`);
  };
  const optionalBool = (key: string): boolean | null => (get(key) === null ? null : bool(key));
  const number = (key: string, min: number, max: number, integer = false): number => {
    const value = get(key);
    if (typeof value !== 'number' || (integer && !Number.isInteger(value))) {
      return fail(key, `expected ${integer ? 'an integer' : 'a number'}, got ${describe(value)}`);
    }
    if (!(value >= min && value <= max)) fail(key, `${value} is out of range [${min}, ${max}]`);
    return value;
  };
  const optionalNumber = (key: string, min: number, max: number, integer = false) =>
    get(key) === null ? null : number(key, min, max, integer);
  const optionalString = (key: string): string | null => {
    const value = get(key);
    if (value === null || typeof value === 'string') return value;
    return fail(key, `expected a string, got ${describe(value)}`);
  };
  const unsupportedWhen = (key: string, value: Plain, reason: string) => {
    if (get(key) === value) fail(key, `${describe(value)} is not supported (${reason})`);
  };

  const phm_layer = bool('phm_layer');
  unsupportedWhen('phm_layer', true, 'parameterized hypercomplex adapters');
  const cross_adapter = bool('cross_adapter');
  unsupportedWhen('cross_adapter', true, 'cross-attention adapters of encoder-decoder models');
  const inv_adapter = get('inv_adapter');
  if (inv_adapter !== null) {
    if (typeof inv_adapter !== 'string') {
      fail('inv_adapter', `expected a string or null, got ${describe(inv_adapter)}`);
    }
    fail('inv_adapter', `${describe(inv_adapter)} is not supported (invertible adapters)`);
  }

  const nonLinearity = get('non_linearity');
  if (typeof nonLinearity !== 'string') {
    fail('non_linearity', `expected a string, got ${describe(nonLinearity)}`);
  }
  if (!NON_LINEARITIES.has(String(nonLinearity).toLowerCase())) {
    fail(
      'non_linearity',
      `unknown activation ${describe(nonLinearity)} (known: ${[...NON_LINEARITIES].join(', ')})`,
    );
  }

  const initWeights = get('init_weights');
  const init_weights = INIT_WEIGHTS.find((name) => name === initWeights);
  if (init_weights === undefined) {
    fail(
      'init_weights',
      `expected one of ${INIT_WEIGHTS.join(', ')}, got ${describe(initWeights)}`,
    );
  }

  const scalingValue = get('scaling');
  let scaling: BottleneckConfig['scaling'];
  if (scalingValue === 'learned' || scalingValue === 'channel') scaling = scalingValue;
  else if (typeof scalingValue === 'number' && Number.isFinite(scalingValue))
    scaling = scalingValue;
  else
    scaling = fail(
      'scaling',
      `expected a number, "learned" or "channel", got ${describe(scalingValue)}`,
    );

  const residual = get('residual_before_ln');
  if (typeof residual !== 'boolean' && residual !== 'post_add') {
    fail('residual_before_ln', `expected a boolean or "post_add", got ${describe(residual)}`);
  }

  const config: BottleneckConfig = {
    mh_adapter: bool('mh_adapter'),
    output_adapter: bool('output_adapter'),
    reduction_factor: readReductionFactor(get('reduction_factor'), (message) =>
      fail('reduction_factor', message),
    ),
    non_linearity: nonLinearity as string,
    original_ln_before: bool('original_ln_before'),
    original_ln_after: bool('original_ln_after'),
    ln_before: bool('ln_before'),
    ln_after: bool('ln_after'),
    init_weights: init_weights!,
    is_parallel: bool('is_parallel'),
    scaling,
    use_gating: bool('use_gating'),
    residual_before_ln: residual as boolean | 'post_add',
    adapter_residual_before_ln: bool('adapter_residual_before_ln'),
    inv_adapter: null,
    inv_adapter_reduction_factor: optionalNumber('inv_adapter_reduction_factor', 0, Infinity),
    cross_adapter: cross_adapter as false,
    leave_out: readLeaveOut(get('leave_out'), (message) => fail('leave_out', message)),
    dropout: number('dropout', 0, 1),
    phm_layer: phm_layer as false,
    phm_dim: number('phm_dim', 1, Number.MAX_SAFE_INTEGER, true),
    factorized_phm_W: optionalBool('factorized_phm_W'),
    shared_W_phm: optionalBool('shared_W_phm'),
    shared_phm_rule: optionalBool('shared_phm_rule'),
    factorized_phm_rule: optionalBool('factorized_phm_rule'),
    phm_c_init: optionalString('phm_c_init'),
    phm_init_range: optionalNumber('phm_init_range', 0, Infinity),
    learn_phm: optionalBool('learn_phm'),
    hypercomplex_nonlinearity: optionalString('hypercomplex_nonlinearity'),
    phm_rank: optionalNumber('phm_rank', 1, Number.MAX_SAFE_INTEGER, true),
    phm_bias: optionalBool('phm_bias'),
    stochastic_depth: optionalNumber('stochastic_depth', 0, 1),
    init_weights_seed: optionalNumber('init_weights_seed', 0, Number.MAX_SAFE_INTEGER, true),
  };
  return Object.freeze(config);
}

function readReductionFactor(value: Plain, fail: (message: string) => never): ReductionFactor {
  const positive = (item: Plain, where: string): number => {
    if (typeof item === 'number' && Number.isFinite(item) && item > 0) return item;
    return fail(`${where}expected a number > 0, got ${describe(item)}`);
  };
  if (!(value instanceof Map)) return positive(value, '');
  const perLayer = new Map<number, number>();
  let fallback: number | undefined;
  for (const [key, item] of value) {
    if (key === 'default') {
      fallback = positive(item, '"default": ');
    } else if (/^(?:0|[1-9]\d{0,5})$/.test(key)) {
      perLayer.set(Number(key), positive(item, `"${key}": `));
    } else {
      fail(`key ${JSON.stringify(key)} is neither a layer index nor "default"`);
    }
  }
  return Object.freeze({ perLayer, default: fallback });
}

function readLeaveOut(value: Plain, fail: (message: string) => never): readonly number[] {
  if (!Array.isArray(value))
    return fail(`expected a list of layer indices, got ${describe(value)}`);
  const layers = value.map((item: Plain) =>
    typeof item === 'number' && Number.isInteger(item) && item >= 0
      ? item
      : fail(`expected a layer index (an integer >= 0), got ${describe(item)}`),
  );
  return Object.freeze(layers);
}

function describe(value: Plain | undefined): string {
  if (value === undefined) return 'nothing';
  if (value instanceof Map) return 'an object';
  if (Array.isArray(value)) return 'a list';
  return JSON.stringify(value);
}

/**
 * Parsed JSON (from `JSON.parse`, or Maps from the project's strict JSON reader) as Maps, lists and
 * scalars; anything else is an error naming the key.
 */
function toPlain(value: unknown, file: string, key: string): Plain {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return value;
    throw new AdapterConfigError(file, `${value} is not a JSON number`, key || undefined);
  }
  const child = (name: string) => (key === '' ? name : `${key}.${name}`);
  if (Array.isArray(value)) {
    return value.map((item: unknown, index) => toPlain(item, file, child(String(index))));
  }
  if (value instanceof Map) {
    const map = new Map<string, Plain>();
    for (const [name, item] of value as Map<unknown, unknown>) {
      if (typeof name !== 'string') {
        throw new AdapterConfigError(file, 'object keys must be strings', key || undefined);
      }
      map.set(name, toPlain(item, file, child(name)));
    }
    return map;
  }
  if (typeof value === 'object') {
    const prototype: unknown = Object.getPrototypeOf(value);
    if (prototype === Object.prototype || prototype === null) {
      return new Map(
        Object.entries(value).map(([name, item]) => [name, toPlain(item, file, child(name))]),
      );
    }
  }
  throw new AdapterConfigError(file, `not a JSON value (${typeof value})`, key || undefined);
}

/** The `key=value,...` of a config string; values are Python literals or bare words. */
class LiteralReader {
  private at = 0;

  constructor(
    private readonly text: string,
    private readonly file: string,
    private readonly source: string,
  ) {}

  keyValues(): Map<string, Plain> {
    const result = new Map<string, Plain>();
    this.space();
    while (this.at < this.text.length) {
      const key = /[A-Za-z_]\w*/y;
      key.lastIndex = this.at;
      const found = key.exec(this.text);
      if (found === null) this.fail('expected a key');
      this.at = key.lastIndex;
      this.space();
      this.expect('=');
      const name = found![0];
      if (result.has(name)) this.fail(`key '${name}' given twice`);
      result.set(name, this.value());
      this.space();
      if (this.at < this.text.length) this.expect(',');
      this.space();
    }
    return result;
  }

  private value(): Plain {
    this.space();
    const c = this.text[this.at];
    if (c === '[') return this.list();
    if (c === '{') return this.dict();
    if (c === "'" || c === '"') return this.string();
    const numberPattern = /[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?(?![\w.])/y;
    numberPattern.lastIndex = this.at;
    const number = numberPattern.exec(this.text);
    if (number !== null) {
      this.at = numberPattern.lastIndex;
      return Number(number[0]);
    }
    const wordPattern = /[A-Za-z_][\w+-]*/y;
    wordPattern.lastIndex = this.at;
    const word = wordPattern.exec(this.text);
    if (word === null) return this.fail('expected a value');
    this.at = wordPattern.lastIndex;
    if (word[0] === 'True') return true;
    if (word[0] === 'False') return false;
    if (word[0] === 'None') return null;
    return word[0];
  }

  private list(): Plain[] {
    this.expect('[');
    const items: Plain[] = [];
    this.space();
    while (this.text[this.at] !== ']') {
      items.push(this.value());
      this.space();
      if (this.text[this.at] !== ']') this.expect(',');
      this.space();
    }
    this.at++;
    return items;
  }

  private dict(): Map<string, Plain> {
    this.expect('{');
    const entries = new Map<string, Plain>();
    this.space();
    while (this.text[this.at] !== '}') {
      const key = this.value();
      if (typeof key !== 'string' && typeof key !== 'number') this.fail('expected a dict key');
      this.space();
      this.expect(':');
      entries.set(String(key), this.value());
      this.space();
      if (this.text[this.at] !== '}') this.expect(',');
      this.space();
    }
    this.at++;
    return entries;
  }

  private string(): string {
    const quote = this.text[this.at]!;
    const end = this.text.indexOf(quote, this.at + 1);
    if (end < 0) this.fail('unterminated string');
    const body = this.text.slice(this.at + 1, end);
    if (body.includes('\\')) this.fail('escapes in strings are not supported');
    this.at = end + 1;
    return body;
  }

  private expect(char: string): void {
    if (this.text[this.at] !== char) this.fail(`expected '${char}'`);
    this.at++;
  }

  private space(): void {
    while (this.at < this.text.length && /\s/.test(this.text[this.at]!)) this.at++;
  }

  private fail(message: string): never {
    const rest = this.text.slice(this.at);
    const near = rest === '' ? 'at the end' : `at '${rest.slice(0, 16)}'`;
    throw new AdapterConfigError(this.file, `config '${this.source}': ${message} ${near}`);
  }
}
