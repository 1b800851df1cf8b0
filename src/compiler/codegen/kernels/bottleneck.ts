import type { KernelArg } from '../kernel.js';
import { lastDim, perRowBlock, type KernelTemplate } from '../kernel.js';
import { activation, bindings, ENTRY_BUILTINS, f32, FLAT_GROUP } from '../wgsl.js';

const SIZE = 64;
/** Floats of workgroup memory the rows and bottlenecks may use: 16 KiB, WebGPU's default limit. */
const WORKGROUP_FLOATS = 4096;
const MAX_ROWS = 4;

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

  const vec4 = d % 4 === 0 && rs.every((r) => r % 4 === 0);
  const wgsl = vec4
    ? vec4Wgsl(d, rows, rs, packs, activations, scales, reads, residual, functions)
    : `${bindings(['y', 'u', ...packs, 'out'])}
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
  const signature =
    (vec4 ? 'v4_' : '') +
    scales.map((s, i) => `${rs[i]}${activations[i]}${reads[i]}x${Math.fround(s)}`).join('_');
  return {
    name: `bottleneck_${d}_${signature}${residual ? '' : '_delta'}`,
    wgsl,
    args,
    groups: perRowBlock(1, rows, 1),
  };
};

/**
 * The same kernel with four floats per load where d and every r are multiples of 4: rows,
 * bottlenecks and packed weights are read as vec4 and combined with dot(), a quarter of the load
 * instructions of the scalar kernel, which is what software GPUs spend their time on.
 */
function vec4Wgsl(
  d: number,
  rows: number,
  rs: readonly number[],
  packs: readonly string[],
  activations: readonly string[],
  scales: readonly number[],
  reads: readonly string[],
  residual: boolean,
  functions: readonly string[],
): string {
  const rMax = Math.max(...rs);
  const d4 = d / 4;
  const each = (body: (r: number) => string) =>
    Array.from({ length: rows }, (_, r) => body(r)).join(' ');
  const steps = scales.map((scale, i) => {
    const r = rs[i]!;
    const pack = packs[i]!;
    const z = (row: number) =>
      reads[i] === 'u' ? `u[min(row0 + ${row}u, last) * D4 + c]` : `yrow[${row * d4}u + c]`;
    const update = (row: number) =>
      residual
        ? `yrow[${row * d4}u + c / 4u][c % 4u] = yrow[${row * d4}u + c / 4u][c % 4u] + ${f32(scale)} * s[${row}];`
        : `if (row0 + ${row}u < params.rows) { out[(row0 + ${row}u) * D4 + c / 4u][c % 4u] = ${f32(scale)} * s[${row}]; }`;
    const upBase = (r * d + r) / 4;
    return `  // adapter ${i}: r = ${r}
  for (var j = lid; j < ${r}u; j = j + ${SIZE}u) {
    let bias = ${pack}[${(r * d) / 4}u + j / 4u][j % 4u];
    var s = array<f32, ROWS>(${Array(rows).fill('bias').join(', ')});
    for (var c = 0u; c < D4; c = c + 1u) {
      let w = ${pack}[j * D4 + c];
      ${each((row) => `s[${row}] = s[${row}] + dot(w, ${z(row)});`)}
    }
    ${each((row) => `hidden[${(row * rMax) / 4}u + j / 4u][j % 4u] = ${activation(activations[i]!).apply(`s[${row}]`)};`)}
  }
  workgroupBarrier();
  for (var c = lid; c < D; c = c + ${SIZE}u) {
    let bias = ${pack}[${(r * d + r + d * r) / 4}u + c / 4u][c % 4u];
    var s = array<f32, ROWS>(${Array(rows).fill('bias').join(', ')});
    for (var j = 0u; j < ${r / 4}u; j = j + 1u) {
      let w = ${pack}[${upBase}u + c * ${r / 4}u + j];
      ${each((row) => `s[${row}] = s[${row}] + dot(w, hidden[${(row * rMax) / 4}u + j]);`)}
    }
    ${each(update)}
  }
  workgroupBarrier();`;
  });
  const names = ['y', 'u', ...packs, 'out'];
  return `${bindings(
    names,
    names.map(() => 'vec4f'),
  )}
${functions.join('\n')}
const D = ${d}u;
const D4 = ${d4}u;
const ROWS = ${rows}u;
var<workgroup> yrow: array<vec4f, ${rows * d4}>;
var<workgroup> hidden: array<vec4f, ${(rows * rMax) / 4}>;

@compute @workgroup_size(${SIZE})
fn main(${ENTRY_BUILTINS}) {
  ${FLAT_GROUP}
  let row0 = group * ROWS;
  if (row0 >= params.rows) { return; }
  let last = params.rows - 1u;
  for (var i = lid; i < ROWS * D4; i = i + ${SIZE}u) { yrow[i] = y[min(row0 + i / D4, last) * D4 + i % D4]; }
  workgroupBarrier();
${steps.join('\n')}
${residual ? `  for (var i = lid; i < ROWS * D4; i = i + ${SIZE}u) { if (row0 + i / D4 < params.rows) { out[row0 * D4 + i] = yrow[i]; } }` : ''}
}
`;
}
