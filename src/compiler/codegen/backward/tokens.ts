import { lastDim } from '../kernel.js';
import { countExpr, elementwise, GRADIENT, inputRead } from './common.js';
import type { BackwardTemplate } from './types.js';

/** Row 0 of each sequence gets the gradient, every other position zero. */
export const firstTokenBackward: BackwardTemplate<'first_token'> = (node, context) => {
  const shape = context.node(node.inputs[0]!).shape;
  const w = countExpr(shape.slice(2));
  return [
    elementwise({
      name: 'first_token_dx',
      reads: [{ read: GRADIENT, name: 'g' }],
      shape,
      body: `let w = ${w};
  let token = i / w;
  let v = select(0.0, g[(token / params.seq) * w + i % w], token % params.seq == 0u);`,
      accumulate: context.accumulate[0]!,
      index: 0,
    }),
  ];
};

/** g/T to every position, padding included, as the forward mean. */
export const tokenMeanBackward: BackwardTemplate<'token_mean'> = (node, context) => {
  const shape = context.node(node.inputs[0]!).shape;
  const w = lastDim(shape);
  return [
    elementwise({
      name: 'token_mean_dx',
      reads: [{ read: GRADIENT, name: 'g' }],
      shape,
      body: `let v = g[(i / (params.seq * ${w}u)) * ${w}u + i % ${w}u] / f32(params.seq);`,
      accumulate: context.accumulate[0]!,
      index: 0,
    }),
  ];
};

/** Each sequence's gradient to the branch its index chose; the index gets none. */
export const selectBackward: BackwardTemplate<'select'> = (node, context) => {
  const perSequence = countExpr(node.shape.slice(1));
  return node.inputs.slice(1).flatMap((branch, k) => {
    if (!context.wanted[k + 1]) return [];
    return [
      elementwise({
        name: `select_d${k}`,
        reads: [
          { read: GRADIENT, name: 'g' },
          { read: inputRead(context, node.inputs[0]!), name: 'index', type: 'i32' },
        ],
        shape: context.node(branch).shape,
        body: `let v = select(0.0, g[i], index[i / (${perSequence})] == ${k});`,
        accumulate: context.accumulate[k + 1]!,
        index: k + 1,
      }),
    ];
  });
};
