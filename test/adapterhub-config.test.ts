import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AdapterConfigError,
  parseConfigString,
  readBottleneckConfig,
  readSavedAdapterConfig,
  reductionFactorAt,
  type BottleneckConfig,
} from '../src/compiler/check/adapterhub/bottleneck-config.js';

const ROOT = 'test/fixtures/adapterhub';

function fixtureConfigs(): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(ROOT, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    for (const inner of readdirSync(join(ROOT, entry.name), { withFileTypes: true })) {
      const file = join(ROOT, entry.name, inner.name, 'adapter_config.json');
      if (
        inner.isDirectory() &&
        readdirSync(join(ROOT, entry.name, inner.name)).includes('adapter_config.json')
      ) {
        files.push(file);
      }
    }
  }
  return files.sort();
}

/**
 * The config as the JSON of adapters 1.1 writes it: the per-layer reduction factor back as a
 * dict, and without 1.2's `init_weights_seed` (null here: the fixtures predate it).
 */
function asJson(config: BottleneckConfig): Record<string, unknown> {
  const factor = config.reduction_factor;
  const reduction =
    typeof factor === 'number'
      ? factor
      : {
          ...Object.fromEntries([...factor.perLayer].map(([k, v]) => [String(k), v])),
          ...(factor.default === undefined ? {} : { default: factor.default }),
        };
  const { init_weights_seed, ...fields } = config;
  expect(init_weights_seed).toBeNull();
  return { ...fields, reduction_factor: reduction, leave_out: [...config.leave_out] };
}

function errorOf(run: () => unknown): AdapterConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(AdapterConfigError);
    return error as AdapterConfigError;
  }
  throw new Error('expected an AdapterConfigError');
}

const gated = (): Record<string, unknown> =>
  JSON.parse(readFileSync(join(ROOT, 'bn-gated/gated/adapter_config.json'), 'utf8')) as Record<
    string,
    unknown
  >;

describe('adapter_config.json fixtures', () => {
  const files = fixtureConfigs();

  it('finds every adapter of the fixtures', () => {
    const cases = (
      JSON.parse(readFileSync(join(ROOT, 'cases.json'), 'utf8')) as {
        cases: { adapters: Record<string, { directory: string }> }[];
      }
    ).cases;
    const listed = cases.flatMap((c) =>
      Object.values(c.adapters).map((a) => join(ROOT, a.directory, 'adapter_config.json')),
    );
    expect(files).toEqual(listed.sort());
  });

  it.each(files)('%s reads to the fields it holds', (file) => {
    const json = JSON.parse(readFileSync(file, 'utf8')) as {
      config: Record<string, unknown>;
      name: string;
    };
    const saved = readSavedAdapterConfig(json, file);
    expect(asJson(saved.config)).toEqual(json.config);
    expect(Object.keys(asJson(saved.config)).sort()).toEqual(Object.keys(json.config).sort());
    expect(saved.name).toBe(json.name);
    expect(saved.hidden_size).toBe(32);
    const family = file.includes('/roberta-') ? 'roberta' : 'bert';
    expect(saved.model_class).toBe(
      family === 'roberta' ? 'RobertaAdapterModel' : 'BertAdapterModel',
    );
    expect(saved.model_name).toBe(`${family}-tiny`);
    expect(saved.model_type).toBe(family);
    expect(saved.version).toBe('adapters.1.1.0');
    expect(readBottleneckConfig(json.config, file)).toEqual(saved.config);
  });

  it('reads a config of adapters 1.2, which saves init_weights_seed', () => {
    const json = gated() as { config: Record<string, unknown> };
    const seeded = { ...json, config: { ...json.config, init_weights_seed: 42 } };
    expect(readSavedAdapterConfig(seeded, 'a.json').config.init_weights_seed).toBe(42);
    const bad = { ...json, config: { ...json.config, init_weights_seed: 1.5 } };
    expect(errorOf(() => readSavedAdapterConfig(bad, 'a.json')).message).toBe(
      'a.json: config.init_weights_seed: expected an integer, got 1.5',
    );
  });

  it('reads the custom gated config field by field', () => {
    const c = readBottleneckConfig(gated(), 'gated.json');
    expect(c.ln_before).toBe(true);
    expect(c.ln_after).toBe(true);
    expect(c.use_gating).toBe(true);
    expect(c.scaling).toBe('channel');
    expect(c.residual_before_ln).toBe(false);
    expect(c.leave_out).toEqual([1]);
    expect(c.non_linearity).toBe('leakyrelu');
  });

  it('reads the post_add config and the per-layer reduction factor', () => {
    const post = readBottleneckConfig(
      JSON.parse(readFileSync(join(ROOT, 'bn-post-add/postadd/adapter_config.json'), 'utf8')),
      'p.json',
    );
    expect(post.residual_before_ln).toBe('post_add');
    expect(post.original_ln_after).toBe(false);
    expect(post.scaling).toBe(0.5);
    const layered = readBottleneckConfig(
      JSON.parse(readFileSync(join(ROOT, 'seq-bn-per-layer/layered/adapter_config.json'), 'utf8')),
      'l.json',
    );
    expect(reductionFactorAt(layered, 0, 'l.json')).toBe(4);
    expect(reductionFactorAt(layered, 1, 'l.json')).toBe(8);
  });

  it('takes Maps as the strict JSON reader gives them', () => {
    const toMap = (v: unknown): unknown =>
      v !== null && typeof v === 'object' && !Array.isArray(v)
        ? new Map(Object.entries(v).map(([k, x]) => [k, toMap(x)]))
        : v;
    expect(readBottleneckConfig(toMap(gated()), 'g.json')).toEqual(
      readBottleneckConfig(gated(), 'g.json'),
    );
  });
});

