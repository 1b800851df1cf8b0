import type { NodeOf } from '../../../runtime/ops/node.js';
import {
  argOf,
  lastDim,
  perRow,
  rowCount,
  rowKind,
  rowSuffix,
  type KernelContext,
  type KernelEmission,
  type KernelTemplate,
} from '../kernel.js';
import { bindings, ENTRY_BUILTINS, f32, FLAT_GROUP } from '../wgsl.js';

/** Workgroup size of the row kernels: one workgroup reduces one row. */
export const ROW = 64;

/** Sum of `value` over the workgroup, left in scratch[0]; every invocation must call it. */
export const REDUCE = `var<workgroup> scratch: array<f32, ${ROW}>;
fn workgroup_sum(value: f32, lid: u32) -> f32 {
  scratch[lid] = value;
  workgroupBarrier();
  for (var stride = ${ROW / 2}u; stride > 0u; stride = stride / 2u) {
    if (lid < stride) { scratch[lid] = scratch[lid] + scratch[lid + stride]; }
    workgroupBarrier();
  }
  let total = scratch[0];
  workgroupBarrier();
  return total;
}`;

/** The start of a kernel in which one workgroup handles one row of width d (at `base`). */
export function rowKernelStart(d: number, rows = 'params.rows'): string {
  return `const D = ${d}u;

@compute @workgroup_size(${ROW})
fn main(${ENTRY_BUILTINS}) {
  ${FLAT_GROUP}
  let row = group;
  if (row >= ${rows}) { return; }
  let base = row * D;`;
}

/**
 * LayerNorm of a row, optionally of the sum x + y (the residual add of a post-LN site): mean,
 * then the biased variance around it (two passes, as the reference), one workgroup per row.
 */
function layerNormWgsl(d: number, eps: number, withSum: boolean, rows: string): string {
  const names = withSum ? ['x', 'y', 'gamma', 'beta'] : ['x', 'gamma', 'beta'];
  const value = (i: string) => (withSum ? `x[base + ${i}] + y[base + ${i}]` : `x[base + ${i}]`);
  return `${bindings([...names, 'out'])}
${REDUCE}
${rowKernelStart(d, rows)}
  var partial = 0.0;
  for (var i = lid; i < D; i = i + ${ROW}u) { partial = partial + ${value('i')}; }
  let mean = workgroup_sum(partial, lid) / f32(D);
  partial = 0.0;
  for (var i = lid; i < D; i = i + ${ROW}u) { let c = ${value('i')} - mean; partial = partial + c * c; }
  let inv = inverseSqrt(workgroup_sum(partial, lid) / f32(D) + ${f32(eps)});
  for (var i = lid; i < D; i = i + ${ROW}u) { out[base + i] = (${value('i')} - mean) * inv * gamma[i] + beta[i]; }
}
`;
}

/** `layer_norm` and `add_layer_norm`, whose inputs the kernel binds as they come. */
export function layerNormKernel(
  node: NodeOf<'layer_norm'> | NodeOf<'add_layer_norm'>,
  context: KernelContext,
): KernelEmission {
  const d = lastDim(node.shape);
  const { eps } = node.attrs;
  const withSum = node.op === 'add_layer_norm';
  const rows = rowKind(node.shape);
  return {
    name: `${withSum ? 'add_layer_norm' : 'layer_norm'}_${d}_${eps}${rowSuffix(rows)}`,
    wgsl: layerNormWgsl(d, eps, withSum, rowCount(rows)),
    args: node.inputs.map((id) => argOf(context, id)),
    groups: perRow(1, 1, rows),
  };
}

/**
 * AdapterFusion after the algebraic rewrite, one workgroup per row: scores q'·o_i, softmax over
 * the N adapters, and Σ α_i o_i.
 */
export const fusionMixKernel: KernelTemplate<'fusion_mix'> = (node, context) => {
  const [, ...outputs] = node.inputs as [number, ...number[]];
  const n = outputs.length;
  const d = lastDim(node.shape);
  const { factor } = node.attrs;
  const names = outputs.map((_, i) => `o${i}`);
  const wgsl = `${bindings(['q', ...names, 'out'])}
${REDUCE}
${rowKernelStart(d)}
  var scores: array<f32, ${n}>;
${names
  .map(
    (o, i) => `  var partial${i} = 0.0;
  for (var c = lid; c < D; c = c + ${ROW}u) { partial${i} = partial${i} + q[base + c] * ${o}[base + c]; }
  scores[${i}] = workgroup_sum(partial${i}, lid) * ${f32(factor)};`,
  )
  .join('\n')}
  var top = scores[0];
  for (var i = 1u; i < ${n}u; i = i + 1u) { top = max(top, scores[i]); }
  var total = 0.0;
  for (var i = 0u; i < ${n}u; i = i + 1u) { scores[i] = exp(scores[i] - top); total = total + scores[i]; }
  for (var c = lid; c < D; c = c + ${ROW}u) {
    out[base + c] = (${names.map((o, i) => `scores[${i}] * ${o}[base + c]`).join(' + ')}) / total;
  }
}
`;
  return {
    name: `fusion_mix_${n}x${d}_${Math.fround(factor)}`,
    wgsl,
    args: node.inputs.map((id) => argOf(context, id)),
    groups: perRow(1, 1),
  };
};

