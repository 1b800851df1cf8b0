import { opDef } from '../../runtime/ops/registry.js';
import type { ProgramNode } from '../../runtime/program.js';

const size = (d: number | string, batch: number, seq: number) =>
  d === 'B' ? batch : d === 'T' ? seq : Number(d);

/**
 * Floating-point operations of one forward pass at B·T tokens (a head's [B, n] values have B
 * rows), from each op's FLOP formula in the
 * registry (multiply-adds count two; ops without a formula are a rounding error beside the
 * matmuls).
 */
export function forwardFlops(
  nodes: readonly ProgramNode[],
  batch: number,
  seq: number,
  /** The whole graph, when `nodes` is a part of it (input ids refer to it). */
  graph: readonly ProgramNode[] = nodes,
): number {
  let flops = 0;
  const resolve = (shape: readonly (number | string)[]) => shape.map((d) => size(d, batch, seq));
  for (const node of nodes) {
    const formula = opDef(node.op).flops;
    if (!formula) continue;
    const out = resolve(node.shape);
    flops += formula({
      attrs: node.attrs,
      batch,
      seq,
      rows: out.slice(0, -1).reduce((n, d) => n * d, 1),
      width: out[out.length - 1]!,
      inputs: node.inputs.map((id) => resolve(graph[id]!.shape)),
    });
  }
  return flops;
}
