import type { IrGraph, IrNode } from '../ir/types.js';
import { rewriteGraph, usersOf } from './rewrite.js';

/** Largest bottleneck a single kernel holds in workgroup memory, per row. */
export const MAX_FUSED_BOTTLENECK = 1024;
/** A row of y and the bottleneck must fit the 16 KiB of workgroup memory every device allows. */
const MAX_ROW_FLOATS = 4096;
/** Adapters per kernel: each adds 4 weight bindings (packed into one on the GPU). */
export const MAX_ADAPTERS_PER_KERNEL = 4;

interface Adapter {
  readonly down: IrNode;
  readonly up: IrNode;
}

/** An up-projection linear whose input is a down-projection linear: one adapter. */
function matchAdapter(graph: IrGraph, node: IrNode, users: number[][]): Adapter | undefined {
  if (
    node.op !== 'linear' ||
    !node.attrs.bias ||
    node.attrs.activation !== 'none' ||
    node.attrs.transposeWeight
  ) {
    return undefined;
  }
  const down = graph.nodes[node.inputs[0]!]!;
  if (down.op !== 'linear' || !down.attrs.bias || down.attrs.residual || down.attrs.transposeWeight)
    return undefined;
  if (down.attrs.scale !== 1 || users[down.id]!.length !== 1) return undefined;
  const [r, d] = graph.nodes[down.inputs[1]!]!.shape as [number, number];
  // A feed-forward sublayer expands (r > d); only a true bottleneck fits in workgroup memory.
  return r < d && r <= MAX_FUSED_BOTTLENECK && d + r <= MAX_ROW_FLOATS
    ? { down, up: node }
    : undefined;
}

interface Group {
  /** The node whose value the group's output replaces. */
  readonly last: number;
  readonly members: number[];
  readonly y: number;
  u: number | undefined;
  readonly activations: string[];
  readonly scales: number[];
  readonly reads: ('y' | 'u')[];
  readonly weights: number[];
  readonly residual: boolean;
}

/**
 * Bottleneck fusion: an adapter's down-projection, activation, up-projection, scale and residual
 * add (already `linear` nodes after epilogue fusion) become one `bottleneck` kernel that keeps the
 * r-wide bottleneck on chip. Adapters applied one after another at a site share one kernel.
 * This goes beyond TVM's one-matmul-per-kernel rule: the pattern is known, so it is safe.
 */
export function fuseBottlenecks(graph: IrGraph): IrGraph {
  const users = usersOf(graph);
  const groupOf = new Map<number, Group>();
  for (const node of graph.nodes) {
    const adapter = matchAdapter(graph, node, users);
    if (!adapter) continue;
    const { down, up } = adapter;
    const z = down.inputs[0]!;
    const residual = up.attrs.residual ? up.inputs[3]! : undefined;
    const reads: 'y' | 'u' = residual === undefined || residual === z ? 'y' : 'u';
    const weights = [down.inputs[1]!, down.inputs[2]!, up.inputs[1]!, up.inputs[2]!];
    const previous = residual !== undefined ? groupOf.get(residual) : undefined;
    const canExtend =
      previous !== undefined &&
      previous.residual &&
      users[residual!]!.every((user) => user === down.id || user === up.id) &&
      previous.activations.length < MAX_ADAPTERS_PER_KERNEL &&
      (reads === 'y' || previous.u === undefined || previous.u === z);
    if (canExtend) {
      previous.members.push(down.id, up.id);
      previous.activations.push(down.attrs.activation as string);
      previous.scales.push(up.attrs.scale as number);
      previous.reads.push(reads);
      previous.weights.push(...weights);
      if (reads === 'u') previous.u = z;
      const extended = { ...previous, last: up.id };
      for (const id of extended.members) groupOf.set(id, extended);
      continue;
    }
    const group: Group = {
      last: up.id,
      members: [down.id, up.id],
      y: residual ?? z,
      u: reads === 'u' ? z : undefined,
      activations: [down.attrs.activation as string],
      scales: [up.attrs.scale as number],
      reads: [reads],
      weights,
      residual: residual !== undefined,
    };
    groupOf.set(down.id, group);
    groupOf.set(up.id, group);
  }
  return rewriteGraph(graph, (node, rw) => {
    const group = groupOf.get(node.id);
    if (!group) return undefined;
    if (node.id !== group.last) return 'drop';
    const y = rw.map(group.y);
    const inputs = [
      y,
      group.u === undefined ? y : rw.map(group.u),
      ...group.weights.map((w) => rw.map(w)),
    ];
    return rw.emit(
      'bottleneck',
      inputs,
      {
        activations: group.activations,
        scales: group.scales,
        reads: group.reads,
        residual: group.residual,
      },
      graph.nodes[group.members[0]!]!.scope,
    );
  });
}
