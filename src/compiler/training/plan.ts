import {
  BackwardError,
  requireLoweredProgram,
} from '../../runtime/cpu/backward/differentiable-ops.js';
import { ResourceError } from '../../runtime/errors.js';
import { formatBytes } from '../../runtime/memory.js';
import type { Program, Target, WeightPart, WeightUpload } from '../../runtime/program.js';
import { sizeOf } from '../codegen/backward/common.js';
import { crossEntropyGradientKernel, crossEntropyLossKernel } from '../codegen/backward/loss.js';
import { partElements } from '../codegen/backward/refresh.js';
import type { BackwardRead } from '../codegen/backward/types.js';

import { MAX_BINDING_BYTES, planGpu } from '../codegen/plan.js';
import type { IrGraph } from '../ir/types.js';
import { dropoutSites } from '../../runtime/training/dropout/sites.js';
import type { SiteDropout } from '../codegen/backward/dropout.js';
import { dropoutDispatch, trainingForward } from './dropout-dispatches.js';
import { GradientMemory } from './gradient-memory.js';
import { reverseWalk } from './reverse-walk.js';
import { updateDispatches } from './update.js';
import { nodesNeedingGradient } from './gradient-nodes.js';
import { KernelList } from './kernel-list.js';
import type { TrainedTensor, TrainingBinding, TrainingDispatch, TrainingPlan } from './types.js';

export interface TrainingPlanOptions {
  /** The names of the trained weights, each a weight of the program. */
  readonly trained: readonly string[];
  /** The output the loss is taken of. */
  readonly output: string;
  readonly target?: Target;
  readonly maxBindingBytes?: number;
  /** The dropout probability of a training step at every site (docs/training.md); absent or 0: none. */
  readonly dropout?: number;
}

const KEPT_PREFIX = 'kept:';

/**
 * Plans one training step of a program compiled with `{ fuse: false }` (docs/training-webgpu.md):
 * the backward pass over the nodes a trained weight reaches (as the CPU reference's), the
 * forward values its kernels read kept in buffers of their own (everything else reused by
 * liveness as in the forward plan), and what the loss, AdamW and the weight refresh bind.
 */
