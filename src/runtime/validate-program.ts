import {
  PROGRAM_FORMAT,
  PROGRAM_VERSION,
  type AttrValue,
  type DType,
  type IoSpec,
  type Program,
  type ProgramModelInfo,
  type ProgramNode,
  type Shape,
  type WeightInit,
  type WeightSpec,
} from './program.js';
import { ProgramError } from './errors.js';
import { describeValue, readingCallerValues } from './guards.js';
import { elementCount, MAX_TENSOR_ELEMENTS } from './tensor.js';
import { readGpuPlan } from './validate/gpu-plan.js';
import { readSlots } from './validate/slots.js';
import { checkAttrs } from './ops/attr-schema.js';
import { SCOPE_KINDS, type Provenance } from './ops/node.js';
import { inGroup, inputDtype, isOpName, opDef, outputDtype } from './ops/registry.js';
import {
  fail,
  field,
  readArray,
  readIndex,
  readInteger,
  readNumber,
  readObject,
  readOneOf,
  readShape,
  readString,
  sameShape,
  showShape,
} from './validate/read.js';
import {
  checkInputs,
  checkOutputs,
  checkParallelOutputs,
  readParallel,
  readText,
  readWeightSource,
} from './validate/text.js';

/** The checked, frozen copies this function returned: checking one again costs nothing. */
const validated = new WeakSet<object>();

function readModel(value: unknown): ProgramModelInfo {
  const path = 'program.model';
  const model = readObject(value, path);
  const hidden = readInteger(field(model, 'hidden'), `${path}.hidden`, 1);
  const heads = readInteger(field(model, 'heads'), `${path}.heads`, 1);
  if (hidden % heads !== 0) fail(`${path}.heads`, `${heads} does not divide hidden (${hidden})`);
  const textValue = field(model, 'text');
  return {
    name: readString(field(model, 'name'), `${path}.name`),
    hidden,
    heads,
    ffn: readInteger(field(model, 'ffn'), `${path}.ffn`, 1),
    layers: readInteger(field(model, 'layers'), `${path}.layers`, 1),
    norm: readOneOf(field(model, 'norm'), `${path}.norm`, ['post', 'pre']),
    attention: readOneOf(field(model, 'attention'), `${path}.attention`, [
      'bidirectional',
      'causal',
    ]),
    ...(textValue === undefined ? {} : { text: readText(textValue, `${path}.text`) }),
  };
}

function checkElements(shape: readonly number[], path: string): void {
  const count = elementCount(shape);
  if (count > MAX_TENSOR_ELEMENTS)
    fail(
      path,
      `${showShape(shape)} has ${count} elements; one tensor holds at most ${MAX_TENSOR_ELEMENTS}`,
    );
}

function readInit(value: unknown, path: string): WeightInit {
  const init = readObject(value, path);
  const kind = readOneOf(field(init, 'kind'), `${path}.kind`, ['normal', 'zeros', 'ones']);
  if (kind !== 'normal') return { kind };
  return { kind, std: readNumber(field(init, 'std'), `${path}.std`, 0) };
}

function readWeights(value: unknown): WeightSpec[] {
  const names = new Set<string>();
  return readArray(value, 'program.weights').map((entry, i) => {
    const path = `program.weights[${i}]`;
    const weight = readObject(entry, path);
    const name = readString(field(weight, 'name'), `${path}.name`);
    if (names.has(name)) fail(`${path}.name`, `'${name}' is listed twice`);
    names.add(name);
    const shape = readShape(field(weight, 'shape'), `${path}.shape`, false) as number[];
    checkElements(shape, `${path}.shape`);
    const fromValue = field(weight, 'from');
    return {
      name,
      shape,
      init: readInit(field(weight, 'init'), `${path}.init`),
      ...(fromValue === undefined
        ? {}
        : { from: readWeightSource(fromValue, `${path}.from`, shape) }),
    };
  });
}

