import type { IrGraph, IrNode } from '../ir/types.js';
import { rewriteGraph } from './rewrite.js';

/** A projection `add(matmul(x, W), b)`: its input, weight and bias. */
function projection(graph: IrGraph, id: number): { x: number; w: number; b: number } | undefined {
  const add = graph.nodes[id]!;
  if (add.op !== 'add') return undefined;
  const matmul = graph.nodes[add.inputs[0]!]!;
  const bias = graph.nodes[add.inputs[1]!]!;
  if (matmul.op !== 'matmul' || bias.op !== 'weight') return undefined;
  return { x: matmul.inputs[0]!, w: matmul.inputs[1]!, b: bias.id };
}

interface FusionMatch {
  readonly query: number;
  readonly keyWeight: number;
  readonly outputs: readonly number[];
  readonly rowDots: readonly number[];
  /** W_V and b_V, unless `value identity`. */
  readonly value?: { readonly w: number; readonly b: number };
}

/** AdapterFusion as lowered: weighted_sum(softmax(scale(concat(row_dot(q, k_i)...))), v_i...). */
function matchFusion(graph: IrGraph, sum: IrNode): FusionMatch | undefined {
  const [alphaId, ...valueIds] = sum.inputs as [number, ...number[]];
  const softmax = graph.nodes[alphaId]!;
  const scale = graph.nodes[softmax.inputs[0] ?? -1];
  const concat = graph.nodes[scale?.inputs[0] ?? -1];
  if (softmax.op !== 'softmax' || scale?.op !== 'scale' || concat?.op !== 'concat')
    return undefined;
  const rowDots = concat.inputs.map((i) => graph.nodes[i]!);
  if (rowDots.some((r) => r.op !== 'row_dot')) return undefined;
  const query = rowDots[0]!.inputs[0]!;
  const keys = rowDots.map((r) =>
    r.inputs[0] === query ? projection(graph, r.inputs[1]!) : undefined,
  );
  if (keys.some((k) => !k || k.w !== keys[0]!.w || k.b !== keys[0]!.b)) return undefined;
  const outputs = keys.map((k) => k!.x);
  const values = valueIds.map((id) => projection(graph, id));
  const identity = valueIds.every((id, i) => id === outputs[i]);
  const shared = values.every(
    (v, i) => v && v.x === outputs[i] && v.w === values[0]!.w && v.b === values[0]!.b,
  );
  if (!identity && !shared) return undefined;
  return {
    query,
    keyWeight: keys[0]!.w,
    outputs,
    rowDots: rowDots.map((r) => r.id),
    ...(identity ? {} : { value: { w: values[0]!.w, b: values[0]!.b } }),
  };
}

/**
 * The algebra of AdapterFusion (docs/design.md §5), exact up to rounding:
 * - q·k_i = q·(W_K o_i + b_K) = (W_Kᵀ q)·o_i + q·b_K; the last term is the same for every i and
 *   cancels in the softmax, so W_Kᵀ is applied once to q instead of W_K to each o_i;
 * - Σ α_i (W_V o_i + b_V) = W_V (Σ α_i o_i) + b_V, since Σ α_i = 1, so W_V is applied once.
 * N adapters then cost 3·d² per token (W_Q, W_Kᵀ, W_V) instead of (1 + 2N)·d².
 */
export function rewriteFusionAlgebra(graph: IrGraph): IrGraph {
  const matches = new Map<number, FusionMatch>();
  const byRowDot = new Map<number, FusionMatch>();
  for (const node of graph.nodes) {
    if (node.op !== 'weighted_sum') continue;
    const match = matchFusion(graph, node);
    if (!match) continue;
    matches.set(node.id, match);
    for (const id of match.rowDots) byRowDot.set(id, match);
  }
  const projectedQuery = new Map<FusionMatch, number>();
  return rewriteGraph(graph, (node, rw) => {
    const rowMatch = byRowDot.get(node.id);
    if (rowMatch) {
      let query = projectedQuery.get(rowMatch);
      if (query === undefined) {
        query = rw.emit(
          'linear',
          [rw.map(rowMatch.query), rw.map(rowMatch.keyWeight)],
          { activation: 'none', scale: 1, bias: false, residual: false, transposeWeight: true },
          node.scope,
        );
        projectedQuery.set(rowMatch, query);
      }
      const output = rowMatch.outputs[rowMatch.rowDots.indexOf(node.id)]!;
      return rw.emit('row_dot', [query, rw.map(output)], {}, node.scope);
    }
    const match = matches.get(node.id);
    if (!match?.value) return undefined;
    const mixed = rw.emit(
      'weighted_sum',
      [rw.map(node.inputs[0]!), ...match.outputs.map((o) => rw.map(o))],
      {},
      node.scope,
    );
    const projected = rw.emit('matmul', [mixed, rw.map(match.value.w)], {}, node.scope);
    return rw.emit('add', [projected, rw.map(match.value.b)], {}, node.scope);
  });
}