export function planTraining(program: Program, options: TrainingPlanOptions): TrainingPlan {
  requireLoweredProgram(program);
  const trainedSet = new Set(options.trained);
  const weightSpecs = new Map(program.weights.map((w) => [w.name, w]));
  for (const name of trainedSet) {
    if (!weightSpecs.has(name))
      throw new BackwardError(`no weight '${name}' in this program to train`);
  }
  const output = program.outputs.find((o) => o.name === options.output);
  if (!output) {
    const names = program.outputs.map((o) => `'${o.name}'`).join(', ');
    throw new BackwardError(`no output '${options.output}'; the outputs are ${names}`);
  }
  const outputShape = program.nodes[output.node]!.shape;
  const rows = outputShape.length === 2 ? 'sequence' : 'token';
  if (
    outputShape[0] !== 'B' ||
    (rows === 'token' && (outputShape[1] !== 'T' || outputShape.length !== 3))
  ) {
    throw new BackwardError(
      `output '${output.name}' has shape [${outputShape.join(', ')}]; the loss takes [B, C] or [B, T, C] logits`,
    );
  }
  const classes = outputShape[outputShape.length - 1] as number;
  const nodes = program.nodes;
  const needs = nodesNeedingGradient(nodes, trainedSet);
  const weightName = (id: number) => {
    const node = nodes[id]!;
    return node.op === 'weight' ? node.attrs.name : undefined;
  };

  const maxBindingBytes = options.maxBindingBytes ?? MAX_BINDING_BYTES;
  const probability = options.dropout ?? 0;
  const sites = probability > 0 ? dropoutSites(program) : [];
  const siteOf = (kind: 'output' | 'attention', id: number): SiteDropout | undefined => {
    const site = sites.find((s) => s.kind === kind && s.node === id);
    return site ? { site: site.index, probability } : undefined;
  };
  const steps = reverseWalk(program, output.node, needs, weightName, maxBindingBytes, (id) =>
    siteOf('attention', id),
  );
  const kept = new Set<number>();
  for (const step of steps)
    for (const emission of step.emissions)
      for (const read of emission.reads)
        if (read.kind === 'value' && nodes[read.node]!.op !== 'input') kept.add(read.node);

  const graph: IrGraph = {
    nodes,
    inputs: program.inputs.map((i) => ({
      name: i.name,
      node: i.node,
      ...(i.optional ? { optional: true } : {}),
    })),
    outputs: [
      ...program.outputs.map((o) => ({ name: o.name, node: o.node })),
      ...[...kept].sort((a, b) => a - b).map((id) => ({ name: `${KEPT_PREFIX}${id}`, node: id })),
    ],
    weights: program.weights,
  };
  const gpu = planGpu(
    graph,
    options.target ?? program.gpu?.target ?? 'software',
    false,
    maxBindingBytes,
  );
  if (gpu.loadDispatches)
    throw new BackwardError(
      'a program with load-time weights cannot be trained: compile with { fuse: false }',
    );
  const activationOf = new Map<number, number>();
  for (const input of program.inputs)
    activationOf.set(input.node, gpu.inputs.find((i) => i.name === input.name)!.buffer);
  for (const o of gpu.outputs) {
    if (o.name.startsWith(KEPT_PREFIX))
      activationOf.set(Number(o.name.slice(KEPT_PREFIX.length)), o.buffer);
  }
  const outputBuffer = gpu.outputs.find((o) => o.name === output.name)!.buffer;

  const kernels = new KernelList(gpu.kernels);
  const uploads: WeightUpload[] = [...gpu.uploads];
  const uploadKeys = new Map(uploads.map((u, i) => [JSON.stringify(u.parts), i]));
  const uploadFor = (parts: WeightPart[]): number => {
    const key = JSON.stringify(parts);
    const known = uploadKeys.get(key);
    if (known !== undefined) return known;
    const bytes =
      4 * parts.reduce((n, p) => n + partElements(weightSpecs.get(p.weight)!.shape, p), 0);
    if (bytes > maxBindingBytes) {
      throw new ResourceError(
        `the backward pass reads ${parts.map((p) => `'${p.weight}'`).join(', ')} whole (${formatBytes(bytes)}), past the ${formatBytes(maxBindingBytes)} one storage binding holds`,
      );
    }
    uploads.push({ parts });
    uploadKeys.set(key, uploads.length - 1);
    return uploads.length - 1;
  };

  const trained: TrainedTensor[] = [...trainedSet].map((name) => {
    const shape = weightSpecs.get(name)!.shape;
    return { name, shape, elements: shape.reduce((n, d) => n * d, 1) };
  });
  const tensorOf = new Map(trained.map((t, i) => [t.name, i]));

  const memory = new GradientMemory();
  const gradientOf = new Map<number, number>();
  const gradientFor = (id: number): number => {
    let buffer = gradientOf.get(id);
    if (buffer === undefined) {
      const { perToken, perSequence } = sizeOf(nodes[id]!.shape);
      buffer = memory.allocate({ perToken, perSequence });
      gradientOf.set(id, buffer);
    }
    return buffer;
  };

  const loss: TrainingDispatch[] = [];
  const lossArgs: TrainingBinding[] = [
    { space: 'activation', buffer: outputBuffer },
    { space: 'labels' },
  ];
  if (needs[output.node]) {
    loss.push({
      kernel: kernels.indexOf(crossEntropyGradientKernel(classes, rows)),
      label: `%${output.node} cross-entropy gradient`,
      bindings: [...lossArgs, { space: 'gradient', buffer: gradientFor(output.node) }],
      groups: { perToken: 0, perSequence: 0, fixed: 1, divide: 1 },
    });
  }
  loss.push({
    kernel: kernels.indexOf(crossEntropyLossKernel(classes, rows)),
    label: `%${output.node} cross-entropy`,
    bindings: [...lossArgs, { space: 'loss' }],
    groups: { perToken: 0, perSequence: 0, fixed: 1, divide: 1 },
  });

  const backward: TrainingDispatch[] = [];
  for (const step of steps) {
    const node = nodes[step.node]!;
    const dropped = siteOf('output', node.id);
    if (dropped) {
      // The gradient of the dropped output, as the consumers sent it, times the same mask.
      const gradient: TrainingBinding = { space: 'gradient', buffer: gradientOf.get(node.id)! };
      backward.push(dropoutDispatch(node, dropped, gradient, kernels));
    }
    let scratch: number | undefined;
    const resolve = (read: BackwardRead): TrainingBinding => {
      switch (read.kind) {
        case 'gradient':
          return { space: 'gradient', buffer: gradientOf.get(node.id)! };
        case 'scratch':
          return { space: 'gradient', buffer: scratch! };
        case 'dropout':
          return { space: 'dropout' };
        case 'value': {
          const buffer = activationOf.get(read.node);
          if (buffer === undefined) throw new Error(`node %${read.node} was not kept`);
          return { space: 'activation', buffer };
        }
        case 'weight': {
          const name = weightName(read.node)!;
          const tensor = tensorOf.get(name);
          if (tensor !== undefined && !read.transpose)
            return { space: 'trained', tensor, part: 'param' };
          return {
            space: 'upload',
            upload: uploadFor([
              {
                weight: name,
                transpose: read.transpose,
                ...(read.columns ? { columns: read.columns } : {}),
              },
            ]),
          };
        }
      }
    };
    for (const emission of step.emissions) {
      const reads = emission.reads.map(resolve);
      let written: TrainingBinding;
      const write = emission.write;
      if (write.kind === 'scratch') {
        scratch ??= memory.allocate(write);
        written = { space: 'gradient', buffer: scratch };
      } else {
        const input = node.inputs[write.index]!;
        const name = weightName(input);
        written =
          name === undefined
            ? { space: 'gradient', buffer: gradientFor(input) }
            : { space: 'trained', tensor: tensorOf.get(name)!, part: 'grad' };
      }
      backward.push({
        kernel: kernels.indexOf({
          name: emission.name,
          wgsl: emission.wgsl,
          storageBindings: reads.length + 1,
        }),
        label: `%${node.id} ${node.op} ${emission.name}`,
        bindings: [...reads, written],
        groups: emission.groups,
      });
    }
    if (scratch !== undefined) memory.release(scratch);
    memory.release(gradientOf.get(node.id)!);
  }

  const update = updateDispatches(trained, uploads, weightSpecs, kernels);
  const forward = gpu.dispatches.map((d): TrainingDispatch => ({
    kernel: d.kernel,
    label: d.label,
    bindings: d.args.map((a): TrainingBinding =>
      a.kind === 'buffer'
        ? { space: 'activation', buffer: a.buffer }
        : { space: 'upload', upload: a.upload },
    ),
    groups: d.groups,
  }));

  return {
    target: gpu.target,
    kernels: kernels.kernels,
    uploads,
    uploadElements: uploads.map((u) =>
      u.parts.reduce((n, p) => n + partElements(weightSpecs.get(p.weight)!.shape, p), 0),
    ),
    activations: gpu.buffers,
    gradients: memory.buffers,
    trained,
    inputs: gpu.inputs,
    output: { name: output.name, buffer: outputBuffer, classes, rows },
    forward,
    trainForward: trainingForward(nodes, gpu.dispatches, forward, siteOf, kernels),
    dropout: probability,
    loss,
    backward,
    update,
    kept: [...kept].sort((a, b) => a - b),
    gradientNodes: steps.map((s) => s.node),
  };
}
