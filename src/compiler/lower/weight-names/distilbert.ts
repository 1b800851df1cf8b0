import type { Site } from '../../model.js';
import { plainLinear, type FamilyNames, type LayerLinear } from './types.js';

/**
 * DistilBERT: `transformer.layer.N.attention.{q,k,v,out}_lin`, `ffn.lin1`/`lin2`, post-LN
 * `sa_layer_norm` and `output_layer_norm`; adapters as AdapterHub's `attention_adapters` and
 * `output_adapters` of the block. No token types.
 */

const layer = (l: number) => `transformer.layer.${l}`;

const MODULES: Readonly<Record<LayerLinear, string>> = {
  query: 'attention.q_lin',
  key: 'attention.k_lin',
  value: 'attention.v_lin',
  attentionOutput: 'attention.out_lin',
  intermediate: 'ffn.lin1',
  output: 'ffn.lin2',
};

export const DISTILBERT_NAMES: FamilyNames = {
  linear: (which, l) => plainLinear(`${layer(l)}.${MODULES[which]}`),
  layerNorm: (l, site: Site) =>
    `${layer(l)}.${site === 'attn' ? 'sa_layer_norm' : 'output_layer_norm'}`,
  siteModule: (l, site) =>
    `${layer(l)}.${site === 'attn' ? 'attention_adapters' : 'output_adapters'}`,
  embeddings: {
    word: 'embeddings.word_embeddings',
    position: 'embeddings.position_embeddings',
    layerNorm: 'embeddings.LayerNorm',
  },
};
