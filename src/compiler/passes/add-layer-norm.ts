// Rule: layer_norm(add(x, y), γ, β), the add read by nothing else and x, y of one shape
// → add_layer_norm(x, y, γ, β): the residual add and the LayerNorm of a post-LN site in one row
// kernel.
import type { IrGraph } from '../ir/types.js';
import { match, matchContext, op } from './match/pattern.js';
import { hasOneReader, inputsOfSameShape } from './match/predicates.js';
import { applyFusions, type Fusion } from './rewrite.js';

const addThenNorm = op('layer_norm', {
  bind: 'norm',
  inputs: [
    op('add', {
      bind: 'sum',
      where: (sum, context) => hasOneReader(sum, context) && inputsOfSameShape(sum, context),
    }),
  ],
});

export function fuseAddLayerNorm(graph: IrGraph): IrGraph {
  const context = matchContext(graph);
  const fusions: Fusion[] = [];
  for (const node of graph.nodes) {
    const bound = match(context, addThenNorm, node.id);
    if (!bound) continue;
    const { norm, sum } = bound;
    const [, gamma, beta] = norm.inputs;
    fusions.push({
      root: norm.id,
      absorbed: [sum.id],
      emit: (rw) =>
        rw.emit(
          'add_layer_norm',
          [...sum.inputs, gamma!, beta!].map((id) => rw.map(id)),
          { eps: norm.attrs.eps },
          norm.scope,
        ),
    });
  }
  return applyFusions(graph, fusions);
}
