import {
  argOf,
  lastDim,
  perRow,
  rowCount,
  rowKind,
  rowSuffix,
  type KernelTemplate,
} from '../kernel.js';
import { activation, bindings, ENTRY_BUILTINS, FLAT_GROUP } from '../wgsl.js';
import { slotWeightArg } from './slot-bottleneck.js';

const SIZE = 64;

/**
 * act(x · W_sᵀ + b_s) per sequence, s its slot: one invocation per output element. A head's
 * Linear layers are tiny, so no tiling.
 */
export const slotLinearKernel: KernelTemplate<'slot_linear'> = (node, context) => {
  const [x, slot, w, b] = node.inputs as [number, number, number, number];
  const outSize = lastDim(node.shape);
  const [count, , n] = context.node(w).shape as [number, number, number];
  const rows = rowKind(node.shape);
  const perSequence = rows === 'token' ? 'params.seq' : '1u';
  const { functions, apply } = activation(node.attrs.activation);
  const wgsl = `${bindings(['x', 'slot', 'w', 'b', 'out'], ['f32', 'i32'])}
${functions}
const N = ${n}u;
const OUT = ${outSize}u;
const S = ${count}u;

@compute @workgroup_size(${SIZE})
fn main(${ENTRY_BUILTINS}) {
  ${FLAT_GROUP}
  let i = group * ${SIZE}u + lid;
  if (i >= ${rowCount(rows)} * OUT) { return; }
  let row = i / OUT;
  let o = i % OUT;
  let s = u32(clamp(slot[row / ${perSequence}], 0, i32(S) - 1));
  let at = (s * OUT + o) * N;
  var sum = 0.0;
  for (var k = 0u; k < N + params.pad; k = k + 1u) { sum = sum + x[row * N + k] * w[at + k]; }
  out[i] = ${apply('sum + b[s * OUT + o]')};
}
`;
  return {
    name: `slot_linear_${n}_${outSize}_${count}_${node.attrs.activation}${rowSuffix(rows)}`,
    wgsl,
    args: [
      argOf(context, x),
      argOf(context, slot),
      slotWeightArg(context, [w]),
      slotWeightArg(context, [b]),
    ],
    groups: perRow(outSize, SIZE, rows),
  };
};