describe('bare config dicts', () => {
  it('fills the dataclass defaults', () => {
    const c = readBottleneckConfig(
      { mh_adapter: true, output_adapter: false, reduction_factor: 2, non_linearity: 'relu' },
      'x.json',
    );
    expect(c.original_ln_before).toBe(false);
    expect(c.original_ln_after).toBe(true);
    expect(c.init_weights).toBe('bert');
    expect(c.scaling).toBe(1.0);
    expect(c.residual_before_ln).toBe(true);
    expect(c.leave_out).toEqual([]);
    expect(c.phm_dim).toBe(4);
    expect(c.phm_init_range).toBe(0.0001);
    expect(c.hypercomplex_nonlinearity).toBe('glorot-uniform');
    expect(c.stochastic_depth).toBe(0);
  });

  it('requires the fields without a default', () => {
    const e = errorOf(() =>
      readBottleneckConfig(
        { mh_adapter: true, output_adapter: true, reduction_factor: 2 },
        'x.json',
      ),
    );
    expect(e.message).toBe('x.json: non_linearity: missing');
    expect(e.key).toBe('non_linearity');
  });
});

describe('config strings', () => {
  it('seq_bn is SeqBnConfig', () => {
    const c = parseConfigString('seq_bn', 'spec.adapt');
    expect(c.original_ln_before).toBe(true);
    expect(c.mh_adapter).toBe(false);
    expect(c.output_adapter).toBe(true);
    expect(c.reduction_factor).toBe(16);
    expect(c.non_linearity).toBe('relu');
    expect(c.is_parallel).toBe(false);
  });

  it('pfeiffer[reduction_factor=8] equals the seq-bn-head fixture', () => {
    const file = join(ROOT, 'seq-bn-head/sentiment/adapter_config.json');
    expect(parseConfigString('pfeiffer[reduction_factor=8]', 's')).toEqual(
      readBottleneckConfig(JSON.parse(readFileSync(file, 'utf8')), file),
    );
  });

  it('double_seq_bn[non_linearity=swish,scaling=learned] equals the houlsby-learned fixture', () => {
    const file = join(ROOT, 'houlsby-learned/scaled/adapter_config.json');
    const c = parseConfigString('double_seq_bn[non_linearity=swish,scaling=learned]', 's');
    expect(c.mh_adapter).toBe(true);
    expect(c.scaling).toBe('learned');
    expect(c.reduction_factor).toBe(16);
    expect({ ...c, reduction_factor: 8 }).toEqual(
      readBottleneckConfig(JSON.parse(readFileSync(file, 'utf8')), file),
    );
  });

  it('par_bn is ParBnConfig', () => {
    const c = parseConfigString('par_bn', 's');
    expect(c.is_parallel).toBe(true);
    expect(c.scaling).toBe(4);
    expect(c.init_weights).toBe('mam_adapter');
    expect(c.reduction_factor).toBe(2);
    expect(parseConfigString('par_bn[reduction_factor=4]', 's')).toEqual(
      readBottleneckConfig(
        JSON.parse(readFileSync(join(ROOT, 'par-bn/parallel/adapter_config.json'), 'utf8')),
        'p',
      ),
    );
  });

  it('reads Python literals', () => {
    const c = parseConfigString(
      "seq_bn[reduction_factor={'0': 4, 'default': 8}, leave_out=[1], use_gating=True, non_linearity='gelu_new', scaling=0.5]",
      's',
    );
    expect(reductionFactorAt(c, 0, 's')).toBe(4);
    expect(reductionFactorAt(c, 5, 's')).toBe(8);
    expect(c.leave_out).toEqual([1]);
    expect(c.use_gating).toBe(true);
    expect(c.non_linearity).toBe('gelu_new');
    expect(c.scaling).toBe(0.5);
  });
});

