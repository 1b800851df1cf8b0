import type { WeightSpec } from '../../ir/types.js';
import type { Site } from '../../model.js';

/** A program weight: its name and, where the checkpoint stores it in another layout, its source. */
export interface WeightSource {
  readonly name: string;
  readonly from?: WeightSpec['from'];
}

/** A Linear (or GPT-2 Conv1D) module as program weights: weight [out, in] and bias [out]. */
export interface LinearSource {
  readonly weight: WeightSource;
  readonly bias: WeightSource;
}

/** The linear modules of one transformer layer. */
export type LayerLinear = 'query' | 'key' | 'value' | 'attentionOutput' | 'intermediate' | 'output';

/**
 * One family's tensor names (docs/design.md §3), without the checkpoint's task prefix (`bert.`,
 * `roberta.`, `distilbert.`, `transformer.`), which the runtime strips.
 */
export interface FamilyNames {
  linear(which: LayerLinear, layer: number): LinearSource;
  /** The LayerNorm module of a site: after the sublayer for post-LN, before it for pre-LN. */
  layerNorm(layer: number, site: Site): string;
  /** The module the adapters and fusions of a site hang under. */
  siteModule(layer: number, site: Site): string;
  /** The embedding tables' and the embedding LayerNorm's modules; checkpoints only. */
  readonly embeddings: {
    readonly word: string;
    readonly position: string;
    readonly type?: string;
    readonly layerNorm?: string;
  };
  /** The LayerNorm after the last layer (GPT-2's `ln_f`). */
  readonly finalLayerNorm?: string;
}

/** A PyTorch Linear stored as it is used: `${module}.weight` [out, in] and `${module}.bias`. */
export function plainLinear(module: string): LinearSource {
  return { weight: { name: `${module}.weight` }, bias: { name: `${module}.bias` } };
}

export const adapterDown = (module: string, name: string) =>
  plainLinear(`${module}.adapters.${name}.adapter_down.0`);
export const adapterUp = (module: string, name: string) =>
  plainLinear(`${module}.adapters.${name}.adapter_up`);
export const fusionProjection = (
  module: string,
  name: string,
  projection: 'query' | 'key' | 'value',
) => plainLinear(`${module}.adapter_fusion_layer.${name}.${projection}`);
