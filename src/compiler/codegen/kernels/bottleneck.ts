import type { KernelArg } from '../kernel.js';
import { lastDim, perRow, type KernelTemplate } from '../kernel.js';
import { activation, bindings, ENTRY_BUILTINS, f32, FLAT_GROUP } from '../wgsl.js';

const SIZE = 64;

/**
 * Adapters at one site in one kernel, one workgroup per row. The row of y and the r-wide
 * bottleneck stay in workgroup memory; each adapter's four tensors arrive packed in one buffer
 * (W_down [r, d], b_down [r], W_up [d, r], b_up [d]), so k adapters take k bindings.
 */
export const bottleneckKernel: KernelTemplate = (node, context) => {
  const [y, u, ...weights] = node.inputs as [number, number, ...number[]];
  const d = lastDim(node.shape);
  const scales = node.attrs.scales as readonly number[];
  const activations = node.attrs.activations as readonly string[];
  const reads = node.attrs.reads as readonly string[];
  const residual = node.attrs.residual as boolean;
  const rs = scales.map((_, i) => context.node(weights[4 * i]!).shape[0] as number);
  const packs = scales.map((_, i) => `adapter${i}`);
  const functions = [...new Set(activations)].map((a) => activation(a).functions).filter(Boolean);

  const steps = scales.map((scale, i) => {
    const r = rs[i]!;
    const pack = packs[i]!;
    const z = reads[i] === 'u' ? 'u[base + c]' : 'yrow[c]';
    const update = residual
      ? `yrow[c] = yrow[c] + ${f32(scale)} * s;`
      : `out[base + c] = ${f32(scale)} * s;`;
    return `  // adapter ${i}: r = ${r}
  for (var j = lid; j < ${r}u; j = j + ${SIZE}u) {
    var s = ${pack}[${r * d}u + j];
    for (var c = 0u; c < D; c = c + 1u) { s = s + ${pack}[j * D + c] * ${z}; }
    hidden[j] = ${activation(activations[i]!).apply('s')};
  }
  workgroupBarrier();
  for (var c = lid; c < D; c = c + ${SIZE}u) {
    var s = ${pack}[${r * d + r + d * r}u + c];
    for (var j = 0u; j < ${r}u; j = j + 1u) { s = s + ${pack}[${r * d + r}u + c * ${r}u + j] * hidden[j]; }
    ${update}
  }
  workgroupBarrier();`;
  });

  const wgsl = `${bindings(['y', 'u', ...packs, 'out'])}
${functions.join('\n')}
const D = ${d}u;
var<workgroup> yrow: array<f32, ${d}>;
var<workgroup> hidden: array<f32, ${Math.max(...rs)}>;

@compute @workgroup_size(${SIZE})
fn main(${ENTRY_BUILTINS}) {
  ${FLAT_GROUP}
  let row = group;
  if (row >= params.rows) { return; }
  let base = row * D;
  for (var c = lid; c < D; c = c + ${SIZE}u) { yrow[c] = y[base + c]; }
  workgroupBarrier();
${steps.join('\n')}
${residual ? `  for (var c = lid; c < D; c = c + ${SIZE}u) { out[base + c] = yrow[c]; }` : ''}
}
`;
  const args: KernelArg[] = [
    { kind: 'value', node: y },
    { kind: 'value', node: u },
    ...scales.map((_, i): KernelArg => ({
      kind: 'weights',
      parts: weights
        .slice(4 * i, 4 * i + 4)
        .map((w) => ({ weight: context.weightName(w)!, transpose: false })),
    })),
  ];
  const signature = scales
    .map((s, i) => `${rs[i]}${activations[i]}${reads[i]}x${Math.fround(s)}`)
    .join('_');
  return {
    name: `bottleneck_${d}_${signature}${residual ? '' : '_delta'}`,
    wgsl,
    args,
    groups: perRow(1, 1),
  };
};