describe('errors', () => {
  const withConfig = (changes: Record<string, unknown>) => {
    const json = gated();
    return { ...json, config: { ...(json.config as object), ...changes } };
  };
  const file = 'ad/adapter_config.json';

  it.each([
    [
      { phm_layer: true },
      'config.phm_layer',
      'ad/adapter_config.json: config.phm_layer: true is not supported (parameterized hypercomplex adapters)',
    ],
    [
      { inv_adapter: 'nice' },
      'config.inv_adapter',
      'ad/adapter_config.json: config.inv_adapter: "nice" is not supported (invertible adapters)',
    ],
    [
      { cross_adapter: true },
      'config.cross_adapter',
      'ad/adapter_config.json: config.cross_adapter: true is not supported (cross-attention adapters of encoder-decoder models)',
    ],
    [
      { extra_thing: 1 },
      'config.extra_thing',
      'ad/adapter_config.json: config.extra_thing: unknown key',
    ],
    [
      { ln_before: 'yes' },
      'config.ln_before',
      'ad/adapter_config.json: config.ln_before: expected a boolean, got "yes"',
    ],
    [
      { scaling: 'big' },
      'config.scaling',
      'ad/adapter_config.json: config.scaling: expected a number, "learned" or "channel", got "big"',
    ],
    [
      { residual_before_ln: 'pre_add' },
      'config.residual_before_ln',
      'ad/adapter_config.json: config.residual_before_ln: expected a boolean or "post_add", got "pre_add"',
    ],
    [
      { reduction_factor: 0 },
      'config.reduction_factor',
      'ad/adapter_config.json: config.reduction_factor: expected a number > 0, got 0',
    ],
    [
      { reduction_factor: { x: 2 } },
      'config.reduction_factor',
      'ad/adapter_config.json: config.reduction_factor: key "x" is neither a layer index nor "default"',
    ],
    [
      { leave_out: [-1] },
      'config.leave_out',
      'ad/adapter_config.json: config.leave_out: expected a layer index (an integer >= 0), got -1',
    ],
    [{ non_linearity: 'swoosh' }, 'config.non_linearity', undefined],
    [
      { init_weights: 'xavier' },
      'config.init_weights',
      'ad/adapter_config.json: config.init_weights: expected one of bert, mam_adapter, houlsby, got "xavier"',
    ],
    [
      { architecture: 'lora' },
      'config.architecture',
      'ad/adapter_config.json: config.architecture: "lora" is not supported (only bottleneck adapters)',
    ],
    [
      { phm_dim: 2.5 },
      'config.phm_dim',
      'ad/adapter_config.json: config.phm_dim: expected an integer, got 2.5',
    ],
    [
      { dropout: 2 },
      'config.dropout',
      'ad/adapter_config.json: config.dropout: 2 is out of range [0, 1]',
    ],
  ])('%j', (changes, key, message) => {
    const e = errorOf(() => readBottleneckConfig(withConfig(changes), file));
    expect(e.file).toBe(file);
    expect(e.key).toBe(key);
    if (message !== undefined) expect(e.message).toBe(message);
  });

  it('an unknown wrapper key and a config that is not an object', () => {
    expect(errorOf(() => readBottleneckConfig({ ...gated(), extra: 1 }, file)).message).toBe(
      'ad/adapter_config.json: extra: unknown key',
    );
    expect(errorOf(() => readBottleneckConfig({ ...gated(), hidden_size: '32' }, file)).key).toBe(
      'hidden_size',
    );
    expect(errorOf(() => readBottleneckConfig({ config: [1] }, file)).message).toBe(
      'ad/adapter_config.json: config: expected an object, got a list',
    );
    expect(errorOf(() => readBottleneckConfig([1], file)).message).toBe(
      'ad/adapter_config.json: expected a JSON object',
    );
  });

  it('a missing per-layer reduction factor', () => {
    const c = parseConfigString("seq_bn[reduction_factor={'0': 4}]", 's');
    expect(errorOf(() => reductionFactorAt(c, 1, 's')).message).toBe(
      's: reduction_factor: no entry for layer 1 and no "default"',
    );
  });

  it.each([
    ['lora', "spec.adapt: adapter config 'lora' is not supported (not a bottleneck adapter)"],
    [
      'compacter',
      "spec.adapt: adapter config 'compacter' is not supported (parameterized hypercomplex adapters)",
    ],
    [
      'seq_bn_inv',
      "spec.adapt: adapter config 'seq_bn_inv' is not supported (invertible adapters)",
    ],
    [
      'nope',
      "spec.adapt: unknown adapter config 'nope' (known: seq_bn, pfeiffer, double_seq_bn, houlsby, par_bn, parallel, scaled_par_bn, scaled_parallel)",
    ],
    [
      'seq_bn|par_bn',
      "spec.adapt: config 'seq_bn|par_bn': unions of configs ('|') are not supported",
    ],
    ['seq_bn[reduction_factor=8', "spec.adapt: invalid config string 'seq_bn[reduction_factor=8'"],
    [
      'seq_bn[reduction_factor=]',
      "spec.adapt: config 'seq_bn[reduction_factor=]': expected a value at the end",
    ],
    ['seq_bn[bogus=1]', 'spec.adapt: bogus: unknown key'],
    [
      'seq_bn[phm_layer=True]',
      'spec.adapt: phm_layer: true is not supported (parameterized hypercomplex adapters)',
    ],
    ['seq_bn[use_gating=yes]', 'spec.adapt: use_gating: expected a boolean, got "yes"'],
  ])('%s', (text, message) => {
    expect(errorOf(() => parseConfigString(text, 'spec.adapt')).message).toBe(message);
  });
});
