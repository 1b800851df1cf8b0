import type { Site } from '../../model.js';
import type { FamilyNames, LayerLinear, LinearSource } from './types.js';

/**
 * GPT-2: `h.N.ln_1`, `attn.c_attn` (q, k and v in one Conv1D), `attn.c_proj`, `ln_2`,
 * `mlp.c_fc`, `mlp.c_proj`, then `ln_f`; tables `wte`, `wpe`. A Conv1D stores its weight
 * [in, out], so each program weight [out, in] is derived at load: transposed, and for q, k, v
 * rows [0, d), [d, 2d), [2d, 3d) of the transposed c_attn (its bias likewise). Adapters as
 * AdapterHub's `attention_adapters` and `output_adapters` of the block.
 */

const block = (l: number) => `h.${l}`;

/** A Conv1D used whole: the program weight keeps the tensor's name, transposed at load. */
function conv1d(module: string): LinearSource {
  const weight = `${module}.weight`;
  return {
    weight: { name: weight, from: { tensor: weight, transpose: true } },
    bias: { name: `${module}.bias` },
  };
}

/** Part `index` (0 q, 1 k, 2 v) of the fused c_attn of width 3d. */
function attentionPart(l: number, index: number, d: number): LinearSource {
  const module = `${block(l)}.attn.c_attn`;
  const part = ['q', 'k', 'v'][index]!;
  const rows: [number, number] = [index * d, (index + 1) * d];
  return {
    weight: {
      name: `${module}.${part}.weight`,
      from: { tensor: `${module}.weight`, transpose: true, rows },
    },
    bias: { name: `${module}.${part}.bias`, from: { tensor: `${module}.bias`, rows } },
  };
}

const PARTS: Partial<Readonly<Record<LayerLinear, number>>> = { query: 0, key: 1, value: 2 };
const MODULES: Readonly<Record<'attentionOutput' | 'intermediate' | 'output', string>> = {
  attentionOutput: 'attn.c_proj',
  intermediate: 'mlp.c_fc',
  output: 'mlp.c_proj',
};

/** GPT-2's names for hidden size d (the c_attn split depends on it). */
export function gpt2Names(d: number): FamilyNames {
  return {
    linear(which, l) {
      const part = PARTS[which];
      if (part !== undefined) return attentionPart(l, part, d);
      return conv1d(`${block(l)}.${MODULES[which as keyof typeof MODULES]}`);
    },
    layerNorm: (l, site: Site) => `${block(l)}.${site === 'attn' ? 'ln_1' : 'ln_2'}`,
    siteModule: (l, site) =>
      `${block(l)}.${site === 'attn' ? 'attention_adapters' : 'output_adapters'}`,
    embeddings: { word: 'wte', position: 'wpe' },
    finalLayerNorm: 'ln_f',
  };
}