function readIo(value: unknown, key: 'inputs' | 'outputs'): IoSpec[] {
  const names = new Set<string>();
  return readArray(value, `program.${key}`).map((entry, i) => {
    const path = `program.${key}[${i}]`;
    const io = readObject(entry, path);
    const name = readString(field(io, 'name'), `${path}.name`);
    if (names.has(name)) fail(`${path}.name`, `'${name}' is listed twice`);
    names.add(name);
    const optional = field(io, 'optional');
    if (optional !== undefined && typeof optional !== 'boolean')
      fail(`${path}.optional`, 'must be true or false');
    return {
      name,
      dtype: readOneOf(field(io, 'dtype'), `${path}.dtype`, ['f32', 'i32']),
      shape: readShape(field(io, 'shape'), `${path}.shape`),
      node: readInteger(field(io, 'node'), `${path}.node`, 0),
      ...(optional === undefined ? {} : { optional }),
    };
  });
}

/**
 * Attributes are numbers, strings, booleans or flat arrays of numbers or of strings; the op's
 * rule checks the ones it reads. Arrays are copied, so nothing nested rides along.
 */
function readAttrs(value: unknown, path: string): Record<string, AttrValue> {
  const attrs = readObject(value, path);
  const out: Record<string, AttrValue> = {};
  for (const [key, item] of Object.entries(attrs)) {
    const itemPath = `${path}.${key}`;
    if (typeof item === 'number' || typeof item === 'string' || typeof item === 'boolean') {
      out[key] = item;
      continue;
    }
    const items = readArray(item, itemPath);
    const kind = typeof items[0];
    items.forEach((element, i) => {
      if (typeof element !== kind || (kind !== 'number' && kind !== 'string'))
        fail(
          `${itemPath}[${i}]`,
          `must be a ${kind === 'string' ? 'string' : 'number'}, as attribute arrays hold numbers or strings; got ${describeValue(element)}`,
        );
    });
    out[key] = items as AttrValue;
  }
  return out;
}

interface NodeContext {
  readonly nodes: readonly ProgramNode[];
  readonly weights: ReadonlyMap<string, WeightSpec>;
  readonly inputs: ReadonlyMap<string, IoSpec>;
}

function readNode(value: unknown, index: number, context: NodeContext): ProgramNode {
  const path = `program.nodes[${index}]`;
  const node = readObject(value, path);
  const id = readInteger(field(node, 'id'), `${path}.id`, 0);
  if (id !== index) fail(`${path}.id`, `is ${id}; nodes are numbered by position`);
  const op = readString(field(node, 'op'), `${path}.op`);
  const dtype = readOneOf(field(node, 'dtype'), `${path}.dtype`, ['f32', 'i32']);
  const shape = readShape(field(node, 'shape'), `${path}.shape`);
  const inputs = readArray(field(node, 'inputs'), `${path}.inputs`).map((input, i) => {
    const inputPath = `${path}.inputs[${i}]`;
    const ref = readInteger(input, inputPath, 0);
    if (ref >= index)
      fail(
        inputPath,
        `refers to node ${ref}, which ${ref === index ? 'is this node' : 'comes later'}`,
      );
    return ref;
  });
  const attrs = readAttrs(field(node, 'attrs'), `${path}.attrs`);
  const scopeValue = field(node, 'scope');
  const scope = scopeValue === undefined ? undefined : readScope(scopeValue, `${path}.scope`);
  if (!isOpName(op)) fail(`${path}.op`, `'${op}' is not an op this runtime runs`);
  checkAttrs(op, opDef(op).attrs, attrs, `${path}.attrs`);
  // The attributes were checked against the op's schema just above.
  const result = {
    id,
    op,
    dtype,
    shape,
    inputs,
    attrs,
    ...(scope === undefined ? {} : { scope }),
  } as ProgramNode;
  checkNode(result, path, context);
  return result;
}

function readScope(value: unknown, path: string): Provenance {
  const scope = readObject(value, path);
  const name = field(scope, 'name');
  return {
    layer: readInteger(field(scope, 'layer'), `${path}.layer`, 0),
    site: readString(field(scope, 'site'), `${path}.site`),
    kind: readOneOf(field(scope, 'kind'), `${path}.kind`, SCOPE_KINDS),
    ...(name === undefined ? {} : { name: readString(name, `${path}.name`) }),
  };
}

