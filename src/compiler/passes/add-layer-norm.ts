import type { IrGraph } from '../ir/types.js';
import { rewriteGraph, sameShape, usersOf } from './rewrite.js';

/** layer_norm(add(x, y)) with the add read by nothing else becomes one `add_layer_norm` row kernel. */
export function fuseAddLayerNorm(graph: IrGraph): IrGraph {
  const users = usersOf(graph);
  const fused = new Set<number>();
  for (const node of graph.nodes) {
    if (node.op !== 'layer_norm') continue;
    const sum = graph.nodes[node.inputs[0]!]!;
    const [a, b] = sum.inputs.map((i) => graph.nodes[i]!);
    if (sum.op === 'add' && users[sum.id]!.length === 1 && sameShape(a!.shape, b!.shape))
      fused.add(sum.id);
  }
  return rewriteGraph(graph, (node, rw) => {
    if (fused.has(node.id)) return 'drop';
    if (node.op !== 'layer_norm' || !fused.has(node.inputs[0]!)) return undefined;
    const sum = graph.nodes[node.inputs[0]!]!;
    const inputs = [...sum.inputs, node.inputs[1]!, node.inputs[2]!].map((i) => rw.map(i));
    return rw.emit('add_layer_norm', inputs, { eps: node.attrs.eps as number }, node.scope);
  });
}
