import { formatProvenance, type NodeOf } from '../../runtime/ops/node.js';
import { inGroup, type ComputeOp, type OpsIn } from '../../runtime/ops/registry.js';
import type {
  DispatchArg,
  DispatchSpec,
  GpuPlan,
  SizeExpr,
  Target,
  WeightUpload,
} from '../../runtime/program.js';
import { ResourceError } from '../../runtime/errors.js';
import { formatBytes } from '../../runtime/memory.js';
import { MAX_STORAGE_BINDINGS } from '../ir/limits.js';
import type { IrGraph, IrNode, WeightSpec } from '../ir/types.js';
import type { KernelArg, KernelContext } from './kernel.js';
import { kernelTable } from './kernel-table.js';
import { planMemory, type BufferNeed } from './memory.js';
import { emitKernel } from './templates.js';

/** WebGPU's portable limit on one storage binding (docs/design.md §5). */
export const MAX_BINDING_BYTES = 128 * 1024 * 1024;

function need(node: IrNode): BufferNeed {
  const [first, second] = node.shape;
  const rest = node.shape.slice(2).reduce<number>((n, d) => n * (d as number), 1);
  if (first === 'B' && second === 'T') return { perToken: rest, perSequence: 0 };
  const perSequence = node.shape.slice(1).reduce<number>((n, d) => n * (d as number), 1);
  if (first === 'B' && node.shape.slice(1).every((d) => typeof d === 'number'))
    return { perToken: 0, perSequence };
  throw new Error(
    `node %${node.id} has shape [${node.shape.join(',')}]; values must be [B,T,...] or [B,...]`,
  );
}

function uploadBytes(upload: WeightUpload, weights: ReadonlyMap<string, WeightSpec>): number {
  if (upload.elements !== undefined) return 4 * upload.elements;
  return upload.parts.reduce((total, part) => {
    const spec = weights.get(part.weight)!;
    const elements = spec.shape.reduce((n, d) => n * d, 1);
    if (!part.columns) return total + 4 * elements;
    const width =
      spec.shape.length === 1 ? spec.shape[0]! : part.transpose ? spec.shape[0]! : spec.shape[1]!;
    return total + (4 * elements * (part.columns[1] - part.columns[0])) / width;
  }, 0);
}

/**
 * Turns a graph into WebGPU work: one dispatch per computing node, in order; kernels shared by
 * every node with the same WGSL (so one pipeline serves all layers); weights grouped into upload
 * buffers as the kernels want them; activation buffers reused by liveness. Load-time nodes
 * become load dispatches, run once at load into computed weight buffers (`loadDispatches`).
 */
