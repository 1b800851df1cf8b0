import type { KernelArg } from '../kernel.js';
import { lastDim, perRow, type KernelTemplate } from '../kernel.js';
import { activation, bindings, ENTRY_BUILTINS, f32, FLAT_GROUP } from '../wgsl.js';

const SIZE = 64;
/** Floats of workgroup memory the rows and bottlenecks may use: 16 KiB, WebGPU's default limit. */
const WORKGROUP_FLOATS = 4096;
const MAX_ROWS = 8;

/**
 * Adapters at one site in one kernel. A workgroup takes up to 8 rows (as many as fit): their y and their r-wide
 * bottlenecks stay in workgroup memory, and each weight read serves all of them (one row per
 * workgroup would read every adapter weight once per token). Each adapter's four tensors arrive
 * packed in one buffer (W_down [r, d], b_down [r], W_up [d, r], b_up [d]), so k adapters take k
 * bindings.
 */
export const bottleneckKernel: KernelTemplate = (node, context) => {
  const [y, u, ...weights] = node.inputs as [number, number, ...number[]];
  const d = lastDim(node.shape);
  const scales = node.attrs.scales as readonly number[];
  const activations = node.attrs.activations as readonly string[];
  const reads = node.attrs.reads as readonly string[];
  const residual = node.attrs.residual as boolean;
  const rs = scales.map((_, i) => context.node(weights[4 * i]!).shape[0] as number);
  const rMax = Math.max(...rs);
  const rows = Math.max(1, Math.min(MAX_ROWS, Math.floor(WORKGROUP_FLOATS / (d + rMax))));
  const packs = scales.map((_, i) => `adapter${i}`);
  const functions = [...new Set(activations)].map((a) => activation(a).functions).filter(Boolean);
  const each = (body: (r: number) => string) =>
    Array.from({ length: rows }, (_, r) => body(r)).join(' ');

  const steps = scales.map((scale, i) => {
    const r = rs[i]!;
    const pack = packs[i]!;
    const z = (row: number) =>
      reads[i] === 'u' ? `u[min(row0 + ${row}u, last) * D + c]` : `yrow[${row * d}u + c]`;
    const update = (row: number) =>
      residual
        ? `yrow[${row * d}u + c] = yrow[${row * d}u + c] + ${f32(scale)} * s[${row}];`
        : `if (row0 + ${row}u < params.rows) { out[(row0 + ${row}u) * D + c] = ${f32(scale)} * s[${row}]; }`;
    return `  // adapter ${i}: r = ${r}
  for (var j = lid; j < ${r}u; j = j + ${SIZE}u) {
    let b = ${pack}[${r * d}u + j];
    var s = array<f32, ROWS>(${Array(rows).fill('b').join(', ')});
    for (var c = 0u; c < D; c = c + 1u) {
      let w = ${pack}[j * D + c];
      ${each((row) => `s[${row}] = s[${row}] + w * ${z(row)};`)}
    }
    ${each((row) => `hidden[${row * rMax}u + j] = ${activation(activations[i]!).apply(`s[${row}]`)};`)}
  }
  workgroupBarrier();
  for (var c = lid; c < D; c = c + ${SIZE}u) {
    let b = ${pack}[${r * d + r + d * r}u + c];
    var s = array<f32, ROWS>(${Array(rows).fill('b').join(', ')});
    for (var j = 0u; j < ${r}u; j = j + 1u) {
      let w = ${pack}[${r * d + r}u + c * ${r}u + j];
      ${each((row) => `s[${row}] = s[${row}] + w * hidden[${row * rMax}u + j];`)}
    }
    ${each(update)}
  }
  workgroupBarrier();`;
  });

  const wgsl = `${bindings(['y', 'u', ...packs, 'out'])}
${functions.join('\n')}
const D = ${d}u;
const ROWS = ${rows}u;
var<workgroup> yrow: array<f32, ${rows * d}>;
var<workgroup> hidden: array<f32, ${rows * rMax}>;

@compute @workgroup_size(${SIZE})
fn main(${ENTRY_BUILTINS}) {
  ${FLAT_GROUP}
  let row0 = group * ROWS;
  if (row0 >= params.rows) { return; }
  let last = params.rows - 1u;
  for (var i = lid; i < ROWS * D; i = i + ${SIZE}u) { yrow[i] = y[min(row0 + i / D, last) * D + i % D]; }
  workgroupBarrier();
${steps.join('\n')}
${residual ? `  for (var i = lid; i < ROWS * D; i = i + ${SIZE}u) { if (row0 + i / D < params.rows) { out[row0 * D + i] = yrow[i]; } }` : ''}
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
    groups: perRow(1, rows, rows - 1),
  };
};
