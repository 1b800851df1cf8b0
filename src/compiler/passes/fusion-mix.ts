import { MAX_STORAGE_BINDINGS } from '../ir/limits.js';
import type { IrGraph, IrNode } from '../ir/types.js';
import { rewriteGraph, usersOf } from './rewrite.js';

/**
 * After the algebraic rewrite, a fusion's scores, softmax and mix read only q' and the adapter
 * outputs o_i: weighted_sum(softmax(scale(concat(row_dot(q', o_i)...))), o_1..o_N) becomes one
 * `fusion_mix` row kernel. The softmax is over N adapters, so a row holds it all.
 */
export function fuseFusionMix(graph: IrGraph): IrGraph {
  const users = usersOf(graph);
  const only = (id: number) => users[id]!.length === 1;
  const fused = new Map<
    number,
    { query: number; outputs: number[]; factor: number; absorbed: number[] }
  >();
  for (const sum of graph.nodes) {
    if (sum.op !== 'weighted_sum') continue;
    const [alphaId, ...outputs] = sum.inputs as [number, ...number[]];
    const softmax = graph.nodes[alphaId]!;
    const scale: IrNode | undefined = graph.nodes[softmax.inputs[0] ?? -1];
    const concat: IrNode | undefined = graph.nodes[scale?.inputs[0] ?? -1];
    if (softmax.op !== 'softmax' || scale?.op !== 'scale' || concat?.op !== 'concat') continue;
    if (![softmax.id, scale.id, concat.id].every(only)) continue;
    const rowDots = concat.inputs.map((i) => graph.nodes[i]!);
    const query = rowDots[0]?.inputs[0];
    const ok = rowDots.every(
      (r, i) =>
        r.op === 'row_dot' && only(r.id) && r.inputs[0] === query && r.inputs[1] === outputs[i],
    );
    if (!ok || rowDots.length !== outputs.length) continue;
    // One row kernel binds q', every o_i and the output; past the limit the unfused pieces run,
    // which codegen splits over several dispatches.
    if (outputs.length + 2 > MAX_STORAGE_BINDINGS) continue;
    fused.set(sum.id, {
      query: query!,
      outputs,
      factor: scale.attrs.factor as number,
      absorbed: [softmax.id, scale.id, concat.id, ...rowDots.map((r) => r.id)],
    });
  }
  const absorbed = new Set([...fused.values()].flatMap((f) => f.absorbed));
  return rewriteGraph(graph, (node, rw) => {
    if (absorbed.has(node.id)) return 'drop';
    const mix = fused.get(node.id);
    if (!mix) return undefined;
    const inputs = [rw.map(mix.query), ...mix.outputs.map((o) => rw.map(o))];
    return rw.emit('fusion_mix', inputs, { factor: mix.factor }, node.scope);
  });
}
