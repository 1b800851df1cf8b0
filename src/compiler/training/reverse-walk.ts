import type { DifferentiableOp } from '../../runtime/cpu/backward/differentiable-ops.js';
import type { NodeOf } from '../../runtime/ops/node.js';
import type { Program } from '../../runtime/program.js';
import { emitBackward } from '../codegen/backward/table.js';
import type { SiteDropout } from '../codegen/backward/dropout.js';
import type { BackwardEmission } from '../codegen/backward/types.js';

/** One node's gradient kernels, as the reverse walk emits them. */
export interface BackwardStep {
  readonly node: number;
  readonly emissions: readonly BackwardEmission[];
}

/**
 * The nodes that get a gradient, from the output down (as backwardFrom walks them), each with
 * its gradient kernels; an input's gradient is added to where another consumer wrote first.
 */
export function reverseWalk(
  program: Program,
  outputNode: number,
  needs: readonly boolean[],
  weightName: (id: number) => string | undefined,
  maxBindingBytes: number,
  attentionDropout: (id: number) => SiteDropout | undefined = () => undefined,
): BackwardStep[] {
  const nodes = program.nodes;
  const has = new Set<string>();
  const key = (id: number) => weightName(id) ?? `%${id}`;
  if (needs[outputNode]) has.add(key(outputNode));
  const steps: BackwardStep[] = [];
  for (let id = outputNode; id >= 0; id--) {
    const node = nodes[id]!;
    if (node.op === 'weight' || node.op === 'input' || !has.has(key(id))) continue;
    const wanted = node.inputs.map((input) => needs[input]!);
    const accumulate = node.inputs.map((input, i) => {
      if (!wanted[i]) return false;
      const before = has.has(key(input));
      has.add(key(input));
      return before;
    });
    const dropout = attentionDropout(id);
    const context = {
      node: (n: number) => nodes[n]!,
      wanted,
      accumulate,
      maxBindingBytes,
      ...(dropout ? { attentionDropout: dropout } : {}),
    };
    steps.push({ node: id, emissions: emitBackward(node as NodeOf<DifferentiableOp>, context) });
  }
  return steps;
}
