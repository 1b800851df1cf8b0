import type { WeightPart } from '../../../runtime/program.js';
import {
  argOf,
  lastDim,
  perRow,
  type KernelArg,
  type KernelContext,
  type KernelTemplate,
} from '../kernel.js';
import { bindings, ENTRY_BUILTINS, f32, FLAT_GROUP } from '../wgsl.js';
import { REDUCE, ROW, rowKernelStart } from './rows.js';

const SIZE = 256;

/** The first axis of a table [V, d]: ids are clamped to 0..V-1, so no kernel reads past it. */
function tableRows(context: KernelContext, id: number): number {
  return context.node(id).shape[0] as number;
}

/** `u32(clamp(ids[row], 0, rows - 1))`: the row an id reads. */
const clamped = (ids: string, rows: number) => `u32(clamp(${ids}[row], 0, ${rows - 1}))`;

/**
 * One window of a table too big to bind, rows [start, start + count), bound transposed as
 * [d, count]: each token whose (clamped) id lies in the window gets its row written; the other
 * windows write the rest.
 */
function gatherWindow(
  context: KernelContext,
  table: number,
  ids: number,
  d: number,
  order: 'table-first' | 'ids-first',
) {
  const v = tableRows(context, table);
  const { start, count } = context.tableRows!;
  const weight = context.weightName(table);
  if (weight === undefined) throw new Error(`a table split by rows must be a weight (%${table})`);
  const tableArg: KernelArg = {
    kind: 'weights',
    parts: [{ weight, transpose: true, columns: [start, start + count] }],
  };
  const named =
    order === 'table-first'
      ? { names: ['table', 'ids', 'out'], types: ['f32', 'i32', 'f32'] }
      : { names: ['ids', 'table', 'out'], types: ['i32', 'f32', 'f32'] };
  return {
    name: `gather_${v}x${d}_rows${start}+${count}_${order}`,
    wgsl: `${bindings(named.names, named.types)}
const D = ${d}u;
const START = ${start};
const COUNT = ${count};

@compute @workgroup_size(${SIZE})
fn main(${ENTRY_BUILTINS}) {
  ${FLAT_GROUP}
  let i = group * ${SIZE}u + lid;
  if (i >= params.rows * D) { return; }
  let row = i / D;
  let id = clamp(ids[row], 0, ${v - 1});
  if (id < START || id >= START + COUNT) { return; }
  out[i] = table[(i % D) * u32(COUNT) + u32(id - START)];
}
`,
    args:
      order === 'table-first' ? [tableArg, argOf(context, ids)] : [argOf(context, ids), tableArg],
    groups: perRow(d, SIZE),
  };
}

/** Rows of a table by i32 ids, one invocation per output element; ids are clamped. */
export const gatherKernel: KernelTemplate<'gather'> = (node, context) => {
  const [table, ids] = node.inputs as [number, number];
  const d = lastDim(node.shape);
  if (context.tableRows) return gatherWindow(context, table, ids, d, 'table-first');
  const v = tableRows(context, table);
  return {
    name: `gather_${v}x${d}`,
    wgsl: `${bindings(['table', 'ids', 'out'], ['f32', 'i32', 'f32'])}
const D = ${d}u;

@compute @workgroup_size(${SIZE})
fn main(${ENTRY_BUILTINS}) {
  ${FLAT_GROUP}
  let i = group * ${SIZE}u + lid;
  if (i >= params.rows * D) { return; }
  let row = i / D;
  out[i] = table[${clamped('ids', v)} * D + i % D];
}
`,
    args: [argOf(context, table), argOf(context, ids)],
    groups: perRow(d, SIZE),
  };
};

/** Row 0 of each sequence: [B, T, w] → [B, w]. */
export const firstTokenKernel: KernelTemplate<'first_token'> = (node, context) => {
  const width = lastDim(node.shape);
  return {
    name: `first_token_${width}`,
    wgsl: `${bindings(['x', 'out'])}
const W = ${width}u;

@compute @workgroup_size(${SIZE})
fn main(${ENTRY_BUILTINS}) {
  ${FLAT_GROUP}
  let i = group * ${SIZE}u + lid;
  if (i >= params.batch * W) { return; }
  out[i] = x[(i / W) * params.seq * W + i % W];
}
`,
    args: [argOf(context, node.inputs[0]!)],
    groups: perRow(width, SIZE, 'sequence'),
  };
};

