import type { Model } from '../../../compiler/model.js';

/** What `build_full_config` records of the model, and the prefix of its base model's tensors. */
export interface HubModelInfo {
  readonly modelType: string;
  readonly modelClass: string;
  readonly modelName: string;
  readonly hidden: number;
  /** `base_model_prefix` and a dot: the base model's module in the `…AdapterModel`. */
  readonly prefix: string;
}

/**
 * The flex-head model class the library saves from per family
 * (`adapters/src/adapters/models/FAMILY/adapter_model.py`), with its `base_model_prefix`
 * (transformers' `…PreTrainedModel`). A model without a checkpoint uses BERT's tensor names, so
 * it is saved as BERT.
 */
const FAMILY_MODELS = {
  bert: { modelType: 'bert', modelClass: 'BertAdapterModel', prefix: 'bert.' },
  roberta: { modelType: 'roberta', modelClass: 'RobertaAdapterModel', prefix: 'roberta.' },
  distilbert: {
    modelType: 'distilbert',
    modelClass: 'DistilBertAdapterModel',
    prefix: 'distilbert.',
  },
  gpt2: { modelType: 'gpt2', modelClass: 'GPT2AdapterModel', prefix: 'transformer.' },
} as const;

export function hubModelInfo(model: Model): HubModelInfo {
  const family = model.base.checkpoint?.family ?? 'bert';
  return { ...FAMILY_MODELS[family], modelName: model.base.name, hidden: model.base.hidden };
}
