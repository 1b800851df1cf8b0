import type {
  DispatchArg,
  DispatchSpec,
  GpuPlan,
  KernelSpec,
  Target,
  WeightUpload,
} from '../../runtime/program.js';
import type { IrGraph, IrNode } from '../ir/types.js';
import type { KernelContext } from './kernel.js';
import { planMemory, type BufferNeed } from './memory.js';
import { KERNEL_TEMPLATES } from './templates.js';

/** WebGPU's portable limit on one storage binding (DESIGN.md §6). */
export const MAX_BINDING_BYTES = 128 * 1024 * 1024;

function need(node: IrNode): BufferNeed {
  const [first, second] = node.shape;
  const rest = node.shape.slice(2).reduce<number>((n, d) => n * (d as number), 1);
  if (first === 'B' && second === 'T') return { perToken: rest, perSequence: 0 };
  if (first === 'B' && node.shape.length === 1) return { perToken: 0, perSequence: 1 };
  throw new Error(
    `node %${node.id} has shape [${node.shape.join(',')}]; values must be [B,T,...] or [B]`,
  );
}

function uploadBytes(upload: WeightUpload, graph: IrGraph): number {
  return upload.parts.reduce((total, part) => {
    const spec = graph.weights.find((w) => w.name === part.weight)!;
    return total + 4 * spec.shape.reduce((n, d) => n * d, 1);
  }, 0);
}

/**
 * Turns a graph into WebGPU work: one dispatch per computing node, in order; kernels shared by
 * every node with the same WGSL (so one pipeline serves all layers); weights grouped into upload
 * buffers as the kernels want them; activation buffers reused by liveness.
 */
export function planGpu(graph: IrGraph, target: Target, fused: boolean): GpuPlan {
  const weightOf = new Map<number, string>();
  for (const node of graph.nodes)
    if (node.op === 'weight') weightOf.set(node.id, node.attrs.name as string);
  const context: KernelContext = {
    graph,
    target,
    node: (id) => graph.nodes[id]!,
    weightName: (id) => weightOf.get(id),
  };

  const kernels: KernelSpec[] = [];
  const kernelIndex = new Map<string, number>();
  const uploads: WeightUpload[] = [];
  const uploadIndex = new Map<string, number>();
  const steps: {
    node: IrNode;
    kernel: number;
    args: ({ value: number } | { upload: number })[];
    groups: DispatchSpec['groups'];
  }[] = [];

  for (const node of graph.nodes) {
    if (node.op === 'input' || node.op === 'weight') continue;
    const template = KERNEL_TEMPLATES[node.op];
    if (!template) throw new Error(`no WGSL template for op '${node.op}'`);
    const emission = template(node, context);
    let kernel = kernelIndex.get(emission.wgsl);
    if (kernel === undefined) {
      const sameName = kernels.filter(
        (k) => k.name === emission.name || k.name.startsWith(`${emission.name}#`),
      ).length;
      kernel = kernels.length;
      kernels.push({
        name: sameName ? `${emission.name}#${sameName}` : emission.name,
        wgsl: emission.wgsl,
        storageBindings: emission.args.length + 1,
      });
      kernelIndex.set(emission.wgsl, kernel);
    }
    const args = emission.args.map((arg) => {
      if (arg.kind === 'value') return { value: arg.node };
      const key = JSON.stringify(arg.parts);
      let upload = uploadIndex.get(key);
      if (upload === undefined) {
        upload = uploads.length;
        uploads.push({ parts: arg.parts });
        uploadIndex.set(key, upload);
        const bytes = uploadBytes(uploads[upload]!, graph);
        if (bytes > MAX_BINDING_BYTES) {
          throw new Error(
            `weights ${arg.parts.map((p) => p.weight).join(', ')} take ${bytes} bytes, over the ${MAX_BINDING_BYTES}-byte limit of one WebGPU storage binding`,
          );
        }
      }
      return { upload };
    });
    steps.push({ node, kernel, args, groups: emission.groups });
  }

  const needs = new Map<number, BufferNeed>();
  for (const node of graph.nodes) if (node.op !== 'weight') needs.set(node.id, need(node));
  const pinned = new Set([...graph.inputs.map((i) => i.node), ...graph.outputs.map((o) => o.node)]);
  const memory = planMemory(
    steps.map((s) => ({
      value: s.node.id,
      reads: s.args.flatMap((a) => ('value' in a ? [a.value] : [])),
    })),
    needs,
    pinned,
  );
  const bufferOf = (id: number) => memory.assignment.get(id)!;
  const dispatches: DispatchSpec[] = steps.map((step) => ({
    kernel: step.kernel,
    label: `%${step.node.id} ${step.node.op}${step.node.scope ? ` (${step.node.scope})` : ''}`,
    args: [
      ...step.args.map((a): DispatchArg =>
        'value' in a
          ? { kind: 'buffer', buffer: bufferOf(a.value) }
          : { kind: 'weights', upload: a.upload },
      ),
      { kind: 'buffer', buffer: bufferOf(step.node.id) },
    ],
    groups: step.groups,
  }));
  return {
    target,
    fused,
    kernels,
    uploads,
    buffers: memory.buffers,
    inputs: graph.inputs.map((i) => ({ name: i.name, buffer: bufferOf(i.node) })),
    outputs: graph.outputs.map((o) => ({ name: o.name, buffer: bufferOf(o.node) })),
    dispatches,
  };
}