export function planGpu(
  graph: IrGraph,
  target: Target,
  fused: boolean,
  maxBindingBytes = MAX_BINDING_BYTES,
): GpuPlan {
  const weightSpecs = new Map(graph.weights.map((w) => [w.name, w]));
  const weightOf = new Map<number, string>();
  for (const node of graph.nodes) if (node.op === 'weight') weightOf.set(node.id, node.attrs.name);
  const base: KernelContext = {
    graph,
    target,
    node: (id) => graph.nodes[id]!,
    weightName: (id) => weightOf.get(id),
    isLoadTime: (id) => isLoadTime(graph.nodes[id]!),
  };

  const kernels = kernelTable();
  const uploads: WeightUpload[] = [];
  const uploadIndex = new Map<string, number>();
  type Arg = { value: number } | { upload: number };
  const steps: { node: IrNode; dispatches: { kernel: number; args: Arg[]; groups: SizeExpr }[] }[] =
    [];

  const loadDispatches: DispatchSpec[] = [];
  const computedUploads = new Map<string, number>();
  const loadParts = new Map<number, number>();

  /** The upload a kernel arg binds: weights as stored, or computed at load by a load dispatch. */
  const uploadOf = (arg: Exclude<KernelArg, { kind: 'value' }>): number =>
    arg.kind === 'weights' ? uploadFor(arg.parts) : computedUpload(arg.node, arg.transpose);

  const computedUpload = (id: number, transpose: boolean): number => {
    const key = `${id}:${transpose}`;
    const known = computedUploads.get(key);
    if (known !== undefined) return known;
    const node = graph.nodes[id]!;
    if (!isLoadTime(node)) throw new Error(`node %${id} is not computed at load`);
    const emission = emitKernel(node, { ...base, transposeOutput: transpose });
    const args = emission.args.map((arg): DispatchArg => {
      if (arg.kind === 'value')
        throw new Error(
          `load-time node %${id} reads node %${arg.node}, which is computed per pass`,
        );
      return { kind: 'weights', upload: uploadOf(arg) };
    });
    const elements = node.shape.reduce<number>((n, d) => n * (d as number), 1);
    if (4 * elements > maxBindingBytes) {
      throw new ResourceError(
        `node %${id}, computed at load, takes ${formatBytes(4 * elements)}, past the ${formatBytes(maxBindingBytes)} one storage binding holds for this compile`,
      );
    }
    const upload = uploads.length;
    uploads.push({ parts: [], elements });
    computedUploads.set(key, upload);
    loadDispatches.push({
      kernel: kernels.indexOf(emission, `node %${id}`),
      node: id,
      part: loadParts.get(id) ?? 0,
      label: dispatchLabel(node, undefined),
      args: [...args, { kind: 'weights', upload }],
      groups: emission.groups,
    });
    loadParts.set(id, (loadParts.get(id) ?? 0) + 1);
    return upload;
  };

  const uploadFor = (parts: WeightUpload['parts']): number => {
    const key = JSON.stringify(parts);
    let upload = uploadIndex.get(key);
    if (upload === undefined) {
      upload = uploads.length;
      uploads.push({ parts });
      uploadIndex.set(key, upload);
      const bytes = uploadBytes(uploads[upload]!, weightSpecs);
      if (bytes > maxBindingBytes) {
        // Matmul weights are split by columns and word tables by rows before this.
        const names = parts.map((p) => p.weight);
        throw new ResourceError(
          `${names.join(', ')} ${names.length > 1 ? 'take' : 'takes'} ${formatBytes(bytes)}, past the ${formatBytes(maxBindingBytes)} one storage binding holds for this compile; run it on a device whose WebGPU grants a larger maxStorageBufferBindingSize (adapt run compiles for the device's), or on the CPU reference (--backend cpu)`,
        );
      }
    }
    return upload;
  };

  for (const node of graph.nodes) {
    if (node.op === 'input' || node.op === 'weight' || isLoadTime(node)) continue;
    const windows = inputWindows(node).flatMap((inputs) =>
      columnWindows(node, graph, maxBindingBytes).flatMap((columns) =>
        tableWindows(node, graph, maxBindingBytes).map((table) => ({
          ...base,
          ...(columns ? { columns } : {}),
          ...(inputs ? { inputs } : {}),
          ...table,
        })),
      ),
    );
    const dispatches = windows.map((context) => {
      const emission = emitKernel(node, context);
      if (emission.args.length + 1 > MAX_STORAGE_BINDINGS) {
        throw new Error(
          `kernel '${emission.name}' of node %${node.id} binds ${emission.args.length + 1} storage buffers, over ${MAX_STORAGE_BINDINGS}`,
        );
      }
      const args = emission.args.map((arg): Arg =>
        arg.kind === 'value' ? { value: arg.node } : { upload: uploadOf(arg) },
      );
      return {
        kernel: kernels.indexOf(emission, `node %${node.id}`),
        args,
        groups: emission.groups,
      };
    });
    steps.push({ node, dispatches });
  }

  const needs = new Map<number, BufferNeed>();
  for (const node of graph.nodes)
    if (node.op !== 'weight' && !isLoadTime(node)) needs.set(node.id, need(node));
  const pinned = new Set([...graph.inputs.map((i) => i.node), ...graph.outputs.map((o) => o.node)]);
  const memory = planMemory(
    steps.map((step) => ({
      value: step.node.id,
      reads: step.dispatches.flatMap((d) => d.args.flatMap((a) => ('value' in a ? [a.value] : []))),
    })),
    needs,
    pinned,
  );
  const bufferOf = (id: number) => memory.assignment.get(id)!;
  const dispatches: DispatchSpec[] = steps.flatMap((step) =>
    step.dispatches.map((dispatch, part) => ({
      kernel: dispatch.kernel,
      node: step.node.id,
      part,
      label: dispatchLabel(step.node, step.dispatches.length > 1 ? part : undefined),
      args: [
        ...dispatch.args.map((a): DispatchArg =>
          'value' in a
            ? { kind: 'buffer', buffer: bufferOf(a.value) }
            : { kind: 'weights', upload: a.upload },
        ),
        { kind: 'buffer', buffer: bufferOf(step.node.id) },
      ],
      groups: dispatch.groups,
    })),
  );
  return {
    target,
    fused,
    kernels: kernels.kernels,
    uploads,
    buffers: memory.buffers,
    inputs: graph.inputs.map((i) => ({ name: i.name, buffer: bufferOf(i.node) })),
    outputs: graph.outputs.map((o) => ({ name: o.name, buffer: bufferOf(o.node) })),
    dispatches,
    ...(loadDispatches.length > 0 ? { loadDispatches } : {}),
  };
}

