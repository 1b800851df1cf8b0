// Rule: the algebra of AdapterFusion (docs/design.md §5), exact up to rounding. Where every key
// k_i is a projection W_K o_i + b_K with one W_K and b_K, and every value is o_i itself or a
// projection W_V o_i + b_V with one W_V and b_V (or W_V o_i, AdapterHub's value without bias):
// - q·k_i = (W_Kᵀ q)·o_i + q·b_K; the last term is the same for every i and cancels in the
//   softmax, so W_Kᵀ is applied once to q instead of W_K to each o_i;
// - Σ α_i (W_V o_i + b_V) = W_V (Σ α_i o_i) + b_V, since Σ α_i = 1, so W_V is applied once.
// N adapters then cost 3·d² per token (W_Q, W_Kᵀ, W_V) instead of (1 + 2N)·d².
// The scores change by q·b_K, so they must be read by the chain only; the softmax is unchanged.
import type { IrGraph, IrNode } from '../ir/types.js';
import { fusionScores, sharedQuery } from './fusion-scores.js';
import { any, constrain, match, matchContext, op, type MatchContext } from './match/pattern.js';
import { hasOneReader } from './match/predicates.js';
import { rewriteGraph } from './rewrite.js';

/** add(matmul(x, W), b) with b a weight. */
const projection = op('add', {
  inputs: [op('matmul', { inputs: [any('x'), any('w')] }), op('weight', { bind: 'b' })],
});

/** matmul(x, W) with W a weight: a projection without bias. */
const unbiased = op('matmul', { inputs: [any('x'), op('weight', { bind: 'w' })] });

type ValueProjection = { readonly x: IrNode; readonly w: IrNode; readonly b?: IrNode };

/** Whether every one is a projection, all with the first one's weight and bias (or none). */
function shareWeights(projections: readonly (ValueProjection | undefined)[]): boolean {
  const first = projections[0];
  return projections.every((p) => p !== undefined && p.w === first!.w && p.b === first!.b);
}

function matchValue(context: MatchContext, id: number): ValueProjection | undefined {
  return match(context, projection, id) ?? match(context, unbiased, id);
}

interface FusionMatch {
  readonly query: number;
  readonly keyWeight: number;
  readonly outputs: readonly number[];
  readonly rowDots: readonly number[];
  /** W_V and b_V (absent without bias), unless the values are the o_i themselves. */
  readonly value?: { readonly w: number; readonly b?: number };
}

const fusionOfScores = constrain(fusionScores, ({ scale, concat, rowDots }, context) =>
  [scale, concat, ...rowDots].every((node) => hasOneReader(node, context)),
);

function matchFusion(context: MatchContext, id: number): FusionMatch | undefined {
  const fusion = match(context, fusionOfScores, id);
  if (!fusion) return undefined;
  const query = sharedQuery(fusion.rowDots);
  if (query === undefined) return undefined;
  const keys = fusion.rowDots.map((rowDot) => match(context, projection, rowDot.inputs[1]!));
  if (!shareWeights(keys)) return undefined;
  const outputs = keys.map((key) => key!.x.id);
  const values = fusion.values.map((value) => matchValue(context, value.id));
  const identity = fusion.values.every((value, i) => value.id === outputs[i]);
  const projected = shareWeights(values) && values.every((value, i) => value!.x.id === outputs[i]);
  if (!identity && !projected) return undefined;
  return {
    query,
    keyWeight: keys[0]!.w.id,
    outputs,
    rowDots: fusion.rowDots.map((rowDot) => rowDot.id),
    ...(identity
      ? {}
      : { value: { w: values[0]!.w.id, ...(values[0]!.b ? { b: values[0]!.b.id } : {}) } }),
  };
}

export function rewriteFusionAlgebra(graph: IrGraph): IrGraph {
  const context = matchContext(graph);
  const matches = new Map<number, FusionMatch>();
  const byRowDot = new Map<number, FusionMatch>();
  for (const node of graph.nodes) {
    const fusion = matchFusion(context, node.id);
    if (!fusion) continue;
    matches.set(node.id, fusion);
    for (const id of fusion.rowDots) byRowDot.set(id, fusion);
  }
  const projectedQuery = new Map<FusionMatch, number>();
  return rewriteGraph(graph, (node, rw) => {
    const scored = byRowDot.get(node.id);
    if (scored) {
      // W_Kᵀ q, emitted where the first score was.
      let query = projectedQuery.get(scored);
      if (query === undefined) {
        query = rw.emit(
          'linear',
          [rw.map(scored.query), rw.map(scored.keyWeight)],
          { activation: 'none', scale: 1, bias: false, residual: false, transposeWeight: true },
          node.scope,
        );
        projectedQuery.set(scored, query);
      }
      const output = scored.outputs[scored.rowDots.indexOf(node.id)]!;
      return rw.emit('row_dot', [query, rw.map(output)], {}, node.scope);
    }
    const fusion = matches.get(node.id);
    if (!fusion?.value) return undefined;
    const mixed = rw.emit(
      'weighted_sum',
      [rw.map(node.inputs[0]!), ...fusion.outputs.map((o) => rw.map(o))],
      {},
      node.scope,
    );
    const projected = rw.emit('matmul', [mixed, rw.map(fusion.value.w)], {}, node.scope);
    if (fusion.value.b === undefined) return projected;
    return rw.emit('add', [projected, rw.map(fusion.value.b)], {}, node.scope);
  });
}
