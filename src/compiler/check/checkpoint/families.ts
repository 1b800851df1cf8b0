import { MAX_LAYERS, MAX_SIZE } from '../limits.js';
import type { BASE_ACTIVATIONS, Family } from '../../model.js';
import { listStrings, type ConfigReader } from './config-reader.js';

type BaseActivation = (typeof BASE_ACTIVATIONS)[number];

/** `model_type` → family. */
export const MODEL_TYPES: Readonly<Record<string, Family>> = {
  bert: 'bert',
  roberta: 'roberta',
  'xlm-roberta': 'roberta',
  distilbert: 'distilbert',
  gpt2: 'gpt2',
};

/** The activation names of Hugging Face's ACT2FN that a base model can run. */
const ACTIVATIONS: Readonly<Record<string, BaseActivation>> = {
  gelu: 'gelu',
  gelu_new: 'gelu_tanh',
  gelu_pytorch_tanh: 'gelu_tanh',
  relu: 'relu',
  silu: 'silu',
  swish: 'silu',
};

/** DistilBERT's LayerNorms are built with eps 1e-12 in its modeling code, not from its config. */
const DISTILBERT_EPS = 1e-12;

/** A value read from config.json, and how a help line names where it came from. */
export interface ConfigFact<T> {
  readonly value: T;
  /** The key it was read from (`model_type` for what the family fixes). */
  readonly key: string;
  /** `hidden_size 32`, `model_type "gpt2", which is pre-LN`. */
  readonly source: string;
}

/** What the base model's properties are, per config.json. */
export interface BaseFacts {
  readonly hidden: ConfigFact<number>;
  readonly heads: ConfigFact<number>;
  readonly ffn: ConfigFact<number>;
  readonly layers: ConfigFact<number>;
  readonly activation: ConfigFact<BaseActivation>;
  readonly norm: ConfigFact<'post' | 'pre'>;
  readonly eps: ConfigFact<number>;
  readonly attention: ConfigFact<'bidirectional' | 'causal'>;
}

export interface FamilyConfig {
  readonly base: BaseFacts;
  readonly vocab: number;
  readonly maxPositions: number;
  readonly typeVocab: number;
  readonly padId?: number;
  readonly embeddingEps?: number;
}

const SIZE = { min: 1, max: MAX_SIZE } as const;
const LAYERS = { min: 1, max: MAX_LAYERS } as const;
const ID = { min: 0, max: MAX_SIZE } as const;

function fact<T>(value: T | undefined, key: string, shown: string): ConfigFact<T> | undefined {
  return value === undefined ? undefined : { value, key, source: `${key} ${shown}` };
}

/** A fact the family fixes, named after the config's model_type. */
function fixed<T>(value: T, modelType: string, why: string): ConfigFact<T> {
  return { value, key: 'model_type', source: `model_type ${JSON.stringify(modelType)}, ${why}` };
}

function sized(reader: ConfigReader, key: string, bounds = SIZE): ConfigFact<number> | undefined {
  const value = reader.integer(key, bounds);
  return fact(value, key, String(value));
}

function activation(reader: ConfigReader, key: string): ConfigFact<BaseActivation> | undefined {
  const name = reader.choice(key, Object.keys(ACTIVATIONS), 'E0117');
  return name === undefined ? undefined : fact(ACTIVATIONS[name], key, JSON.stringify(name));
}

function epsilon(reader: ConfigReader, key: string): ConfigFact<number> | undefined {
  const value = reader.positive(key);
  return fact(value, key, String(value));
}

/** Options of a family's modeling code that change what it computes, and are not supported. */
function unsupportedOptions(reader: ConfigReader, family: Family): void {
  if (family === 'bert' || family === 'roberta') {
    if (reader.has('position_embedding_type')) {
      const type = reader.string('position_embedding_type');
      if (type !== undefined && type !== 'absolute') {
        reader.report(
          'position_embedding_type',
          `${JSON.stringify(type)} is not supported; only "absolute" positions are`,
          'E0117',
        );
      }
    }
  }
  if (family === 'gpt2') {
    const fixed: [string, boolean][] = [
      ['scale_attn_weights', true],
      ['scale_attn_by_inverse_layer_idx', false],
      ['reorder_and_upcast_attn', false],
      ['add_cross_attention', false],
    ];
    for (const [key, expected] of fixed) {
      const value = reader.flag(key, expected);
      if (value !== undefined && value !== expected) {
        reader.report(key, `${value} is not supported; only ${expected} is`, 'E0117');
      }
    }
  }
}

