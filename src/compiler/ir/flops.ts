import type { ProgramNode } from '../../runtime/program.js';

const size = (d: number | string, batch: number, seq: number) =>
  d === 'B' ? batch : d === 'T' ? seq : (d as number);

/**
 * Floating-point operations of one forward pass at B·T tokens: multiply-adds count two. Only the
 * ops that do real work are counted (matmuls, attention, bottlenecks, fusion scores and mixes);
 * elementwise ops and LayerNorms are a rounding error beside them.
 */
export function forwardFlops(
  nodes: readonly ProgramNode[],
  batch: number,
  seq: number,
  /** The whole graph, when `nodes` is a part of it (input ids refer to it). */
  graph: readonly ProgramNode[] = nodes,
): number {
  let flops = 0;
  const shape = (id: number) => graph[id]!.shape.map((d) => size(d, batch, seq));
  const rows = batch * seq;
  for (const node of nodes) {
    const out = node.shape.map((d) => size(d, batch, seq));
    const width = out[out.length - 1]!;
    switch (node.op) {
      case 'matmul':
      case 'linear': {
        const w = shape(node.inputs[1]!);
        const k = node.attrs.transposeWeight ? w[0]! : w[1]!;
        flops += 2 * rows * k * width;
        break;
      }
      case 'attention': {
        const pairs = node.attrs.causal ? (seq * (seq + 1)) / 2 : seq * seq;
        flops += 4 * batch * pairs * width;
        break;
      }
      case 'bottleneck': {
        for (let i = 2; i < node.inputs.length; i += 4) {
          const [r, d] = shape(node.inputs[i]!) as [number, number];
          flops += 4 * rows * r * d;
        }
        break;
      }
      case 'fusion_mix':
        flops += 4 * rows * (node.inputs.length - 1) * width;
        break;
      case 'row_dot':
        flops += 2 * rows * shape(node.inputs[0]!).at(-1)!;
        break;
      case 'weighted_sum':
        flops += 2 * rows * (node.inputs.length - 1) * width;
        break;
    }
  }
  return flops;
}
