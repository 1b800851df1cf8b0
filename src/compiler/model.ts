import type { Span } from './source.js';

/** The checked model: the output of the checker and the input of lowering. Plain readonly data. */

export const SITES = ['attn', 'ffn'] as const;
export type Site = (typeof SITES)[number];

export const BASE_ACTIVATIONS = ['gelu', 'gelu_tanh', 'relu', 'silu'] as const;
export const ADAPTER_ACTIVATIONS = [
  'relu',
  'gelu',
  'gelu_tanh',
  'silu',
  'tanh',
  'identity',
] as const;
export type Activation = (typeof ADAPTER_ACTIVATIONS)[number];
/** What an adapter read from a directory may use besides: AdapterHub's `sigmoid` and `leakyrelu`. */
export type AdapterActivation = Activation | 'sigmoid' | 'leaky_relu';

/** The checkpoint families `model NAME from "DIR"` reads, each with its own tensor names. */
export const FAMILIES = ['bert', 'roberta', 'distilbert', 'gpt2'] as const;
export type Family = (typeof FAMILIES)[number];

/**
 * A task head on top of the encoder, as the checkpoint's `architectures` names it:
 * - pooler: BertForSequenceClassification, tanh(pooler.dense(first token)) then `classifier`;
 * - dense-tanh: RobertaForSequenceClassification, `classifier.dense` + tanh + `classifier.out_proj`
 *   on the first token;
 * - pre-classifier-relu: DistilBertForSequenceClassification, `pre_classifier` + ReLU +
 *   `classifier` on the first token;
 * - token: *ForTokenClassification, `classifier` on every token;
 * - tied-embeddings: GPT2LMHeadModel, next-token logits from the token embedding matrix.
 */
export type HeadLayout =
  'pooler' | 'dense-tanh' | 'pre-classifier-relu' | 'token' | 'tied-embeddings';

export interface HeadSpec {
  readonly layout: HeadLayout;
  /** Labels by id, from `id2label`; empty for a language-model head. */
  readonly labels: readonly string[];
  /** softmax, or sigmoid where `problem_type` is `multi_label_classification`. */
  readonly scores: 'softmax' | 'sigmoid';
}

/** What a Hugging Face checkpoint directory's config.json says beyond the layer sizes. */
export interface CheckpointSpec {
  /** The directory as written in the spec, relative to the spec file. */
  readonly dir: string;
  readonly family: Family;
  /** `architectures[0]`, e.g. `BertForSequenceClassification`; absent for a bare encoder. */
  readonly architecture?: string;
  readonly vocab: number;
  readonly maxPositions: number;
  /** Token-type vocabulary; 0 where the family has none (DistilBERT, GPT-2). */
  readonly typeVocab: number;
  readonly padId?: number;
  /**
   * Position ids: `absolute` counts 0, 1, … per sequence; `after-padding` (RoBERTa, XLM-R) counts
   * non-pad tokens from padding_idx + 1 and gives pad tokens padding_idx.
   */
  readonly positions: 'absolute' | 'after-padding';
  /** The embedding LayerNorm's eps; absent where the family has none (GPT-2). */
  readonly embeddingEps?: number;
  /** The head the graphs end in; absent with `head none` or a bare encoder. */
  readonly head?: HeadSpec;
}

export interface BaseModel {
  readonly name: string;
  readonly hidden: number;
  readonly heads: number;
  readonly ffn: number;
  readonly layers: number;
  readonly activation: (typeof BASE_ACTIVATIONS)[number];
  readonly norm: 'post' | 'pre';
  readonly eps: number;
  readonly attention: 'bidirectional' | 'causal';
  /** Present for `model NAME from "DIR"`: the graph then reads token ids, not hidden states. */
  readonly checkpoint?: CheckpointSpec;
  readonly span: Span;
}

export type Placement = 'sequential' | 'parallel';

/**
 * How a bottleneck adapter meets the sublayer, field by field as AdapterHub's `BnConfig` names
 * them (docs/language.md §4.7). The defaults are the article's adapter: y + s·Δ(y), then the
 * model's LayerNorm of that plus the residual.
 */
export interface BottleneckFields {
  /** The adapter reads LN(y + x) with the model's LayerNorm, not y. */
  readonly originalLnBefore: boolean;
  /** The site's output is LN(h + x) with the model's LayerNorm, else h itself. */
  readonly originalLnAfter: boolean;
  /** The adapter's residual: y (true), its own input (false), or y + x (`post_add`). */
  readonly residualBeforeLn: boolean | 'post_add';
  /** The residual is added before the adapter's own `ln_after` (else after it). */
  readonly adapterResidualBeforeLn: boolean;
  /** The adapter's own LayerNorm (eps 1e-5) on its input, before the down projection. */
  readonly lnBefore: boolean;
  /** The adapter's own LayerNorm (eps 1e-5) on its output. */
  readonly lnAfter: boolean;
  /** A learned scaling weight instead of `scale`: one number, or one per channel. */
  readonly scaling?: 'learned' | 'channel';
  /** Output times the mean over positions of sigmoid(W_g h + b_g). */
  readonly gating: boolean;
}

export const ARTICLE_FIELDS: BottleneckFields = {
  originalLnBefore: false,
  originalLnAfter: true,
  residualBeforeLn: true,
  adapterResidualBeforeLn: false,
  lnBefore: false,
  lnAfter: false,
  gating: false,
};

/** A saved config's `config` object as read (objects as Maps), kept to write it back. */
export type SavedConfigValue =
  | null
  | boolean
  | number
  | string
  | readonly SavedConfigValue[]
  | ReadonlyMap<string, SavedConfigValue>;

