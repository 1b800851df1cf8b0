import { argOf, lastDim, perRow, type KernelTemplate } from '../kernel.js';
import { bindings, ENTRY_BUILTINS, FLAT_GROUP } from '../wgsl.js';

const SIZE = 256;

/**
 * The mean over the T positions of x [B, T, C], padding included: one invocation per output
 * element of [B, 1, C] sums its column of the sequence in f32.
 */
export const tokenMeanKernel: KernelTemplate<'token_mean'> = (node, context) => {
  const width = lastDim(node.shape);
  return {
    name: `token_mean_${width}`,
    wgsl: `${bindings(['x', 'out'])}
const C = ${width}u;

@compute @workgroup_size(${SIZE})
fn main(${ENTRY_BUILTINS}) {
  ${FLAT_GROUP}
  let i = group * ${SIZE}u + lid;
  if (i >= params.batch * C) { return; }
  let first = (i / C) * params.seq * C + i % C;
  var sum = 0.0;
  for (var t = 0u; t < params.seq; t = t + 1u) { sum = sum + x[first + t * C]; }
  out[i] = sum / f32(params.seq);
}
`,
    args: [argOf(context, node.inputs[0]!)],
    groups: perRow(width, SIZE, 'sequence'),
  };
};
