import type { ActivationName } from '../../../runtime/ops/registry.js';
import { activation, bindings, ENTRY_BUILTINS, f32, FLAT_GROUP } from '../wgsl.js';
import {
  argOf,
  lastDim,
  perRow,
  rowCount,
  rowKind,
  rowSuffix,
  type RowKind,
  type KernelTemplate,
} from '../kernel.js';

const SIZE = 256;

function kernel(
  name: string,
  names: string[],
  functions: string,
  columns: number,
  body: string,
  rows: RowKind = 'token',
) {
  return {
    name: `${name}${rowSuffix(rows)}`,
    wgsl: `${bindings([...names, 'out'])}
${functions ? `${functions}\n` : ''}const COLUMNS = ${columns}u;

@compute @workgroup_size(${SIZE})
fn main(${ENTRY_BUILTINS}) {
  ${FLAT_GROUP}
  let i = group * ${SIZE}u + lid;
  if (i >= ${rowCount(rows)} * COLUMNS) { return; }
  ${body}
}
`,
  };
}

/** a + b, with b the same shape as a or a row vector [columns] broadcast over rows. */
export const addKernel: KernelTemplate<'add'> = (node, context) => {
  const [a, b] = node.inputs as [number, number];
  const columns = lastDim(node.shape);
  const broadcast = context.node(b).shape.length === 1;
  const rows = rowKind(node.shape);
  const { name, wgsl } = kernel(
    `add_${columns}${broadcast ? '_row' : ''}`,
    ['a', 'b'],
    '',
    columns,
    `out[i] = a[i] + b[${broadcast ? 'i % COLUMNS' : 'i'}];`,
    rows,
  );
  return {
    name,
    wgsl,
    args: [argOf(context, a), argOf(context, b)],
    groups: perRow(columns, SIZE, rows),
  };
};

export const scaleKernel: KernelTemplate<'scale'> = (node, context) => {
  const columns = lastDim(node.shape);
  const { factor } = node.attrs;
  const rows = rowKind(node.shape);
  const { name, wgsl } = kernel(
    `scale_${columns}_${Math.fround(factor)}`,
    ['a'],
    '',
    columns,
    `out[i] = a[i] * ${f32(factor)};`,
    rows,
  );
  const groups = perRow(columns, SIZE, rows);
  return { name, wgsl, args: [argOf(context, node.inputs[0]!)], groups };
};

/** Every activation op: its attributes are all empty, so one node type serves them. */
export const activationKernel: KernelTemplate<ActivationName> = (node, context) => {
  const columns = lastDim(node.shape);
  const { functions, apply } = activation(node.op);
  const rows = rowKind(node.shape);
  const { name, wgsl } = kernel(
    `${node.op}_${columns}`,
    ['a'],
    functions,
    columns,
    `out[i] = ${apply('a[i]')};`,
    rows,
  );
  const groups = perRow(columns, SIZE, rows);
  return { name, wgsl, args: [argOf(context, node.inputs[0]!)], groups };
};

/**
 * batch(...): row b of branch index[b], zeros for an index out of range. A part that binds a
 * window of the branches writes the rows of the sequences whose index lies in it.
 */
export const selectKernel: KernelTemplate<'select'> = (node, context) => {
  const [index, ...all] = node.inputs as [number, ...number[]];
  const { start, count } = context.inputs ?? { start: 0, count: all.length };
  const branches = all.slice(start, start + count);
  const columns = lastDim(node.shape);
  const names = branches.map((_, i) => `branch${i}`);
  const cases = names.map((n, i) => `    case ${start + i}: { out[i] = ${n}[i]; }`).join('\n');
  const outOfRange =
    start > 0
      ? '{}'
      : context.inputs
        ? `{ if (index[sequence] < 0 || index[sequence] >= ${all.length}) { out[i] = 0.0; } }`
        : '{ out[i] = 0.0; }';
  const { name, wgsl } = kernel(
    `select_${all.length}_${columns}${context.inputs ? `_${start}+${count}` : ''}`,
    ['index', ...names],
    '',
    columns,
    `let sequence = i / (params.seq * COLUMNS);
  switch (index[sequence]) {
${cases}
    default: ${outOfRange}
  }`,
  );
  return {
    name,
    wgsl: wgsl.replace(
      'var<storage, read> index: array<f32>',
      'var<storage, read> index: array<i32>',
    ),
    args: [argOf(context, index), ...branches.map((b) => argOf(context, b))],
    groups: perRow(columns, SIZE),
  };
};