/** Where an adapter, head or fusion was read from: `… from "DIR"`. */
export interface SavedSource {
  /** The directory as written in the spec, relative to the spec file. */
  readonly dir: string;
  /** The name its tensors carry (`…adapters.NAME.…`, `heads.NAME.…`, `adapter_fusion_layer.a,b.…`). */
  readonly savedName: string;
}

export interface AdapterSpec {
  readonly name: string;
  /** r; where `layerBottlenecks` has an entry for a layer, that one. */
  readonly bottleneck: number;
  readonly layerBottlenecks?: ReadonlyMap<number, number>;
  /**
   * `article`: compositions compute as docs/language.md §4.3 says; `adapterhub`: as the
   * `adapters` library composes them (§4.7). Read from a directory, or with `preset` or any
   * AdapterHub field written, an adapter is `adapterhub`.
   */
  readonly semantics: 'article' | 'adapterhub';
  readonly fields: BottleneckFields;
  readonly source?: SavedSource;
  /** The `config` of `adapter_config.json`, for an adapter read from a directory. */
  readonly savedConfig?: SavedConfigValue;
  readonly activation: AdapterActivation;
  /** Where the adapter sits: sequential (`at`) or parallel (`parallel`) per site. */
  readonly placements: Readonly<Partial<Record<Site, Placement>>>;
  /** Sorted layer indices. */
  readonly layers: readonly number[];
  readonly scale: number;
  readonly init: 'near_identity' | 'zero_up';
  readonly span: Span;
}

/** A (layer, site) where a fusion combines its members present there. */
export interface FusionSite {
  readonly layer: number;
  readonly site: Site;
  /** The members present at this site, in the fusion's listed order (at least two). */
  readonly members: readonly string[];
}

/**
 * AdapterHub's fusion (`adapter_fusion_config.py`), where it differs from the article's: scores
 * without 1/sqrt(d), keys and values from the adapters' scaled up projections, a value matrix
 * without bias, and a residual (docs/language.md §4.7).
 */
export interface HubFusionFields {
  readonly query: boolean;
  readonly key: boolean;
  readonly value: boolean;
  readonly valueBeforeSoftmax: boolean;
  readonly queryBeforeLn: boolean;
  readonly residualBefore: boolean;
}

export interface FusionSpec {
  readonly name: string;
  readonly adapters: readonly string[];
  /** Present for AdapterHub's fusion (read from a directory or written with `preset`). */
  readonly hub?: HubFusionFields;
  readonly source?: SavedSource;
  /** The `config` of `adapter_fusion_config.json`, for a fusion read from a directory. */
  readonly savedConfig?: SavedConfigValue;
  readonly temperature: number;
  /** False with `scale none`: scores are not divided by sqrt(d). */
  readonly scaleScores: boolean;
  readonly value: 'linear' | 'identity';
  readonly residual: boolean;
  readonly covers: readonly FusionSite[];
  readonly span: Span;
}

/** A graph expression with every name resolved. */
export type Composition =
  | { readonly kind: 'adapter'; readonly name: string }
  | { readonly kind: 'fusion'; readonly name: string }
  | { readonly kind: 'stack'; readonly items: readonly Composition[] }
  /** Weights normalized to sum to 1. */
  | {
      readonly kind: 'average';
      readonly items: readonly { readonly name: string; readonly weight: number }[];
    }
  | { readonly kind: 'batch'; readonly branches: readonly Composition[] }
  /** Every branch on the whole batch, as AdapterHub's Parallel; adapters and fusions only. */
  | {
      readonly kind: 'parallel';
      readonly branches: readonly (Composition & { readonly kind: 'adapter' | 'fusion' })[];
    };

export interface GraphSpec {
  readonly name: string;
  readonly composition: Composition;
  /** Absent for the implicit `default` graph. */
  readonly span?: Span;
}

/**
 * An AdapterHub prediction head (`heads/base.py`): read from `head_config.json`, or declared
 * inline with the same fields (`head NAME { type classification labels "a", "b" }`).
 */
export interface PredictionHeadSpec {
  readonly name: string;
  readonly type: 'classification' | 'multilabel_classification' | 'tagging';
  /** The Linear layers: all but the last d→d with `activation` after, the last d→labels. */
  readonly layers: number;
  /** `none`: `activation_function` null, no activation module between the layers. */
  readonly activation: AdapterActivation | 'none';
  /** Classification heads: read BERT's pooler output instead of the first token. */
  readonly usePooler: boolean;
  /** The last Linear has a bias. */
  readonly bias: boolean;
  /** Label names by id, from `label2id`. */
  readonly labels: readonly string[];
  /** Absent for a head declared inline, whose weights are seeded or trained. */
  readonly source?: SavedSource;
  /** The `config` of `head_config.json`, for a head read from a directory. */
  readonly savedConfig?: SavedConfigValue;
  readonly span: Span;
}

export interface Model {
  readonly fileName: string;
  readonly base: BaseModel;
  readonly adapters: ReadonlyMap<string, AdapterSpec>;
  readonly heads: ReadonlyMap<string, PredictionHeadSpec>;
  readonly fusions: ReadonlyMap<string, FusionSpec>;
  readonly graphs: ReadonlyMap<string, GraphSpec>;
}

export function isAdapterAt(adapter: AdapterSpec, layer: number, site: Site): boolean {
  return adapter.placements[site] !== undefined && adapter.layers.includes(layer);
}

export function bottleneckAt(adapter: AdapterSpec, layer: number): number {
  return adapter.layerBottlenecks?.get(layer) ?? adapter.bottleneck;
}
