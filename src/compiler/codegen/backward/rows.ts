import { lastDim } from '../kernel.js';
import { ENTRY_BUILTINS, FLAT_GROUP } from '../wgsl.js';
import {
  accumulateSuffix,
  countExpr,
  declare,
  elementwise,
  GRADIENT,
  groupsFor,
  inputRead,
  SIZE,
  store,
} from './common.js';
import type { BackwardEmission, BackwardTemplate } from './types.js';

/** out[row] = a[row]·b[row]: da = g[row]·b, db = g[row]·a. */
export const rowDotBackward: BackwardTemplate<'row_dot'> = (node, context) => {
  const [a, b] = node.inputs as [number, number];
  const shape = context.node(a).shape;
  const d = lastDim(shape);
  return [0, 1].flatMap((index) => {
    if (!context.wanted[index]) return [];
    return [
      elementwise({
        name: `row_dot_d${index === 0 ? 'a' : 'b'}`,
        reads: [
          { read: GRADIENT, name: 'g' },
          { read: inputRead(context, index === 0 ? b : a), name: 'other' },
        ],
        shape,
        body: `let v = g[i / ${d}u] * other[i];`,
        accumulate: context.accumulate[index]!,
        index,
      }),
    ];
  });
};

/** out[row, i] = s_i[row]: each part's gradient is its column. */
export const concatBackward: BackwardTemplate<'concat'> = (node, context) => {
  const n = node.inputs.length;
  return node.inputs.flatMap((id, index) => {
    if (!context.wanted[index]) return [];
    return [
      elementwise({
        name: `concat_d${index}_of_${n}`,
        reads: [{ read: GRADIENT, name: 'g' }],
        shape: context.node(id).shape,
        body: `let v = g[i * ${n}u + ${index}u];`,
        accumulate: context.accumulate[index]!,
        index,
      }),
    ];
  });
};

/** y·(g − Σ g·y) per row, from the kept output y. */
export const softmaxBackward: BackwardTemplate<'softmax'> = (node, context) => {
  const n = lastDim(node.shape);
  return [
    elementwise({
      name: `softmax_dx_${n}`,
      reads: [
        { read: GRADIENT, name: 'g' },
        { read: { kind: 'value', node: node.id }, name: 'y' },
      ],
      shape: node.shape,
      body: `let first = (i / ${n}u) * ${n}u;
  var weighted = 0.0;
  for (var c = 0u; c < ${n}u; c = c + 1u) { weighted = weighted + g[first + c] * y[first + c]; }
  let v = y[i] * (g[i] - weighted);`,
      accumulate: context.accumulate[0]!,
      index: 0,
    }),
  ];
};

/**
 * out[row] = Σ_i α[row, i]·v_i[row]: dα[row, i] = g[row]·v_i[row], one dispatch per member
 * writing its column of dα; dv_i = α[row, i]·g[row].
 */
export const weightedSumBackward: BackwardTemplate<'weighted_sum'> = (node, context) => {
  const [alpha, ...values] = node.inputs as [number, ...number[]];
  const n = values.length;
  const d = lastDim(node.shape);
  const rows = countExpr(node.shape.slice(0, -1));
  const emissions: BackwardEmission[] = [];
  if (context.wanted[0]) {
    const accumulate = context.accumulate[0]!;
    values.forEach((member, i) => {
      emissions.push({
        name: `weighted_sum_dalpha_${i}_of_${n}x${d}_${node.shape.join('x')}${accumulateSuffix(accumulate)}`,
        wgsl: `${declare([
          { read: GRADIENT, name: 'g' },
          { read: inputRead(context, member), name: 'member' },
        ])}

@compute @workgroup_size(${SIZE})
fn main(${ENTRY_BUILTINS}) {
  ${FLAT_GROUP}
  let row = group * ${SIZE}u + lid;
  if (row >= ${rows}) { return; }
  var v = 0.0;
  for (var c = 0u; c < ${d}u; c = c + 1u) { v = v + g[row * ${d}u + c] * member[row * ${d}u + c]; }
  ${store(accumulate, `row * ${n}u + ${i}u`)}
}
`,
        reads: [GRADIENT, inputRead(context, member)],
        write: { kind: 'input', index: 0 },
        groups: groupsFor(node.shape, SIZE, d),
      });
    });
  }
  values.forEach((member, i) => {
    if (!context.wanted[i + 1]) return;
    emissions.push(
      elementwise({
        name: `weighted_sum_dv_${i}_of_${n}`,
        reads: [
          { read: GRADIENT, name: 'g' },
          { read: inputRead(context, alpha), name: 'alpha' },
        ],
        shape: context.node(member).shape,
        body: `let v = alpha[(i / ${d}u) * ${n}u + ${i}u] * g[i];`,
        accumulate: context.accumulate[i + 1]!,
        index: i + 1,
      }),
    );
  });
  return emissions;
};