/** The weight a table or LayerNorm parameter of a fused `embeddings` node reads. */
function weightPart(context: KernelContext, id: number): WeightPart {
  const weight = context.weightName(id);
  if (weight === undefined) throw new Error(`embeddings: node %${id} must be a weight`);
  return { weight, transpose: false };
}

/**
 * The input embeddings, one workgroup per token: word[id] + position[pid] (+ type[tid]) summed
 * in f32, then LayerNorm as layerNormKernel computes it (mean, then the biased variance around
 * it). The small tensors (position and type tables, gamma, beta) share one binding, packed in
 * that order, so the kernel binds at most six buffers; ids are clamped.
 */
export const embeddingsKernel: KernelTemplate<'embeddings'> = (node, context) => {
  const { tokenTypes, layerNorm, eps } = node.attrs;
  const [ids, word, positionIds, position, typeIds, type] = node.inputs as number[];
  const d = lastDim(node.shape);
  if (context.tableRows) return gatherWindow(context, word!, ids!, d, 'ids-first');
  // The last part of a word table split by rows: the parts before wrote the word rows.
  const written = context.wordsWritten === true;
  const v = tableRows(context, word!);
  const p = tableRows(context, position!);
  const y = tokenTypes ? tableRows(context, type!) : 0;
  const packed = [
    position!,
    ...(tokenTypes ? [type!] : []),
    ...(layerNorm ? node.inputs.slice(-2) : []),
  ];
  const names = [
    ...(written ? [] : ['ids']),
    'position_ids',
    ...(tokenTypes ? ['type_ids'] : []),
    ...(written ? [] : ['word']),
    'small',
    'out',
  ];
  const types = names.map((name) => (name.endsWith('ids') ? 'i32' : 'f32'));
  const typeOffset = p * d;
  const gammaOffset = typeOffset + y * d;
  const sum = (i: string) =>
    [
      written ? `out[base + ${i}]` : `word[w + ${i}]`,
      `small[pos + ${i}]`,
      ...(tokenTypes ? [`small[${typeOffset}u + typ + ${i}]`] : []),
    ].join(' + ');
  const rows = `${written ? '' : `  let w = ${clamped('ids', v)} * D;\n`}  let pos = ${clamped('position_ids', p)} * D;${tokenTypes ? `\n  let typ = ${clamped('type_ids', y)} * D;` : ''}`;
  const body = layerNorm
    ? `  var partial = 0.0;
  for (var i = lid; i < D; i = i + ${ROW}u) { partial = partial + ${sum('i')}; }
  let mean = workgroup_sum(partial, lid) / f32(D);
  partial = 0.0;
  for (var i = lid; i < D; i = i + ${ROW}u) { let c = ${sum('i')} - mean; partial = partial + c * c; }
  let inv = inverseSqrt(workgroup_sum(partial, lid) / f32(D) + ${f32(eps)});
  for (var i = lid; i < D; i = i + ${ROW}u) { out[base + i] = (${sum('i')} - mean) * inv * small[${gammaOffset}u + i] + small[${gammaOffset + d}u + i]; }`
    : `  for (var i = lid; i < D; i = i + ${ROW}u) { out[base + i] = ${sum('i')}; }`;
  const args: KernelArg[] = [
    ...(written ? [] : [argOf(context, ids!)]),
    argOf(context, positionIds!),
    ...(tokenTypes ? [argOf(context, typeIds!)] : []),
    ...(written ? [] : [{ kind: 'weights', parts: [weightPart(context, word!)] } as const]),
    { kind: 'weights', parts: packed.map((id) => weightPart(context, id)) },
  ];
  return {
    name: `embeddings_${written ? 'rest_' : ''}${v}x${d}_p${p}${tokenTypes ? `_t${y}` : ''}${layerNorm ? `_ln${eps}` : ''}`,
    wgsl: `${bindings(names, types)}
${layerNorm ? REDUCE : ''}
${rowKernelStart(d)}
${rows}
${body}
}
`,
    args,
    groups: perRow(1, 1),
  };
};
