// Rule: matmul(x, W) → add(·, b) with b a vector weight → an activation → scale(·, s) → add(·, r)
// with r of the output's shape, each step optional and in that order, each node the sole reader
// of the one before → linear(x, W, b?, r?) with that activation and scale: elementwise ops fuse
// into their producer, as in TVM. A parallel adapter's delta becomes the residual of its
// sublayer's output projection this way.
import type { LinearActivation } from '../../runtime/ops/registry.js';
import type { IrGraph } from '../ir/types.js';
import { followChain, previous, step, type Step } from './match/chain.js';
import { any, constrain, either, group, match, matchContext, op } from './match/pattern.js';
import { isVector } from './match/predicates.js';
import { applyFusions, sameShape, type Fusion } from './rewrite.js';

interface Epilogue {
  readonly bias?: number;
  readonly activation?: LinearActivation;
  readonly scale?: number;
  readonly residual?: number;
}

const matmul = op('matmul', { bind: 'matmul' });

const EPILOGUE_STEPS: readonly Step<Epilogue>[] = [
  step(
    op('add', { inputs: [previous, op('weight', { bind: 'bias', where: isVector })] }),
    ({ bias }): Epilogue => ({ bias: bias.id }),
  ),
  step(group('activation', { bind: 'activation' }), ({ activation }): Epilogue => ({
    activation: activation.op,
  })),
  step(op('scale', { bind: 'scale' }), ({ scale }): Epilogue => ({ scale: scale.attrs.factor })),
  step(
    constrain(
      either(
        op('add', { bind: 'sum', inputs: [previous, any('residual')] }),
        op('add', { bind: 'sum', inputs: [any('residual'), previous] }),
      ),
      ({ sum, residual }) => sameShape(residual.shape, sum.shape),
    ),
    ({ residual }): Epilogue => ({ residual: residual.id }),
  ),
];

export function fuseEpilogues(graph: IrGraph): IrGraph {
  const context = matchContext(graph);
  const claimed = new Set<number>();
  const fusions: Fusion[] = [];
  for (const node of graph.nodes) {
    const start = match(context, matmul, node.id);
    if (!start) continue;
    const { members, contributions } = followChain(
      context,
      node.id,
      EPILOGUE_STEPS,
      (id) => !claimed.has(id),
    );
    for (const id of members) claimed.add(id);
    const {
      bias,
      activation = 'none',
      scale = 1,
      residual,
    } = contributions.reduce<Epilogue>((all, contribution) => ({ ...all, ...contribution }), {});
    const [x, weight] = start.matmul.inputs;
    fusions.push({
      root: members.at(-1)!,
      absorbed: members.slice(0, -1),
      emit: (rw) =>
        rw.emit(
          'linear',
          [x!, weight!, bias, residual].filter((id) => id !== undefined).map((id) => rw.map(id)),
          {
            activation,
            scale,
            bias: bias !== undefined,
            residual: residual !== undefined,
            transposeWeight: false,
          },
          start.matmul.scope,
        ),
    });
  }
  return applyFusions(graph, fusions);
}
