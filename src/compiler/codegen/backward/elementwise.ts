import type { ActivationName } from '../../../runtime/ops/registry.js';
import { broadcastIndex } from '../kernels/elementwise.js';
import { f32 } from '../wgsl.js';
import { broadcastSum } from './broadcast.js';
import { elementwise, GRADIENT, inputRead, type NamedRead } from './common.js';
import { ACTIVATION_DERIVATIVE_FUNCTIONS } from './derivatives.js';
import type { BackwardEmission, BackwardTemplate } from './types.js';

const shapeName = (shape: readonly (number | string)[]) => shape.join('x');

/**
 * a + b and a · b, b broadcast onto a: a's gradient elementwise (times b), b's summed over the
 * axes it was broadcast along (times a).
 */
function broadcastBackward(product: boolean): BackwardTemplate<'add' | 'mul'> {
  return (node, context) => {
    const [a, b] = node.inputs as [number, number];
    const aShape = node.shape;
    const bShape = context.node(b).shape;
    const kind = product ? 'mul' : 'add';
    // A product's gradient of one input reads the other; a sum's reads the gradient alone.
    const reads = (other: number, name: string): NamedRead[] => [
      { read: GRADIENT, name: 'g' },
      ...(product ? [{ read: inputRead(context, other), name }] : []),
    ];
    const emissions: BackwardEmission[] = [];
    if (context.wanted[0]) {
      emissions.push(
        elementwise({
          name: `${kind}_da_by_${shapeName(bShape)}`,
          reads: reads(b, 'b'),
          shape: aShape,
          body: product ? `let v = g[i] * b[${broadcastIndex(aShape, bShape)}];` : 'let v = g[i];',
          accumulate: context.accumulate[0]!,
          index: 0,
        }),
      );
    }
    if (context.wanted[1]) {
      emissions.push(
        elementwise({
          name: `${kind}_db_of_${shapeName(aShape)}`,
          reads: reads(a, 'a'),
          shape: bShape,
          body: broadcastSum(aShape, bShape, (at) =>
            product ? `g[${at}] * a[${at}]` : `g[${at}]`,
          ),
          accumulate: context.accumulate[1]!,
          index: 1,
        }),
      );
    }
    return emissions;
  };
}

export const addBackward: BackwardTemplate<'add'> = broadcastBackward(false);
export const mulBackward: BackwardTemplate<'mul'> = broadcastBackward(true);

export const scaleBackward: BackwardTemplate<'scale'> = (node, context) => [
  elementwise({
    name: `scale_dx_${Math.fround(node.attrs.factor)}`,
    reads: [{ read: GRADIENT, name: 'g' }],
    shape: node.shape,
    body: `let v = g[i] * ${f32(node.attrs.factor)};`,
    accumulate: context.accumulate[0]!,
    index: 0,
  }),
];

/** g · f′(x), f′ as the CPU reference's ACTIVATION_DERIVATIVES. */
export const activationBackward: BackwardTemplate<ActivationName> = (node, context) => [
  elementwise({
    name: `${node.op}_dx`,
    reads: [
      { read: GRADIENT, name: 'g' },
      { read: inputRead(context, node.inputs[0]!), name: 'x' },
    ],
    shape: node.shape,
    functions: ACTIVATION_DERIVATIVE_FUNCTIONS[node.op],
    body: `let v = g[i] * d_${node.op}(x[i]);`,
    accumulate: context.accumulate[0]!,
    index: 0,
  }),
];
