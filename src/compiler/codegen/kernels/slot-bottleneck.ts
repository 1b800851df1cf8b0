import { MAX_WORKGROUP_FLOATS } from '../../ir/limits.js';
import {
  argOf,
  lastDim,
  type KernelArg,
  type KernelContext,
  type KernelTemplate,
} from '../kernel.js';
import { activation, bindings, ENTRY_BUILTINS, FLAT_GROUP, opaqueBound } from '../wgsl.js';

const SIZE = 64;
/** Rows one workgroup takes at most. */
const MAX_ROWS = 4;

/** A slot tensor as stored: the runtime writes slots into its upload in place. */
export function slotWeightArg(context: KernelContext, ids: readonly number[]): KernelArg {
  const parts = ids.map((id) => {
    const weight = context.weightName(id);
    if (weight === undefined) throw new Error(`slot op: node %${id} must be a weight`);
    return { weight, transpose: false };
  });
  return { kind: 'weights', parts };
}

/**
 * One adapter per sequence, picked from stacked weights by the sequence's slot: the rows of a
 * workgroup all belong to one sequence (workgroups tile each sequence, the extra ones return), so
 * they share a slot, and as in the bottleneck kernel their z and their r-wide bottlenecks stay in
 * workgroup memory and each weight read serves them all (four floats per load where d and r are
 * multiples of 4). The four stacked tensors are one binding, back to back as stored (W_down [S, r, d], b_down [S, r], W_up [S, d, r], b_up [S, d]);
 * the scales [S] another.
 */
export const slotBottleneckKernel: KernelTemplate<'slot_bottleneck'> = (node, context) => {
  const [residual, z, slot, wd, bd, wu, bu, scale] = node.inputs as number[] as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const d = lastDim(node.shape);
  const [count, r] = context.node(wd).shape as [number, number];
  const rows = Math.max(1, Math.min(MAX_ROWS, Math.floor(MAX_WORKGROUP_FLOATS / (d + r))));
  // Four floats per load where d and r allow, as the bottleneck kernel's vec4 lanes.
  const width = d % 4 === 0 && r % 4 === 0 ? 4 : 1;
  const type = width === 4 ? 'vec4f' : 'f32';
  const dot = (a: string, b: string) => (width === 4 ? `dot(${a}, ${b})` : `${a} * ${b}`);
  /** One float of an array of lanes, at a float index. */
  const float = (array: string, index: string) =>
    width === 4 ? `${array}[(${index}) / 4u][(${index}) % 4u]` : `${array}[${index}]`;
  const { functions, apply } = activation(node.attrs.activation);
  const each = (body: (row: number) => string) =>
    Array.from({ length: rows }, (_, row) => body(row)).join(' ');
  const start = Array(rows).fill('bias').join(', ');
  const wgsl = `${bindings(
    ['residual', 'z', 'slot', 'pack', 'scale', 'out'],
    ['f32', type, 'i32', type, 'f32', 'f32'],
  )}
${functions}
const D = ${d}u;
const R = ${r}u;
const DW = ${d / width}u;
const RW = ${r / width}u;
const S = ${count}u;
const ROWS = ${rows}u;
var<workgroup> zrow: array<${type}, ${(rows * d) / width}>;
var<workgroup> hidden: array<${type}, ${(rows * r) / width}>;

@compute @workgroup_size(${SIZE})
fn main(${ENTRY_BUILTINS}) {
  ${FLAT_GROUP}
  let tiles = (params.seq + ROWS - 1u) / ROWS;
  let b = group / tiles;
  if (b >= params.batch) { return; }
  let t0 = (group % tiles) * ROWS;
  let row0 = b * params.seq + t0;
  let valid = min(ROWS, params.seq - t0);
  let s = u32(clamp(slot[b], 0, i32(S) - 1));
  // Elements (of lanes) where slot s's matrices start; floats where its biases start.
  let wd = s * R * DW;
  let wu = S * R * (D + 1u) / ${width}u + s * D * RW;
  let bd = S * R * D + s * R;
  let bu = S * R * (2u * D + 1u) + s * D;
  let factor = scale[s];
  for (var i = lid; i < ROWS * DW; i = i + ${SIZE}u) { zrow[i] = z[(row0 + min(i / DW, valid - 1u)) * DW + i % DW]; }
  workgroupBarrier();
  for (var j = lid; j < R; j = j + ${SIZE}u) {
    let bias = ${float('pack', 'bd + j')};
    var acc = array<f32, ROWS>(${start});
    for (var c = 0u; c < ${opaqueBound('DW')}; c = c + 1u) {
      let w = pack[wd + j * DW + c];
      ${each((row) => `acc[${row}] = acc[${row}] + ${dot('w', `zrow[${(row * d) / width}u + c]`)};`)}
    }
    ${each((row) => `${float('hidden', `${row * r}u + j`)} = ${apply(`acc[${row}]`)};`)}
  }
  workgroupBarrier();
  for (var c = lid; c < D; c = c + ${SIZE}u) {
    let bias = ${float('pack', 'bu + c')};
    var acc = array<f32, ROWS>(${start});
    for (var j = 0u; j < ${opaqueBound('RW')}; j = j + 1u) {
      let w = pack[wu + c * RW + j];
      ${each((row) => `acc[${row}] = acc[${row}] + ${dot('w', `hidden[${(row * r) / width}u + j]`)};`)}
    }
    ${each((row) => `if (${row}u < valid) { let at = (row0 + ${row}u) * D + c; out[at] = residual[at] + factor * acc[${row}]; }`)}
  }
}
`;
  return {
    name: `slot_bottleneck_${d}_${r}_${count}_${node.attrs.activation}${width === 4 ? '_v4' : ''}`,
    wgsl,
    args: [
      argOf(context, residual),
      argOf(context, z),
      argOf(context, slot),
      slotWeightArg(context, [wd, bd, wu, bu]),
      slotWeightArg(context, [scale]),
    ],
    // ⌈(B·T + (ROWS − 1)·B) / ROWS⌉ ≥ B·⌈T / ROWS⌉: every sequence's tiles, and a few spare.
    groups: { perToken: 1, perSequence: rows - 1, fixed: 0, divide: rows },
  };
};