function checkSource(node: ProgramNode, path: string, expected: { dtype: DType; shape: Shape }) {
  if (node.inputs.length !== 0) fail(`${path}.inputs`, `an ${node.op} node reads no nodes`);
  if (node.dtype !== expected.dtype) fail(`${path}.dtype`, `must be '${expected.dtype}'`);
  if (!sameShape(node.shape, expected.shape))
    fail(`${path}.shape`, `is ${showShape(node.shape)}; must be ${showShape(expected.shape)}`);
}

function checkNode(node: ProgramNode, path: string, context: NodeContext): void {
  if (node.op === 'input' || node.op === 'weight') {
    const name = node.attrs.name;
    if (node.op === 'input') {
      const spec = context.inputs.get(name);
      if (!spec) fail(`${path}.attrs.name`, `'${name}' is not in program.inputs`);
      checkSource(node, path, spec);
    } else {
      const spec = context.weights.get(name);
      if (!spec) fail(`${path}.attrs.name`, `'${name}' is not in the weight manifest`);
      checkSource(node, path, { dtype: 'f32', shape: spec.shape });
    }
    return;
  }
  const rule = opDef(node.op);
  const arity = rule.variadic
    ? node.inputs.length >= rule.arity
    : node.inputs.length === rule.arity;
  if (!arity) {
    fail(
      `${path}.inputs`,
      `${node.op} takes ${rule.variadic ? 'at least ' : ''}${rule.arity} inputs, got ${node.inputs.length}`,
    );
  }
  const sources = node.inputs.map((ref) => context.nodes[ref]!);
  if (inGroup(node.op, 'load')) {
    sources.forEach((source, i) => {
      if (source.op !== 'weight' && !inGroup(source.op, 'load'))
        fail(
          `${path}.inputs[${i}]`,
          `node ${source.id} is ${source.op}; ${node.op} is computed at load, from weights only`,
        );
    });
  }
  sources.forEach((source, i) => {
    const wanted = inputDtype(node, i);
    if (source.dtype !== wanted)
      fail(
        `${path}.inputs[${i}]`,
        `node ${source.id} is ${source.dtype}; ${node.op} reads ${wanted} here`,
      );
  });
  const shape = rule.shape!(
    sources.map((s) => s.shape),
    node.attrs,
  );
  if (typeof shape === 'string') fail(path, `${node.op}: ${shape}`);
  if (!sameShape(shape, node.shape))
    fail(
      `${path}.shape`,
      `is ${showShape(node.shape)}, but ${node.op} of its inputs gives ${showShape(shape)}`,
    );
  const dtype = outputDtype(
    node.op,
    sources.map((s) => s.dtype),
  );
  if (node.dtype !== dtype) fail(`${path}.dtype`, `must be '${dtype}'`);
  const fixed = shape.filter((d): d is number => typeof d === 'number');
  checkElements(fixed, `${path}.shape`);
}

function checkIoNodes(
  specs: readonly IoSpec[],
  key: 'inputs' | 'outputs',
  nodes: readonly ProgramNode[],
) {
  specs.forEach((io, i) => {
    const path = `program.${key}[${i}].node`;
    const node = nodes[readIndex(io.node, path, nodes.length, 'node')]!;
    if (key === 'inputs' && !(node.op === 'input' && node.attrs.name === io.name))
      fail(path, `node ${io.node} is not the input node of '${io.name}'`);
    if (node.dtype !== io.dtype || !sameShape(node.shape, io.shape))
      fail(
        path,
        `node ${io.node} is ${node.dtype} ${showShape(node.shape)}, not ${io.dtype} ${showShape(io.shape)}`,
      );
  });
}

/** The branch count against the select nodes and the adapter_index input. */
function checkBranches(value: unknown, nodes: readonly ProgramNode[], inputs: readonly IoSpec[]) {
  const branches = value === undefined ? undefined : readInteger(value, 'program.branches', 1);
  const hasIndex = inputs.some((io) => io.name === 'adapter_index');
  if ((branches !== undefined) !== hasIndex)
    fail(
      'program.branches',
      hasIndex ? "is required with an 'adapter_index' input" : "needs an 'adapter_index' input",
    );
  for (const node of nodes) {
    if (node.op === 'select' && node.inputs.length - 1 !== branches)
      fail(
        `program.nodes[${node.id}].inputs`,
        `select has ${node.inputs.length - 1} branches; program.branches is ${String(branches)}`,
      );
  }
  return branches;
}

