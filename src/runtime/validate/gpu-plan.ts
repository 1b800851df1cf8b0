import { inGroup } from '../ops/registry.js';
import type {
  DispatchArg,
  DispatchSpec,
  GpuPlan,
  IoSpec,
  KernelSpec,
  ProgramNode,
  SizeExpr,
  WeightSpec,
  WeightUpload,
  ProgramText,
} from '../program.js';
import { elementCount } from '../tensor.js';
import {
  fail,
  field,
  readArray,
  readBoolean,
  readIndex,
  readInteger,
  readObject,
  readOneOf,
  readString,
} from './read.js';

/** Storage bindings one kernel may declare; WebGPU devices allow far fewer (8 portably). */
const MAX_STORAGE_BINDINGS = 1000;

function readSize(value: unknown, path: string): SizeExpr {
  const size = readObject(value, path);
  return {
    perToken: readInteger(field(size, 'perToken'), `${path}.perToken`, 0),
    perSequence: readInteger(field(size, 'perSequence'), `${path}.perSequence`, 0),
    fixed: readInteger(field(size, 'fixed'), `${path}.fixed`, 0),
    divide: readInteger(field(size, 'divide'), `${path}.divide`, 1),
  };
}

/** The elements of an input or output as a size: per token, per sequence and fixed. */
function ioElements(io: IoSpec): { perToken: number; perSequence: number; fixed: number } {
  const numbers = io.shape.filter((d): d is number => typeof d === 'number');
  const count = elementCount(numbers);
  const hasB = io.shape.includes('B');
  const hasT = io.shape.includes('T');
  if (hasB && hasT) return { perToken: count, perSequence: 0, fixed: 0 };
  if (hasB) return { perToken: 0, perSequence: count, fixed: 0 };
  return { perToken: hasT ? count : 0, perSequence: 0, fixed: hasT ? 0 : count };
}

/**
 * Whether a buffer of `size` elements holds `needed` for every B, T ≥ 1. With a, b, c the
 * differences of the per-token, per-sequence and fixed terms, a·BT + b·B + c ≥ 0 for all
 * B, T ≥ 1 exactly when a ≥ 0, a + b ≥ 0 and a + b + c ≥ 0.
 */
function holds(
  size: SizeExpr,
  needed: ReturnType<typeof ioElements> & { readonly divide?: number },
): boolean {
  const over = needed.divide ?? 1;
  const a = size.perToken / size.divide - needed.perToken / over;
  const b = size.perSequence / size.divide - needed.perSequence / over;
  const c = size.fixed / size.divide - needed.fixed / over;
  return a >= 0 && a + b >= 0 && a + b + c >= 0;
}

interface PlanContext {
  /** The program's nodes, which the dispatches compute. */
  readonly nodes: readonly ProgramNode[];
  readonly weights: readonly WeightSpec[];
  readonly inputs: readonly IoSpec[];
  readonly outputs: readonly IoSpec[];
  /** Present for a program that takes token ids: its first output is then last_hidden_state. */
  readonly text: ProgramText | undefined;
}

