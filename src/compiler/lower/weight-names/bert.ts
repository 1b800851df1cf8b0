import type { Site } from '../../model.js';
import { plainLinear, type FamilyNames, type LayerLinear } from './types.js';

/**
 * BERT's names, which RoBERTa and XLM-R share and hidden-state specs use: `encoder.layer.N…`,
 * adapters under the attention output and the layer output as AdapterHub places them.
 */

const layer = (l: number) => `encoder.layer.${l}`;

const MODULES: Readonly<Record<LayerLinear, string>> = {
  query: 'attention.self.query',
  key: 'attention.self.key',
  value: 'attention.self.value',
  attentionOutput: 'attention.output.dense',
  intermediate: 'intermediate.dense',
  output: 'output.dense',
};

const siteModule = (l: number, site: Site) =>
  site === 'attn' ? `${layer(l)}.attention.output` : `${layer(l)}.output`;

export const BERT_NAMES: FamilyNames = {
  linear: (which, l) => plainLinear(`${layer(l)}.${MODULES[which]}`),
  layerNorm: (l, site) => `${siteModule(l, site)}.LayerNorm`,
  siteModule,
  embeddings: {
    word: 'embeddings.word_embeddings',
    position: 'embeddings.position_embeddings',
    type: 'embeddings.token_type_embeddings',
    layerNorm: 'embeddings.LayerNorm',
  },
};
