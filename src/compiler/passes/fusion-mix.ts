// Rule: after the algebraic rewrite, weighted_sum(softmax(scale(concat(row_dot(q', o_i)...))),
// o_1..o_N), every step read by the next one only and the scores reading the same q' and the
// mixed o_i in order → fusion_mix(q', o_1..o_N): scores, softmax and mix in one row kernel (the
// softmax is over N adapters, so a row holds it all).
import { MAX_STORAGE_BINDINGS } from '../ir/limits.js';
import type { IrGraph } from '../ir/types.js';
import { fusionScores, sharedQuery } from './fusion-scores.js';
import { constrain, match, matchContext } from './match/pattern.js';
import { hasOneReader } from './match/predicates.js';
import { applyFusions, type Fusion } from './rewrite.js';

const fusionMix = constrain(
  fusionScores,
  ({ softmax, scale, concat, rowDots, values }, context) =>
    [softmax, scale, concat, ...rowDots].every((node) => hasOneReader(node, context)) &&
    sharedQuery(rowDots) !== undefined &&
    rowDots.length === values.length &&
    rowDots.every((rowDot, i) => rowDot.inputs[1] === values[i]!.id) &&
    // One row kernel binds q', every o_i and the output; past the limit the unfused pieces run,
    // which codegen splits over several dispatches.
    values.length + 2 <= MAX_STORAGE_BINDINGS,
);

export function fuseFusionMix(graph: IrGraph): IrGraph {
  const context = matchContext(graph);
  const fusions: Fusion[] = [];
  for (const node of graph.nodes) {
    const bound = match(context, fusionMix, node.id);
    if (!bound) continue;
    const { sum, softmax, scale, concat, rowDots, values } = bound;
    const query = sharedQuery(rowDots)!;
    fusions.push({
      root: sum.id,
      absorbed: [softmax.id, scale.id, concat.id, ...rowDots.map((rowDot) => rowDot.id)],
      emit: (rw) =>
        rw.emit(
          'fusion_mix',
          [query, ...values.map((value) => value.id)].map((id) => rw.map(id)),
          { factor: scale.attrs.factor },
          sum.scope,
        ),
    });
  }
  return applyFusions(graph, fusions);
}
