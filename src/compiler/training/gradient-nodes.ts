import type { IrNode } from '../ir/types.js';

/**
 * Which nodes a trained weight reaches, forward from those weights: only these carry a gradient,
 * and only their inputs that are marked get one; i32 values never do. The same rule as the CPU
 * reference's nodesNeedingGradient (runtime/cpu/backward/graph-backward.ts), so both backward
 * passes compute the same set.
 */
export function nodesNeedingGradient(
  nodes: readonly IrNode[],
  trained: ReadonlySet<string>,
): boolean[] {
  const needs = new Array<boolean>(nodes.length).fill(false);
  for (const node of nodes) {
    if (node.dtype === 'i32') continue;
    if (node.op === 'weight') needs[node.id] = trained.has(node.attrs.name);
    else if (node.op !== 'input') needs[node.id] = node.inputs.some((id) => needs[id]);
  }
  return needs;
}
