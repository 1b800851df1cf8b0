import { opInfo } from '../ir/ops.js';
import type { AttrValue, IrGraph, IrNode, Shape } from '../ir/types.js';

/** The consumers of every node, and graph outputs counted as one extra consumer. */
export function usersOf(graph: IrGraph): number[][] {
  const users: number[][] = graph.nodes.map(() => []);
  for (const node of graph.nodes) for (const input of node.inputs) users[input]!.push(node.id);
  for (const output of graph.outputs) users[output.node]!.push(-1);
  return users;
}

export interface Rewriter {
  /** The new id of an old node already visited. */
  map(oldId: number): number;
  /** Appends a node; its shape comes from the OPS table. Returns its new id. */
  emit(
    op: string,
    inputs: readonly number[],
    attrs: Record<string, AttrValue>,
    scope?: string,
  ): number;
}

/**
 * Rebuilds a graph in one walk. For each old node, `visit` returns undefined to copy it (inputs
 * remapped), a new id that stands for it, or 'drop' for a node a rewrite absorbed (nothing may
 * read it afterwards). Unreachable nodes are removed at the end.
 */
export function rewriteGraph(
  graph: IrGraph,
  visit: (node: IrNode, rewriter: Rewriter) => number | 'drop' | undefined,
): IrGraph {
  const nodes: IrNode[] = [];
  const mapping = new Map<number, number>();
  const rewriter: Rewriter = {
    map(oldId) {
      const id = mapping.get(oldId);
      if (id === undefined)
        throw new Error(`pass reads node %${oldId}, which was dropped or not yet visited`);
      return id;
    },
    emit(op, inputs, attrs, scope) {
      const info = opInfo(op);
      if (!info?.shape) throw new Error(`cannot emit op '${op}'`);
      const shapes = inputs.map((i) => nodes[i]!.shape);
      const shape = info.shape(shapes, attrs);
      if (typeof shape === 'string') throw new Error(`pass built a bad ${op}: ${shape}`);
      const id = nodes.length;
      nodes.push({
        id,
        op,
        dtype: 'f32',
        shape,
        inputs,
        attrs,
        ...(scope !== undefined ? { scope } : {}),
      });
      return id;
    },
  };
  for (const node of graph.nodes) {
    const result = visit(node, rewriter);
    if (result === 'drop') continue;
    if (result !== undefined) {
      mapping.set(node.id, result);
      continue;
    }
    const id = nodes.length;
    nodes.push({ ...node, id, inputs: node.inputs.map((i) => rewriter.map(i)) });
    mapping.set(node.id, id);
  }
  return eliminateDeadNodes({
    ...graph,
    nodes,
    inputs: graph.inputs.map((i) => ({ ...i, node: rewriter.map(i.node) })),
    outputs: graph.outputs.map((o) => ({ ...o, node: rewriter.map(o.node) })),
  });
}

/** Drops nodes no output depends on (graph inputs always stay), renumbers, prunes the weight list. */
export function eliminateDeadNodes(graph: IrGraph): IrGraph {
  const live = new Set<number>([
    ...graph.outputs.map((o) => o.node),
    ...graph.inputs.map((i) => i.node),
  ]);
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    if (live.has(i)) for (const input of graph.nodes[i]!.inputs) live.add(input);
  }
  const renumber = new Map<number, number>();
  const nodes: IrNode[] = [];
  for (const node of graph.nodes) {
    if (!live.has(node.id)) continue;
    renumber.set(node.id, nodes.length);
    nodes.push({ ...node, id: nodes.length, inputs: node.inputs.map((i) => renumber.get(i)!) });
  }
  const weightsRead = new Set(nodes.filter((n) => n.op === 'weight').map((n) => n.attrs.name));
  return {
    nodes,
    inputs: graph.inputs.map((i) => ({ ...i, node: renumber.get(i.node)! })),
    outputs: graph.outputs.map((o) => ({ ...o, node: renumber.get(o.node)! })),
    weights: graph.weights.filter((w) => weightsRead.has(w.name)),
  };
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
