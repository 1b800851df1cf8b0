import type { Site } from '../model.js';

/** AdapterHub / Hugging Face tensor names (docs/design.md §3), PyTorch Linear layout [out, in]. */

const layer = (l: number) => `encoder.layer.${l}`;
/** The module an adapter or fusion at a site hangs under. */
const siteModule = (l: number, site: Site) =>
  site === 'attn' ? `${layer(l)}.attention.output` : `${layer(l)}.output`;

export const weightNames = {
  query: (l: number) => `${layer(l)}.attention.self.query`,
  key: (l: number) => `${layer(l)}.attention.self.key`,
  value: (l: number) => `${layer(l)}.attention.self.value`,
  attentionOutput: (l: number) => `${layer(l)}.attention.output.dense`,
  intermediate: (l: number) => `${layer(l)}.intermediate.dense`,
  output: (l: number) => `${layer(l)}.output.dense`,
  /** The site's LayerNorm: after the sublayer for post-LN, before it for pre-LN. */
  layerNorm: (l: number, site: Site) => `${siteModule(l, site)}.LayerNorm`,
  adapterDown: (l: number, site: Site, name: string) =>
    `${siteModule(l, site)}.adapters.${name}.adapter_down.0`,
  adapterUp: (l: number, site: Site, name: string) =>
    `${siteModule(l, site)}.adapters.${name}.adapter_up`,
  fusion: (l: number, site: Site, name: string, projection: 'query' | 'key' | 'value') =>
    `${siteModule(l, site)}.adapter_fusion_layer.${name}.${projection}`,
};
