import type { ProgramNode } from '../program.js';

/**
 * The f32 elements one CPU kernel allocates while computing `node`, its result included: the
 * fused kernels are compositions of the primitive ones (fused-kernels.ts), and each step of a
 * composition allocates a tensor of its own.
 */
export function kernelAllocations(node: ProgramNode, elements: readonly number[]): number {
  const out = elements[node.id]!;
  const count = (flag: unknown) => (flag ? 1 : 0);
  switch (node.op) {
    case 'linear': {
      const { attrs } = node;
      const steps =
        1 +
        count(attrs.bias) +
        count(attrs.activation !== 'none' && attrs.activation !== 'identity') +
        count(attrs.scale !== 1) +
        count(attrs.residual);
      const transposed = attrs.transposeWeight ? elements[node.inputs[1]!]! : 0;
      return steps * out + transposed;
    }
    case 'bottleneck': {
      const { scales, activations } = node.attrs;
      let total = 0;
      scales.forEach((scale, i) => {
        // down: matmul, bias, activation; up: matmul, bias, scale; then the residual add.
        const down = elements[node.inputs[2 + 4 * i + 1]!]! * (out / lastAxisOf(node));
        const activated = activations[i] !== 'none' && activations[i] !== 'identity';
        total += down * (2 + count(activated)) + out * (2 + count(scale !== 1) + 1);
      });
      return total;
    }
    case 'fusion_mix': {
      const adapters = node.inputs.length - 1;
      const rows = out / lastAxisOf(node);
      // one score per adapter, then the logits concatenated, scaled and soft-maxed.
      return rows * adapters * 4 + out;
    }
    case 'add_layer_norm':
      return 2 * out;
    default:
      return out;
  }
}

function lastAxisOf(node: ProgramNode): number {
  const last = node.shape[node.shape.length - 1];
  return typeof last === 'number' && last > 0 ? last : 1;
}