function readUploads(value: unknown, path: string, weights: readonly WeightSpec[]) {
  const byName = new Map(weights.map((w) => [w.name, w]));
  return readArray(value, path).map((entry, i) => {
    const uploadPath = `${path}[${i}]`;
    const upload = readObject(entry, uploadPath);
    const parts = readArray(field(upload, 'parts'), `${uploadPath}.parts`);
    const elements = field(upload, 'elements');
    if (parts.length === 0) {
      // Computed at load: a load dispatch writes it (checked with the load dispatches).
      if (elements === undefined)
        fail(`${uploadPath}.parts`, 'must not be empty, but for a buffer computed at load');
      return { parts: [], elements: readInteger(elements, `${uploadPath}.elements`, 1) };
    }
    if (elements !== undefined)
      fail(`${uploadPath}.elements`, 'is only for a buffer computed at load, which has no parts');
    return {
      parts: parts.map((rawPart, j) => {
        const partPath = `${uploadPath}.parts[${j}]`;
        const part = readObject(rawPart, partPath);
        const name = readString(field(part, 'weight'), `${partPath}.weight`);
        const weight = byName.get(name);
        if (!weight) fail(`${partPath}.weight`, `'${name}' is not in the weight manifest`);
        const transpose = readBoolean(field(part, 'transpose'), `${partPath}.transpose`);
        if (transpose && weight.shape.length !== 2)
          fail(
            `${partPath}.transpose`,
            `weight '${name}' ${JSON.stringify(weight.shape)} is not 2-D`,
          );
        const columnsValue = field(part, 'columns');
        if (columnsValue === undefined) return { weight: name, transpose };
        const width = transpose ? weight.shape[0]! : weight.shape[weight.shape.length - 1]!;
        const columns = readArray(columnsValue, `${partPath}.columns`);
        if (columns.length !== 2) fail(`${partPath}.columns`, 'must be [start, end]');
        const start = readInteger(columns[0], `${partPath}.columns[0]`, 0, width - 1);
        const end = readInteger(columns[1], `${partPath}.columns[1]`, start + 1, width);
        return { weight: name, transpose, columns: [start, end] as const };
      }),
    };
  });
}

function readArg(value: unknown, path: string, buffers: number, uploads: number): DispatchArg {
  const arg = readObject(value, path);
  const kind = readOneOf(field(arg, 'kind'), `${path}.kind`, ['buffer', 'weights']);
  if (kind === 'buffer') {
    return { kind, buffer: readIndex(field(arg, 'buffer'), `${path}.buffer`, buffers, 'buffer') };
  }
  return {
    kind,
    upload: readIndex(field(arg, 'upload'), `${path}.upload`, uploads, 'weight upload'),
  };
}

/**
 * Checks a GPU plan: kernels, weight uploads, activation buffers and dispatches refer only to
 * what exists, and the buffers of inputs and outputs hold them at every batch and sequence size.
 */
export function readGpuPlan(value: unknown, path: string, context: PlanContext): GpuPlan {
  const plan = readObject(value, path);
  const target = readOneOf(field(plan, 'target'), `${path}.target`, ['software', 'gpu']);
  const fused = readBoolean(field(plan, 'fused'), `${path}.fused`);
  const kernels = readArray(field(plan, 'kernels'), `${path}.kernels`).map((entry, i) => {
    const kernelPath = `${path}.kernels[${i}]`;
    const kernel = readObject(entry, kernelPath);
    return {
      name: readString(field(kernel, 'name'), `${kernelPath}.name`),
      wgsl: readString(field(kernel, 'wgsl'), `${kernelPath}.wgsl`),
      storageBindings: readInteger(
        field(kernel, 'storageBindings'),
        `${kernelPath}.storageBindings`,
        1,
        MAX_STORAGE_BINDINGS,
      ),
    };
  });
  const uploads = readUploads(field(plan, 'uploads'), `${path}.uploads`, context.weights);
  const buffers = readArray(field(plan, 'buffers'), `${path}.buffers`).map((size, i) =>
    readSize(size, `${path}.buffers[${i}]`),
  );
  const io = (key: 'inputs' | 'outputs', specs: readonly IoSpec[]) =>
    readArray(field(plan, key), `${path}.${key}`).map((entry, i) => {
      const ioPath = `${path}.${key}[${i}]`;
      const item = readObject(entry, ioPath);
      const name = readString(field(item, 'name'), `${ioPath}.name`);
      const spec = specs.find((s) => s.name === name);
      if (!spec) fail(`${ioPath}.name`, `the program has no ${key.slice(0, -1)} '${name}'`);
      const buffer = readIndex(field(item, 'buffer'), `${ioPath}.buffer`, buffers.length, 'buffer');
      if (!holds(buffers[buffer]!, ioElements(spec)))
        fail(
          `${ioPath}.buffer`,
          `buffer ${buffer} is too small for '${name}' ${JSON.stringify(spec.shape)}`,
        );
      return { name, buffer };
    });
  const inputs = io('inputs', context.inputs);
  const outputs = io('outputs', context.outputs);
  for (const spec of context.inputs) {
    if (!inputs.some((i) => i.name === spec.name))
      fail(`${path}.inputs`, `has no buffer for the input '${spec.name}'`);
  }
  const main = context.outputs[0]?.name;
  if (outputs[0]?.name !== main) fail(`${path}.outputs[0]`, `must be the output '${main}'`);
  const dispatchContext = { nodes: context.nodes, kernels, buffers, uploads };
  const loadValue = field(plan, 'loadDispatches');
  const loadDispatches =
    loadValue === undefined
      ? undefined
      : readLoadDispatches(loadValue, `${path}.loadDispatches`, dispatchContext);
  const written = new Set(loadDispatches?.map((d) => writtenUpload(d)));
  uploads.forEach((upload, i) => {
    if (upload.elements !== undefined && !written.has(i))
      fail(`${path}.uploads[${i}]`, 'is computed at load, but no load dispatch writes it');
  });
  const dispatches = readDispatches(
    field(plan, 'dispatches'),
    `${path}.dispatches`,
    dispatchContext,
  );
  return {
    target,
    fused,
    kernels,
    uploads,
    buffers,
    inputs,
    outputs,
    dispatches,
    ...(loadDispatches === undefined ? {} : { loadDispatches }),
  };
}