/** Reads the layer sizes and embedding facts of one family's config.json. */
export function readFamilyConfig(
  reader: ConfigReader,
  family: Family,
  modelType: string,
): FamilyConfig | undefined {
  unsupportedOptions(reader, family);
  const config =
    family === 'distilbert'
      ? readDistilBert(reader, modelType)
      : family === 'gpt2'
        ? readGpt2(reader, modelType)
        : readBert(reader, modelType);
  if (!config) return undefined;
  const { hidden, heads } = config.base;
  if (hidden.value % heads.value !== 0) {
    reader.report(
      undefined,
      `${heads.key} (${heads.value}) must divide ${hidden.key} (${hidden.value})`,
      'E0117',
    );
    return undefined;
  }
  if (config.padId !== undefined && config.padId >= config.vocab) {
    reader.report('pad_token_id', `${config.padId} is not below vocab_size (${config.vocab})`);
    return undefined;
  }
  return config;
}

/** BERT and RoBERTa (XLM-R) share BertConfig's keys. */
function readBert(reader: ConfigReader, modelType: string): FamilyConfig | undefined {
  const hidden = sized(reader, 'hidden_size');
  const heads = sized(reader, 'num_attention_heads');
  const ffn = sized(reader, 'intermediate_size');
  const layers = sized(reader, 'num_hidden_layers', LAYERS);
  const act = activation(reader, 'hidden_act');
  const eps = epsilon(reader, 'layer_norm_eps');
  const maxPositions = reader.integer('max_position_embeddings', SIZE);
  const vocab = reader.integer('vocab_size', SIZE);
  const typeVocab = reader.integer('type_vocab_size', ID);
  const padId = reader.integer('pad_token_id', ID);
  if (!hidden || !heads || !ffn || !layers || !act || !eps) return undefined;
  if (maxPositions === undefined || vocab === undefined || typeVocab === undefined)
    return undefined;
  if (padId === undefined) return undefined;
  return {
    base: {
      hidden,
      heads,
      ffn,
      layers,
      activation: act,
      eps,
      norm: fixed('post', modelType, 'which is post-LN'),
      attention: fixed('bidirectional', modelType, 'which is bidirectional'),
    },
    vocab,
    maxPositions,
    typeVocab,
    padId,
    embeddingEps: eps.value,
  };
}

function readDistilBert(reader: ConfigReader, modelType: string): FamilyConfig | undefined {
  const hidden = sized(reader, 'dim');
  const heads = sized(reader, 'n_heads');
  const ffn = sized(reader, 'hidden_dim');
  const layers = sized(reader, 'n_layers', LAYERS);
  const act = activation(reader, 'activation');
  const maxPositions = reader.integer('max_position_embeddings', SIZE);
  const vocab = reader.integer('vocab_size', SIZE);
  const padId = reader.integer('pad_token_id', ID);
  if (!hidden || !heads || !ffn || !layers || !act) return undefined;
  if (maxPositions === undefined || vocab === undefined || padId === undefined) return undefined;
  return {
    base: {
      hidden,
      heads,
      ffn,
      layers,
      activation: act,
      eps: fixed(DISTILBERT_EPS, modelType, `whose LayerNorm eps is ${DISTILBERT_EPS}`),
      norm: fixed('post', modelType, 'which is post-LN'),
      attention: fixed('bidirectional', modelType, 'which is bidirectional'),
    },
    vocab,
    maxPositions,
    typeVocab: 0,
    padId,
    embeddingEps: DISTILBERT_EPS,
  };
}

function readGpt2(reader: ConfigReader, modelType: string): FamilyConfig | undefined {
  const hidden = sized(reader, 'n_embd');
  const heads = sized(reader, 'n_head');
  const layers = sized(reader, 'n_layer', LAYERS);
  const inner = hidden && reader.integerOr('n_inner', SIZE, 4 * hidden.value);
  const ffn =
    inner === undefined
      ? undefined
      : {
          value: inner,
          key: 'n_inner',
          source: reader.has('n_inner')
            ? `n_inner ${inner}`
            : `no n_inner, so 4 · n_embd = ${inner}`,
        };
  const act = activation(reader, 'activation_function');
  const eps = epsilon(reader, 'layer_norm_epsilon');
  const maxPositions = reader.integer('n_positions', SIZE);
  const vocab = reader.integer('vocab_size', SIZE);
  const padId = reader.integerOr('pad_token_id', ID, undefined);
  if (!hidden || !heads || !ffn || !layers || !act || !eps) return undefined;
  if (maxPositions === undefined || vocab === undefined) return undefined;
  if (reader.has('pad_token_id') && padId === undefined) return undefined;
  return {
    base: {
      hidden,
      heads,
      ffn,
      layers,
      activation: act,
      eps,
      norm: fixed('pre', modelType, 'which is pre-LN'),
      attention: fixed('causal', modelType, 'which is causal'),
    },
    vocab,
    maxPositions,
    typeVocab: 0,
    ...(padId !== undefined ? { padId } : {}),
  };
}

/** The supported model_type values, for the message about another one. */
export const SUPPORTED_MODEL_TYPES = listStrings(Object.keys(MODEL_TYPES));
