import { kernelAllocations } from './cpu/allocations.js';
import { lastUses } from './cpu/liveness.js';
import { ArgumentError, ResourceError } from './errors.js';
import { describeValue, requireRunShape } from './guards.js';
import { inGroup } from './ops/registry.js';
import { evaluateSize, type Program } from './program.js';
import { elementCount, MAX_TENSOR_ELEMENTS, resolveShape } from './tensor.js';
import { validateProgram } from './validate-program.js';

export { MAX_TENSOR_ELEMENTS };

const BYTES_PER_ELEMENT = 4;

export interface MemoryEstimate {
  /** The weights of the manifest and the values computed from them at load, f32. */
  readonly weightBytes: number;
  /** hidden_states, attention_mask (all ones when not given) and adapter_index. */
  readonly inputBytes: number;
  /** Activations at their peak: the planned GPU buffers, or the CPU interpreter's live values. */
  readonly activationBytes: number;
  readonly totalBytes: number;
  /** The largest single tensor or buffer: what must fit in one typed array or GPU buffer. */
  readonly largestBuffer: { readonly name: string; readonly bytes: number };
}

export type MemoryBackend = 'cpu' | 'webgpu';

export interface RunShape {
  readonly batch: number;
  readonly seq: number;
}

interface Usage {
  bytes: number;
  largest: { name: string; bytes: number };
}

function larger(a: Usage['largest'], name: string, bytes: number): Usage['largest'] {
  return bytes > a.bytes ? { name, bytes } : a;
}

function weightUsage(program: Program, atLoad = false): Usage {
  let usage: Usage = { bytes: 0, largest: { name: '', bytes: 0 } };
  for (const weight of program.weights) {
    const bytes = elementCount(weight.shape) * BYTES_PER_ELEMENT;
    usage = { bytes: usage.bytes + bytes, largest: larger(usage.largest, weight.name, bytes) };
  }
  if (!atLoad) return usage;
  // Computed once at load and kept with the weights (a fusion's W_Kᵀ·W_Q): not activations.
  for (const node of program.nodes) {
    if (!isLoadTime(node.op)) continue;
    const bytes = elementCount(node.shape as readonly number[]) * BYTES_PER_ELEMENT;
    usage = {
      bytes: usage.bytes + bytes,
      largest: larger(usage.largest, nodeLabel(program, node.id), bytes),
    };
  }
  return usage;
}

const isLoadTime = (op: Program['nodes'][number]['op']) =>
  op !== 'input' && op !== 'weight' && inGroup(op, 'load');

function inputUsage(program: Program, { batch, seq }: RunShape): Usage {
  let usage: Usage = { bytes: 0, largest: { name: '', bytes: 0 } };
  for (const input of program.inputs) {
    const bytes = elementCount(resolveShape(input.shape, batch, seq)) * BYTES_PER_ELEMENT;
    usage = { bytes: usage.bytes + bytes, largest: larger(usage.largest, input.name, bytes) };
  }
  return usage;
}

const nodeLabel = (program: Program, id: number) => {
  const node = program.nodes[id]!;
  return `%${id} ${node.op}${node.scope ? ` (${node.scope})` : ''}`;
};

/**
 * The CPU interpreter keeps each value until its last reader has run; at each node it holds the
 * live values plus what the node's kernel allocates. Inputs and weights are counted apart.
 */
function cpuActivationUsage(program: Program, { batch, seq }: RunShape): Usage {
  const elements = program.nodes.map((node) => elementCount(resolveShape(node.shape, batch, seq)));
  const last = lastUses(program);
  const computed = (id: number) => {
    const op = program.nodes[id]!.op;
    return op !== 'input' && op !== 'weight' && !isLoadTime(op);
  };
  let live = 0;
  let peak = 0;
  let largest = { name: '', bytes: 0 };
  for (const node of program.nodes) {
    if (!computed(node.id)) continue;
    peak = Math.max(peak, live + kernelAllocations(node, elements) * BYTES_PER_ELEMENT);
    const bytes = elements[node.id]! * BYTES_PER_ELEMENT;
    largest = larger(largest, nodeLabel(program, node.id), bytes);
    live += bytes;
    for (const input of new Set<number>(node.inputs)) {
      if (last[input] === node.id && computed(input)) live -= elements[input]! * BYTES_PER_ELEMENT;
    }
  }
  return { bytes: peak, largest };
}