interface NodePart {
  readonly node: number;
  readonly part: number;
}

/**
 * The node a dispatch computes and which of its dispatches it is, against the dispatch before:
 * nodes that compute in the forward pass, in node order, a node's parts 0, 1, ... one after
 * another. A load dispatch (`atLoad`) computes a load-time node, and is the node's part `part`.
 */
function readNodePart(
  dispatch: Record<string, unknown>,
  path: string,
  nodes: readonly ProgramNode[],
  previous: NodePart | undefined,
  atLoad?: { readonly part: number },
): NodePart {
  const node = readIndex(field(dispatch, 'node'), `${path}.node`, nodes.length, 'node');
  const { op } = nodes[node]!;
  if (inGroup(op, 'source'))
    fail(`${path}.node`, `node ${node} is a source (${op}); no kernel computes it`);
  if (inGroup(op, 'load') !== (atLoad !== undefined))
    fail(
      `${path}.node`,
      atLoad
        ? `node ${node} (${op}) is computed in the forward pass, not at load`
        : `node ${node} (${op}) is computed at load, by a load dispatch`,
    );
  if (atLoad === undefined && previous !== undefined && node < previous.node)
    fail(
      `${path}.node`,
      `is ${node}, after a dispatch of node ${previous.node}; dispatches follow the node order`,
    );
  const part = readInteger(field(dispatch, 'part'), `${path}.part`, 0);
  const expected = atLoad?.part ?? (previous?.node === node ? previous.part + 1 : 0);
  if (part !== expected)
    fail(
      `${path}.part`,
      expected === 0
        ? `is ${part}; the first dispatch of node ${node} is part 0`
        : `is ${part}; the dispatch after part ${expected - 1} of node ${node} is part ${expected}`,
    );
  return { node, part };
}

interface DispatchContext {
  readonly nodes: readonly ProgramNode[];
  readonly kernels: readonly KernelSpec[];
  readonly buffers: readonly SizeExpr[];
  readonly uploads: readonly WeightUpload[];
}

/** The kernel of a dispatch, and its args, as many as the kernel binds. */
function readKernelArgs(
  dispatch: Record<string, unknown>,
  path: string,
  context: DispatchContext,
): { kernel: number; args: DispatchArg[] } {
  const kernel = readIndex(
    field(dispatch, 'kernel'),
    `${path}.kernel`,
    context.kernels.length,
    'kernel',
  );
  const spec = context.kernels[kernel]!;
  const args = readArray(field(dispatch, 'args'), `${path}.args`);
  if (args.length !== spec.storageBindings) {
    fail(
      `${path}.args`,
      `binds ${args.length} buffers; kernel '${spec.name}' takes ${spec.storageBindings}`,
    );
  }
  return {
    kernel,
    args: args.map((arg, j) =>
      readArg(arg, `${path}.args[${j}]`, context.buffers.length, context.uploads.length),
    ),
  };
}

