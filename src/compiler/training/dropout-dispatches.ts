import { BackwardError } from '../../runtime/cpu/backward/differentiable-ops.js';
import type { DispatchSpec } from '../../runtime/program.js';
import { attentionDropoutKernel } from '../codegen/backward/attention-forward.js';
import { dropoutKernel, type SiteDropout } from '../codegen/backward/dropout.js';
import type { IrNode } from '../ir/types.js';
import type { KernelList } from './kernel-list.js';
import type { TrainingBinding, TrainingDispatch } from './types.js';

const DROPOUT: TrainingBinding = { space: 'dropout' };

/** The site's values of `node` in `target` (its output, or its output's gradient) times the mask, in place. */
export function dropoutDispatch(
  node: IrNode,
  dropout: SiteDropout,
  target: TrainingBinding,
  kernels: KernelList,
): TrainingDispatch {
  const kernel = dropoutKernel(node.shape, dropout);
  return {
    kernel: kernels.indexOf({ name: kernel.name, wgsl: kernel.wgsl, storageBindings: 2 }),
    label: `%${node.id} ${node.op} dropout`,
    bindings: [DROPOUT, target],
    groups: kernel.groups,
  };
}

/**
 * A training step's forward pass: the evaluation's dispatches, an attention whose probabilities
 * are dropped run by its dropout kernel, and after the last dispatch of an output site's node its
 * output dropped in place, before any consumer reads it (the value kept for the backward pass is
 * the dropped one, as the CPU reference keeps it).
 */
export function trainingForward(
  nodes: readonly IrNode[],
  specs: readonly DispatchSpec[],
  forward: readonly TrainingDispatch[],
  siteOf: (kind: 'output' | 'attention', id: number) => SiteDropout | undefined,
  kernels: KernelList,
): TrainingDispatch[] {
  const steps: TrainingDispatch[] = [];
  specs.forEach((spec, i) => {
    const dispatch = forward[i]!;
    const node = nodes[spec.node]!;
    const lastOfNode = specs[i + 1]?.node !== spec.node;
    const attention = siteOf('attention', node.id);
    if (attention && node.op === 'attention') {
      if (spec.part !== 0 || !lastOfNode)
        throw new BackwardError(`attention %${node.id} runs in parts: its dropout is not planned`);
      const kernel = attentionDropoutKernel(node, attention);
      const reads = dispatch.bindings.slice(0, -1);
      steps.push({
        ...dispatch,
        kernel: kernels.indexOf({ ...kernel, storageBindings: reads.length + 2 }),
        label: `${dispatch.label} dropout`,
        bindings: [...reads, DROPOUT, dispatch.bindings.at(-1)!],
      });
    } else steps.push(dispatch);
    const output = siteOf('output', node.id);
    if (output && lastOfNode)
      steps.push(dropoutDispatch(node, output, dispatch.bindings.at(-1)!, kernels));
  });
  return steps;
}