/** The unfused pieces of AdapterFusion, one simple kernel each (the eager baseline). */
export const rowDotKernel: KernelTemplate<'row_dot'> = (node, context) => {
  const d = lastDim(context.node(node.inputs[0]!).shape);
  return {
    name: `row_dot_${d}`,
    wgsl: `${bindings(['a', 'b', 'out'])}
const D = ${d}u;

@compute @workgroup_size(64)
fn main(${ENTRY_BUILTINS}) {
  ${FLAT_GROUP}
  let row = group * 64u + lid;
  if (row >= params.rows) { return; }
  var sum = 0.0;
  for (var c = 0u; c < D; c = c + 1u) { sum = sum + a[row * D + c] * b[row * D + c]; }
  out[row] = sum;
}
`,
    args: node.inputs.map((id) => argOf(context, id)),
    groups: perRow(1, 64),
  };
};

export const concatKernel: KernelTemplate<'concat'> = (node, context) => {
  const n = node.inputs.length;
  const { start, count } = context.inputs ?? { start: 0, count: n };
  const parts = node.inputs.slice(start, start + count);
  const names = parts.map((_, i) => `s${i}`);
  return {
    name: `concat_${n}${context.inputs ? `_${start}+${count}` : ''}`,
    wgsl: `${bindings([...names, 'out'])}

@compute @workgroup_size(64)
fn main(${ENTRY_BUILTINS}) {
  ${FLAT_GROUP}
  let row = group * 64u + lid;
  if (row >= params.rows) { return; }
${names.map((s, i) => `  out[row * ${n}u + ${start + i}u] = ${s}[row];`).join('\n')}
}
`,
    args: parts.map((id) => argOf(context, id)),
    groups: perRow(1, 64),
  };
};

export const softmaxKernel: KernelTemplate<'softmax'> = (node, context) => {
  const n = lastDim(node.shape);
  const rows = rowKind(node.shape);
  return {
    name: `softmax_${n}${rowSuffix(rows)}`,
    wgsl: `${bindings(['x', 'out'])}
const N = ${n}u;

@compute @workgroup_size(64)
fn main(${ENTRY_BUILTINS}) {
  ${FLAT_GROUP}
  let row = group * 64u + lid;
  if (row >= ${rowCount(rows)}) { return; }
  var top = x[row * N];
  for (var i = 1u; i < N; i = i + 1u) { top = max(top, x[row * N + i]); }
  var total = 0.0;
  for (var i = 0u; i < N; i = i + 1u) { total = total + exp(x[row * N + i] - top); }
  for (var i = 0u; i < N; i = i + 1u) { out[row * N + i] = exp(x[row * N + i] - top) / total; }
}
`,
    args: [argOf(context, node.inputs[0]!)],
    groups: perRow(1, 64, rows),
  };
};

export const weightedSumKernel: KernelTemplate<'weighted_sum'> = (node, context) => {
  const [alpha, ...all] = node.inputs as [number, ...number[]];
  const n = all.length;
  const { start, count } = context.inputs ?? { start: 0, count: n };
  const values = all.slice(start, start + count);
  const d = lastDim(node.shape);
  const names = values.map((_, i) => `v${i}`);
  const sum = names.map((v, j) => `alpha[row * ${n}u + ${start + j}u] * ${v}[i]`).join(' + ');
  return {
    name: `weighted_sum_${n}x${d}${context.inputs ? `_${start}+${count}` : ''}`,
    wgsl: `${bindings(['alpha', ...names, 'out'])}
const D = ${d}u;

@compute @workgroup_size(256)
fn main(${ENTRY_BUILTINS}) {
  ${FLAT_GROUP}
  let i = group * 256u + lid;
  if (i >= params.rows * D) { return; }
  let row = i / D;
  out[i] = ${start > 0 ? 'out[i] + ' : ''}${sum};
}
`,
    args: [argOf(context, alpha), ...values.map((id) => argOf(context, id))],
    groups: perRow(d, 256),
  };
};