/** The checked copy is frozen, so that it stays what was checked; iterative, so depth costs no stack. */
function deepFreeze(root: object): void {
  const pending: object[] = [root];
  for (let value = pending.pop(); value !== undefined; value = pending.pop()) {
    Object.freeze(value);
    for (const item of Object.values(value)) {
      if (typeof item === 'object' && item !== null && !Object.isFrozen(item)) pending.push(item);
    }
  }
}

/**
 * Checks that a value is a Program this runtime can run, so that a hand-edited or hostile one
 * cannot make a backend read or write out of bounds: every field's type, every node against its
 * op's rule (inputs before it, dtypes, attributes, shapes consistent with the weights it reads),
 * inputs and outputs against their nodes, and the GPU plan's indices and buffer sizes. Throws a
 * ProgramError naming the path of the first problem, e.g. `program.nodes[12].inputs[1]`.
 * Returns a copy holding only the checked fields.
 */
export function validateProgram(value: unknown): Program {
  if (typeof value === 'object' && value !== null && validated.has(value)) return value as Program;
  return readingCallerValues(
    () => readProgram(value),
    (why) => new ProgramError(`program: cannot be read: ${why}`),
  );
}

function readProgram(value: unknown): Program {
  const program = readObject(value, 'program');
  const format = field(program, 'format');
  if (format !== PROGRAM_FORMAT)
    fail(
      'program.format',
      `is ${JSON.stringify(format) ?? 'missing'}; expected '${PROGRAM_FORMAT}'`,
    );
  const version = field(program, 'version');
  if (version !== PROGRAM_VERSION)
    fail(
      'program.version',
      `is ${JSON.stringify(version) ?? 'missing'}; this runtime reads version ${PROGRAM_VERSION}`,
    );
  const model = readModel(field(program, 'model'));
  const weights = readWeights(field(program, 'weights'));
  const inputs = readIo(field(program, 'inputs'), 'inputs');
  checkInputs(inputs, model.hidden, model.text);
  const outputs = readIo(field(program, 'outputs'), 'outputs');
  const parallel = readParallel(field(program, 'parallel'));
  if (parallel) checkParallelOutputs(outputs, model.hidden, model.text, parallel);
  else checkOutputs(outputs, model.hidden, model.text);
  const nodes: ProgramNode[] = [];
  const context: NodeContext = {
    nodes,
    weights: new Map(weights.map((w) => [w.name, w])),
    inputs: new Map(inputs.map((io) => [io.name, io])),
  };
  readArray(field(program, 'nodes'), 'program.nodes').forEach((node, i) =>
    nodes.push(readNode(node, i, context)),
  );
  checkIoNodes(inputs, 'inputs', nodes);
  checkIoNodes(outputs, 'outputs', nodes);
  const branches = checkBranches(field(program, 'branches'), nodes, inputs);
  const slots = readSlots(field(program, 'slots'), branches, context.weights, nodes);
  const gpuValue = field(program, 'gpu');
  const result: Program = {
    format: PROGRAM_FORMAT,
    version: PROGRAM_VERSION,
    source: readString(field(program, 'source'), 'program.source'),
    graph: readString(field(program, 'graph'), 'program.graph'),
    model,
    ...(branches === undefined ? {} : { branches }),
    ...(parallel === undefined ? {} : { parallel }),
    ...(slots === undefined ? {} : { slots }),
    inputs,
    outputs,
    weights,
    nodes,
    ...(gpuValue === undefined
      ? {}
      : {
          gpu: readGpuPlan(gpuValue, 'program.gpu', {
            nodes,
            weights,
            inputs,
            outputs,
            text: model.text,
          }),
        }),
  };
  deepFreeze(result);
  validated.add(result);
  return result;
}