function gpuActivationUsage(program: Program, shape: RunShape): Usage {
  let usage: Usage = { bytes: 0, largest: { name: '', bytes: 0 } };
  program.gpu?.buffers.forEach((size, i) => {
    const bytes = evaluateSize(size, shape.batch, shape.seq) * BYTES_PER_ELEMENT;
    usage = {
      bytes: usage.bytes + bytes,
      largest: larger(usage.largest, `activation buffer ${i}`, bytes),
    };
  });
  return usage;
}

/**
 * What a run of `program` at `shape` needs, before anything is allocated. For `backend` 'cpu' the
 * activations are the interpreter's peak, for 'webgpu' the planned buffers; without a backend,
 * the larger of the two (the CPU figure when the program has no GPU plan).
 */
export function estimateMemory(
  program: Program,
  shape: RunShape,
  backend?: MemoryBackend,
): MemoryEstimate {
  program = validateProgram(program);
  shape = requireRunShape(shape, 'estimateMemory shape');
  if (backend !== undefined && backend !== 'cpu' && backend !== 'webgpu')
    throw new ArgumentError(`backend must be 'cpu' or 'webgpu', got ${describeValue(backend)}`);
  const weights = weightUsage(program, true);
  const inputs = inputUsage(program, shape);
  const cpu = backend === 'webgpu' ? undefined : cpuActivationUsage(program, shape);
  const gpu = backend === 'cpu' || !program.gpu ? undefined : gpuActivationUsage(program, shape);
  const activations = !gpu ? cpu! : !cpu || gpu.bytes > cpu.bytes ? gpu : cpu;
  let largestBuffer = weights.largest;
  for (const candidate of [inputs.largest, cpu?.largest, gpu?.largest]) {
    if (candidate) largestBuffer = larger(largestBuffer, candidate.name, candidate.bytes);
  }
  return {
    weightBytes: weights.bytes,
    inputBytes: inputs.bytes,
    activationBytes: activations.bytes,
    totalBytes: weights.bytes + inputs.bytes + activations.bytes,
    largestBuffer,
  };
}

function only(part: 'weightBytes' | 'inputBytes', usage: Usage): MemoryEstimate {
  return {
    weightBytes: 0,
    inputBytes: 0,
    activationBytes: 0,
    [part]: usage.bytes,
    totalBytes: usage.bytes,
    largestBuffer: usage.largest,
  };
}

/** The weights alone, as `initWeights` allocates them. */
export function estimateWeights(program: Program): MemoryEstimate {
  return only('weightBytes', weightUsage(validateProgram(program)));
}

/** The inputs alone, as `randomInputs` allocates them. */
export function estimateInputs(program: Program, shape: RunShape): MemoryEstimate {
  const checked = validateProgram(program);
  return only('inputBytes', inputUsage(checked, requireRunShape(shape, 'estimateInputs shape')));
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];

/** Bytes in binary units with one decimal: "512 B", "27.0 MiB", "2.9 TiB". */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return `${n} B`;
  let value = n;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

/**
 * Refuses, before allocating, a tensor larger than a typed array can hold or a total past
 * `limitBytes`. `what` says what would be allocated, e.g. "graph 'default' at batch 1, seq 512".
 */
export function assertFits(what: string, needs: MemoryEstimate, limitBytes?: number): void {
  const largest = needs.largestBuffer;
  if (largest.bytes / BYTES_PER_ELEMENT > MAX_TENSOR_ELEMENTS) {
    throw new ResourceError(
      `${what}: tensor '${largest.name}' would hold ${largest.bytes / BYTES_PER_ELEMENT} elements (${formatBytes(largest.bytes)}); one tensor holds at most ${MAX_TENSOR_ELEMENTS} elements`,
    );
  }
  if (limitBytes !== undefined && needs.totalBytes > limitBytes) {
    throw new ResourceError(
      `${what} needs ${formatBytes(needs.totalBytes)} (${describeEstimate(needs)}), more than the memory limit of ${formatBytes(limitBytes)}`,
    );
  }
}

/** Refuses a run of `program` at these sizes that would not fit in `limitBytes`. */
export function assertRunFits(
  program: Program,
  shape: RunShape,
  backend: MemoryBackend,
  limitBytes: number | undefined,
): void {
  const what = `graph '${program.graph}' at batch ${shape.batch}, seq ${shape.seq}`;
  assertFits(what, estimateMemory(program, shape, backend), limitBytes);
}

/** The message part that breaks an estimate down, for callers that print it. */
export function describeEstimate(estimate: MemoryEstimate): string {
  return `weights ${formatBytes(estimate.weightBytes)}, inputs ${formatBytes(estimate.inputBytes)}, activations ${formatBytes(estimate.activationBytes)}`;
}
