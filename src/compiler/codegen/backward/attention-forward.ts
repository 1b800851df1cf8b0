import type { NodeOf } from '../../../runtime/ops/node.js';
import { lastDim } from '../kernel.js';
import { attentionConstants, attentionEntry } from '../kernels/attention.js';
import { bindings } from '../wgsl.js';
import {
  DROPOUT_BINDING,
  dropoutFunctions,
  probabilityFactor,
  type SiteDropout,
} from './dropout.js';

/**
 * The forward attention kernel (kernels/attention.ts) as a training step runs it where the
 * probabilities are dropped: each P_ij weighs v_j times m_ij, the softmax's sum unchanged.
 * Bound as the forward kernel, with the dropout binding before the output.
 */
export function attentionDropoutKernel(
  node: NodeOf<'attention'>,
  dropout: SiteDropout,
): { name: string; wgsl: string } {
  const d = lastDim(node.shape);
  const { heads, causal } = node.attrs;
  const dh = d / heads;
  const wgsl = `${bindings(['q', 'k', 'v', 'mask', DROPOUT_BINDING, 'out'], ['f32', 'f32', 'f32', 'i32', 'u32', 'f32'])}
${attentionConstants(d, dh, heads)}
${dropoutFunctions(dropout.probability)}
${probabilityFactor(dropout.site)}

${attentionEntry(dh, causal, 'p * pm(sequence, head, position, j)')}`;
  return {
    name: `attention_${d}_h${heads}${causal ? '_causal' : ''}_drop${dropout.site}`,
    wgsl,
  };
}
