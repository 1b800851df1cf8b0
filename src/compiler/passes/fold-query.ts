// Rule: after the fusion algebra a covered site computes q = x·W_Qᵀ + b_Q, then q' = W_Kᵀ q. Both
// are linear in x, so q' = x·Mᵀ + c with M = W_Kᵀ·W_Q ([d, d], the [out, in] layout of `linear`)
// and c = W_Kᵀ·b_Q, exact up to rounding. M and c are `weight_product` nodes, computed once at
// load from the weights; the site then costs 2·d² per token (M, W_V) instead of 3·d².
import type { IrGraph } from '../ir/types.js';
import { any, constrain, match, matchContext, op, type MatchContext } from './match/pattern.js';
import { hasOneReader, isVector } from './match/predicates.js';
import { rewriteGraph } from './rewrite.js';

/** W_Kᵀ q as the fusion algebra emits it: a plain linear with `transposeWeight` on a weight. */
const keyProjection = op('linear', {
  inputs: [any('q'), op('weight', { bind: 'keyWeight' })],
  where: ({ attrs }) =>
    attrs.transposeWeight &&
    !attrs.bias &&
    !attrs.residual &&
    attrs.activation === 'none' &&
    attrs.scale === 1,
});

const queryMatmul = op('matmul', {
  bind: 'matmul',
  inputs: [any('x'), op('weight', { bind: 'queryWeight' })],
});

/** q = x·W_Qᵀ + b_Q, or x·W_Qᵀ without bias, with W_Q and b_Q weights. */
const biasedQuery = op('add', {
  inputs: [queryMatmul, op('weight', { bind: 'queryBias', where: isVector })],
});

interface QueryFold {
  readonly x: number;
  readonly keyWeight: number;
  readonly queryWeight: number;
  readonly queryBias?: number;
}

const readOnlyByTheKey = (context: MatchContext) => (ids: readonly number[]) =>
  ids.every((id) => hasOneReader(context.graph.nodes[id]!, context));

function matchFold(context: MatchContext, id: number): QueryFold | undefined {
  const key = match(context, keyProjection, id);
  if (!key) return undefined;
  const only = readOnlyByTheKey(context);
  const biased = match(
    context,
    constrain(biasedQuery, ({ matmul }) => only([key.q.id, matmul.id])),
    key.q.id,
  );
  if (biased) {
    return {
      x: biased.x.id,
      keyWeight: key.keyWeight.id,
      queryWeight: biased.queryWeight.id,
      queryBias: biased.queryBias.id,
    };
  }
  const unbiased = match(
    context,
    constrain(queryMatmul, () => only([key.q.id])),
    key.q.id,
  );
  if (!unbiased) return undefined;
  return { x: unbiased.x.id, keyWeight: key.keyWeight.id, queryWeight: unbiased.queryWeight.id };
}

/** Folds each W_Kᵀ·(x·W_Qᵀ + b_Q) into x·(W_Kᵀ·W_Q)ᵀ + W_Kᵀ·b_Q, one linear instead of two. */
export function foldQueryProjections(graph: IrGraph): IrGraph {
  const context = matchContext(graph);
  const folds = new Map<number, QueryFold>();
  for (const node of graph.nodes) {
    const fold = matchFold(context, node.id);
    if (fold) folds.set(node.id, fold);
  }
  if (folds.size === 0) return graph;
  return rewriteGraph(graph, (node, rw) => {
    const fold = folds.get(node.id);
    if (!fold) return undefined;
    const key = rw.map(fold.keyWeight);
    const product = rw.emit('weight_product', [key, rw.map(fold.queryWeight)], {}, node.scope);
    const inputs = [rw.map(fold.x), product];
    if (fold.queryBias !== undefined)
      inputs.push(rw.emit('weight_product', [key, rw.map(fold.queryBias)], {}, node.scope));
    return rw.emit(
      'linear',
      inputs,
      {
        activation: 'none',
        scale: 1,
        bias: fold.queryBias !== undefined,
        residual: false,
        transposeWeight: false,
      },
      node.scope,
    );
  });
}
