import type { NodeOf } from '../../../runtime/ops/node.js';
import { lastDim } from '../kernel.js';
import { attentionConstants, PER_TOKEN_HEAD_ENTRY, scoreScale } from '../kernels/attention.js';
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

${PER_TOKEN_HEAD_ENTRY}
  let qo = token * D + head * DH;
  var acc: array<f32, ${dh}>;
  for (var c = 0u; c < DH; c = c + 1u) { acc[c] = 0.0; }
  var top = -3.0e38;
  var total = 0.0;
  let keys = ${causal ? 'position + 1u' : 'params.seq'};
  for (var j = 0u; j < keys; j = j + 1u) {
    let key = sequence * params.seq + j;
    if (mask[key] == 0) { continue; }
    let ko = key * D + head * DH;
    var score = 0.0;
    for (var c = 0u; c < DH; c = c + 1u) { score = score + q[qo + c] * k[ko + c]; }
    score = score * ${scoreScale(dh)};
    let next = max(top, score);
    let correction = exp(top - next);
    let p = exp(score - next);
    let kept = p * pm(sequence, head, position, j);
    total = total * correction + p;
    for (var c = 0u; c < DH; c = c + 1u) { acc[c] = acc[c] * correction + kept * v[ko + c]; }
    top = next;
  }
  for (var c = 0u; c < DH; c = c + 1u) { out[qo + c] = select(0.0, acc[c] / total, total > 0.0); }
}
`;
  return {
    name: `attention_${d}_h${heads}${causal ? '_causal' : ''}_drop${dropout.site}`,
    wgsl,
  };
}