/** Computed once at load from weights, so no forward pass computes it or needs its buffer. */
function isLoadTime(node: IrNode): node is Extract<IrNode, { readonly op: OpsIn<'load'> }> {
  return node.op !== 'input' && node.op !== 'weight' && inGroup(node.op, 'load');
}

/** For people reading a plan: `%12 linear[1] (L0/ffn/base)`, the part only for a split node. */
function dispatchLabel(node: IrNode, part: number | undefined): string {
  const index = part === undefined ? '' : `[${part}]`;
  const scope = node.scope ? ` (${formatProvenance(node.scope)})` : '';
  return `%${node.id} ${node.op}${index}${scope}`;
}

/** Inputs bound by every part of an op that lists its inputs: an alpha, an index. */
const FIXED_INPUTS: Partial<Readonly<Record<ComputeOp, number>>> = {
  concat: 0,
  weighted_sum: 1,
  select: 1,
};

/**
 * An op with more list inputs than one kernel may bind (a fusion of many adapters, a batch of
 * many branches) runs as several dispatches, each binding the fixed inputs and a window of the
 * rest, with the output the last binding. [undefined] means no split.
 */
function inputWindows(node: NodeOf<ComputeOp>): ({ start: number; count: number } | undefined)[] {
  const fixed = FIXED_INPUTS[node.op];
  if (fixed === undefined || node.inputs.length + 1 <= MAX_STORAGE_BINDINGS) return [undefined];
  const listed = node.inputs.length - fixed;
  const perPart = MAX_STORAGE_BINDINGS - 1 - fixed;
  const windows: { start: number; count: number }[] = [];
  for (let start = 0; start < listed; start += perPart)
    windows.push({ start, count: Math.min(perPart, listed - start) });
  return windows;
}

/**
 * A matmul whose weight is too big for one storage binding is split over its output columns:
 * each part binds a slice of the weight and writes its columns of the one output. Windows are
 * multiples of 4 columns, so the vec4 kernels still apply. [undefined] means no split.
 */
/**
 * The parts of a gather or embeddings whose table [V, d] one binding cannot hold: one per window
 * of rows that fits, then for embeddings the part that adds positions and types and normalizes.
 */
function tableWindows(
  node: IrNode,
  graph: IrGraph,
  maxBindingBytes: number,
): Pick<KernelContext, 'tableRows' | 'wordsWritten'>[] {
  if (node.op !== 'gather' && node.op !== 'embeddings') return [{}];
  const table = graph.nodes[node.inputs[node.op === 'gather' ? 0 : 1]!]!;
  const [rows, d] = table.shape as [number, number];
  if (4 * rows * d <= maxBindingBytes) return [{}];
  const perPart = Math.floor(maxBindingBytes / 4 / d);
  if (perPart < 1) throw new Error(`a single row of node %${table.id} exceeds one storage binding`);
  const parts: Pick<KernelContext, 'tableRows' | 'wordsWritten'>[] = [];
  for (let start = 0; start < rows; start += perPart)
    parts.push({ tableRows: { start, count: Math.min(perPart, rows - start) } });
  return node.op === 'embeddings' ? [...parts, { wordsWritten: true }] : parts;
}

function columnWindows(
  node: IrNode,
  graph: IrGraph,
  maxBindingBytes: number,
): ({ start: number; count: number } | undefined)[] {
  if (node.op !== 'matmul' && node.op !== 'linear') return [undefined];
  const weight = graph.nodes[node.inputs[1]!]!;
  const bytes = 4 * weight.shape.reduce<number>((n, d) => n * (d as number), 1);
  if (bytes <= maxBindingBytes) return [undefined];
  const n = node.shape[node.shape.length - 1] as number;
  const k = bytes / 4 / n;
  const perPart = Math.floor(maxBindingBytes / 4 / k / 4) * 4;
  if (perPart < 4) {
    const what = weight.op === 'weight' ? `weight '${weight.attrs.name}'` : `node %${weight.id}`;
    throw new Error(`a single column of ${what} exceeds one storage binding`);
  }
  const windows: { start: number; count: number }[] = [];
  for (let start = 0; start < n; start += perPart)
    windows.push({ start, count: Math.min(perPart, n - start) });
  return windows;
}