const writtenUpload = (dispatch: DispatchSpec) =>
  (dispatch.args[dispatch.args.length - 1] as { readonly upload: number }).upload;

/**
 * The load dispatches, in the order they run: each computes a load-time node from weights only
 * into a computed upload of the node's size, written by no other; it reads uploads as stored
 * or computed by an earlier load dispatch, and launches no more workgroups than it writes elements.
 */
function readLoadDispatches(
  value: unknown,
  path: string,
  context: DispatchContext,
): DispatchSpec[] {
  const written = new Set<number>();
  const parts = new Map<number, number>();
  return readArray(value, path).map((entry, i) => {
    const dispatchPath = `${path}[${i}]`;
    const dispatch = readObject(entry, dispatchPath);
    const { kernel, args } = readKernelArgs(dispatch, dispatchPath, context);
    const node = readIndex(
      field(dispatch, 'node'),
      `${dispatchPath}.node`,
      context.nodes.length,
      'node',
    );
    const part = parts.get(node) ?? 0;
    readNodePart(dispatch, dispatchPath, context.nodes, undefined, { part });
    parts.set(node, part + 1);
    args.forEach((arg, j) => {
      const argPath = `${dispatchPath}.args[${j}]`;
      if (arg.kind !== 'weights') fail(`${argPath}.kind`, "must be 'weights' in a load dispatch");
      const computed = context.uploads[arg.upload]!.elements !== undefined;
      if (j < args.length - 1 && computed && !written.has(arg.upload))
        fail(argPath, `reads upload ${arg.upload} before a load dispatch has computed it`);
    });
    const out = (args[args.length - 1] as { readonly upload: number }).upload;
    const elements = context.uploads[out]!.elements;
    if (elements === undefined)
      fail(`${dispatchPath}.args[${args.length - 1}]`, `upload ${out} is not computed at load`);
    if (written.has(out))
      fail(`${dispatchPath}.args[${args.length - 1}]`, `upload ${out} is written twice`);
    written.add(out);
    const shape = context.nodes[node]!.shape;
    const count = shape.reduce<number>((n, d) => n * (typeof d === 'number' ? d : NaN), 1);
    if (count !== elements)
      fail(
        `${dispatchPath}.args[${args.length - 1}]`,
        `upload ${out} holds ${elements} elements; node ${node} has ${count}`,
      );
    const groups = readSize(field(dispatch, 'groups'), `${dispatchPath}.groups`);
    if (
      groups.perToken !== 0 ||
      groups.perSequence !== 0 ||
      groups.fixed > elements * groups.divide
    )
      fail(
        `${dispatchPath}.groups`,
        'must be a fixed count, no more workgroups than the elements it writes',
      );
    return {
      kernel,
      node,
      part,
      label: readString(field(dispatch, 'label'), `${dispatchPath}.label`),
      args,
      groups,
    };
  });
}

/** The dispatches, each against its kernel, the buffers and uploads, and its node. */
function readDispatches(value: unknown, path: string, context: DispatchContext): DispatchSpec[] {
  const { buffers, nodes } = context;
  let previous: NodePart | undefined;
  return readArray(value, path).map((entry, i) => {
    const dispatchPath = `${path}[${i}]`;
    const dispatch = readObject(entry, dispatchPath);
    const { kernel: kernelIndex, args: read } = readKernelArgs(dispatch, dispatchPath, context);
    const { node, part } = readNodePart(dispatch, dispatchPath, nodes, previous);
    previous = { node, part };
    const groups = readSize(field(dispatch, 'groups'), `${dispatchPath}.groups`);
    // Every kernel gives each workgroup at least one element of an activation buffer it binds,
    // so a larger grid is not a plan the compiler makes: it would only keep the GPU busy.
    if (!read.some((arg) => arg.kind === 'buffer' && holds(buffers[arg.buffer]!, groups)))
      fail(
        `${dispatchPath}.groups`,
        `launches more workgroups than any activation buffer it binds has elements`,
      );
    return {
      kernel: kernelIndex,
      node,
      part,
      label: readString(field(dispatch, 'label'), `${dispatchPath}.label`),
      args: read,
      groups,
    };
  });
}
