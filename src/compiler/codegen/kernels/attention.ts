import type { SizeExpr } from '../../../runtime/program.js';
import { argOf, lastDim, perRow, type KernelTemplate } from '../kernel.js';
import { bindings, ENTRY_BUILTINS, f32, FLAT_GROUP } from '../wgsl.js';

/** The widths an attention kernel is specialized for: the hidden width, one head's, the heads. */
export const attentionConstants = (d: number, dh: number, heads: number): string =>
  `const D = ${d}u;
const DH = ${dh}u;
const HEADS = ${heads}u;`;

/** The factor of the scores q·k, 1/√dh. */
export const scoreScale = (dh: number): string => f32(1 / Math.sqrt(dh));

/**
 * The entry point of an attention kernel with one invocation per (token, head), the forward
 * kernel's and the gradient kernels' alike, up to the values it names: `index`, `head`, `token`,
 * and the token's `sequence` and `position` in it. Dispatched as `perTokenHead` groups.
 */
export const PER_TOKEN_HEAD_ENTRY = `@compute @workgroup_size(64)
fn main(${ENTRY_BUILTINS}) {
  ${FLAT_GROUP}
  let index = group * 64u + lid;
  if (index >= params.rows * HEADS) { return; }
  let head = index % HEADS;
  let token = index / HEADS;
  let sequence = token / params.seq;
  let position = token % params.seq;`;

/** The workgroups of PER_TOKEN_HEAD_ENTRY: one invocation per (token, head), 64 a group. */
export const perTokenHead = (heads: number): SizeExpr => perRow(heads, 64);

/**
 * The entry point of the attention kernel. `weight`, given, is a WGSL expression of `p` that
 * weighs v_j in place of the probability itself (the training forward pass's dropout,
 * backward/attention-forward.ts); the softmax's sum stays that of the probabilities.
 */
export function attentionEntry(dh: number, causal: boolean, weight?: string): string {
  const weighted = weight ? `\n    let kept = ${weight};` : '';
  return `${PER_TOKEN_HEAD_ENTRY}
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
    let p = exp(score - next);${weighted}
    total = total * correction + p;
    for (var c = 0u; c < DH; c = c + 1u) { acc[c] = acc[c] * correction + ${weight ? 'kept' : 'p'} * v[ko + c]; }
    top = next;
  }
  for (var c = 0u; c < DH; c = c + 1u) { out[qo + c] = select(0.0, acc[c] / total, total > 0.0); }
}
`;
}

/**
 * Multi-head attention in one kernel: one invocation per (token, head) computes the scores
 * against every visible key, the softmax (online, so T is not bounded by workgroup memory) and
 * the weighted sum of values. A query that sees no key writes zeros, as the reference does.
 */
export const attentionKernel: KernelTemplate<'attention'> = (node, context) => {
  const d = lastDim(node.shape);
  const { heads, causal } = node.attrs;
  const dh = d / heads;
  const wgsl = `${bindings(['q', 'k', 'v', 'mask', 'out'], ['f32', 'f32', 'f32', 'i32', 'f32'])}
${attentionConstants(d, dh, heads)}

${attentionEntry(dh, causal)}`;
  return {
    name: `attention_${d}_h${heads}${causal ? '_causal' : ''}`,
    wgsl,
    args: node.inputs.map((id) => argOf(context, id)),
    groups: perTokenHead(heads),
  };
};
