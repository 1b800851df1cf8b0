import type { ActivationName } from '../../../runtime/ops/registry.js';
import type { Dim, Shape } from '../../../runtime/program.js';
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

/** The WGSL expression of one dimension of a value: B and T come from the params uniform. */
function dimExpr(dim: Dim): string {
  if (dim === 'B') return 'params.batch';
  if (dim === 'T') return 'params.seq';
  return `${dim}u`;
}

/**
 * The element of b that element `i` of a reads, b broadcast onto a from the right. Each run of
 * adjacent axes where b is not 1 is one coordinate of a, the run's dims taken together, times
 * b's stride there; a b of a's shape reads `i`, a [1] reads element 0.
 */
export function broadcastIndex(a: Shape, b: Shape): string {
  const padded = [...new Array<Dim>(a.length - b.length).fill(1), ...b];
  const product = (dims: readonly string[]) => dims.join(' * ');
  const terms: string[] = [];
  const inner: string[] = [];
  const bStride: string[] = [];
  let axis = a.length - 1;
  while (axis >= 0) {
    if (padded[axis] === 1) {
      inner.push(dimExpr(a[axis]!));
      axis--;
      continue;
    }
    const run: string[] = [];
    for (; axis >= 0 && padded[axis] !== 1; axis--) run.push(dimExpr(a[axis]!));
    const above = inner.length === 0 ? 'i' : `(i / (${product(inner)}))`;
    const coordinate = axis < 0 ? above : `(${above} % (${product(run)}))`;
    terms.push(bStride.length === 0 ? coordinate : `${coordinate} * ${product(bStride)}`);
    inner.push(...run);
    bStride.push(...run);
  }
  return terms.length === 0 ? '0u' : terms.join(' + ');
}

/** The elements of each row of a value [B, T, ...] (per token) or [B, ...] (per sequence). */
function rowElements(shape: Shape, rows: RowKind): number {
  return shape.slice(rows === 'token' ? 2 : 1).reduce<number>((n, d) => {
    if (typeof d !== 'number')
      throw new Error(`shape [${shape.join(', ')}] must be [B, T, ...] or [B, ...]`);
    return n * d;
  }, 1);
}

/** a · b with b broadcast onto a from the right: [B, T, d] by [B, T, d], [d], [1] or [B, 1, 1]. */
export const mulKernel: KernelTemplate<'mul'> = (node, context) => {
  const [a, b] = node.inputs as [number, number];
  const bShape = context.node(b).shape;
  const rows = rowKind(node.shape);
  const columns = rowElements(node.shape, rows);
  const { wgsl } = kernel(
    'mul',
    ['a', 'b'],
    '',
    columns,
    `out[i] = a[i] * b[${broadcastIndex(node.shape, bShape)}];`,
    rows,
  );
  return {
    name: `mul_${node.shape.join('x')}_by_${bShape.join('x')}`,
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
