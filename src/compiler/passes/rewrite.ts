import type { NodeOf, Provenance } from '../../runtime/ops/node.js';
import { opDef, outputDtype, type OpAttrs, type OpName } from '../../runtime/ops/registry.js';
import type { IrGraph, IrNode, Shape } from '../ir/types.js';

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
  /** Appends a node; its shape and dtype come from the op registry. Returns its new id. */
  emit<O extends OpName>(
    op: O,
    inputs: readonly number[],
    attrs: OpAttrs<O>,
    scope?: Provenance,
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
  // New id of each old node by its id (ids equal positions); -1 until visited or when dropped.
  const mapping = new Int32Array(graph.nodes.length).fill(-1);
  const rewriter: Rewriter = {
    map(oldId) {
      const id = mapping[oldId] ?? -1;
      if (id < 0)
        throw new Error(`pass reads node %${oldId}, which was dropped or not yet visited`);
      return id;
    },
    emit(op, inputs, attrs, scope) {
      const rule = opDef(op);
      if (!rule.shape) throw new Error(`cannot emit op '${op}'`);
      const shape = rule.shape(
        inputs.map((i) => nodes[i]!.shape),
        attrs,
      );
      if (typeof shape === 'string') throw new Error(`pass built a bad ${op}: ${shape}`);
      const dtype = outputDtype(
        op,
        inputs.map((i) => nodes[i]!.dtype),
      )!;
      const id = nodes.length;
      const node: NodeOf<typeof op> = {
        id,
        op,
        dtype,
        shape,
        inputs,
        attrs,
        ...(scope !== undefined ? { scope } : {}),
      };
      nodes.push(node as IrNode);
      return id;
    },
  };
  for (const node of graph.nodes) {
    const result = visit(node, rewriter);
    if (result === 'drop') continue;
    if (result !== undefined) {
      mapping[node.id] = result;
      continue;
    }
    const id = nodes.length;
    nodes.push(renumbered(node, id, (i) => rewriter.map(i)));
    mapping[node.id] = id;
  }
  return eliminateDeadNodes({
    ...graph,
    nodes,
    inputs: graph.inputs.map((i) => ({ ...i, node: rewriter.map(i.node) })),
    outputs: graph.outputs.map((o) => ({ ...o, node: rewriter.map(o.node) })),
  });
}

/** A match to fuse: `root` is replaced by what `emit` builds, the `absorbed` nodes are dropped. */
export interface Fusion {
  readonly root: number;
  readonly absorbed: readonly number[];
  readonly emit: (rewriter: Rewriter) => number;
}

/** Rebuilds a graph with each fusion's root replaced and its absorbed nodes dropped. */
export function applyFusions(graph: IrGraph, fusions: Iterable<Fusion>): IrGraph {
  const byRoot = new Map<number, Fusion>();
  const absorbed = new Set<number>();
  for (const fusion of fusions) {
    byRoot.set(fusion.root, fusion);
    for (const id of fusion.absorbed) absorbed.add(id);
  }
  return rewriteGraph(graph, (node, rewriter) =>
    absorbed.has(node.id) ? 'drop' : byRoot.get(node.id)?.emit(rewriter),
  );
}

/** The node with a new id and its inputs mapped; the node itself when neither changes. */
function renumbered(node: IrNode, id: number, map: (input: number) => number): IrNode {
  let same = id === node.id;
  for (let i = 0; same && i < node.inputs.length; i++)
    same = map(node.inputs[i]!) === node.inputs[i];
  if (same) return node;
  // Written out rather than spread: one object shape for every node keeps big graphs fast.
  const { op, dtype, shape, attrs, scope } = node;
  const inputs = node.inputs.map(map);
  // The same op with the same attributes, so still a node of that op.
  const copy =
    scope === undefined
      ? { id, op, dtype, shape, inputs, attrs }
      : { id, op, dtype, shape, inputs, attrs, scope };
  return copy as IrNode;
}

/** Drops nodes no output depends on (graph inputs always stay), renumbers, prunes the weight list. */
export function eliminateDeadNodes(graph: IrGraph): IrGraph {
  const live = new Uint8Array(graph.nodes.length);
  for (const output of graph.outputs) live[output.node] = 1;
  for (const input of graph.inputs) live[input.node] = 1;
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    if (live[i]) for (const input of graph.nodes[i]!.inputs) live[input] = 1;
  }
  const renumber = new Int32Array(graph.nodes.length);
  const nodes: IrNode[] = [];
  const weightsRead = new Set<unknown>();
  for (const node of graph.nodes) {
    if (!live[node.id]) continue;
    renumber[node.id] = nodes.length;
    nodes.push(renumbered(node, nodes.length, (i) => renumber[i]!));
    if (node.op === 'weight') weightsRead.add(node.attrs.name);
  }
  return {
    nodes,
    inputs: graph.inputs.map((i) => ({ ...i, node: renumber[i.node]! })),
    outputs: graph.outputs.map((o) => ({ ...o, node: renumber[o.node]! })),
    weights: graph.weights.filter((w) => weightsRead.has(w.name)),
  };
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
