import type { Dim, DType, IoSpec, ProgramText, Shape, WeightSpec } from '../program.js';
import {
  fail,
  field,
  readArray,
  readBoolean,
  readInteger,
  readObject,
  readOneOf,
  readString,
  sameShape,
  showShape,
} from './read.js';

/** The reads of a program that takes token ids (`model.text`, its inputs, outputs and weights). */

const FAMILIES = ['bert', 'roberta', 'distilbert', 'gpt2'] as const;
const LAYOUTS = [
  'pooler',
  'dense-tanh',
  'pre-classifier-relu',
  'token',
  'tied-embeddings',
  'adapterhub',
] as const;

/** Fields from outside are read strictly: a key this runtime does not know is an error. */
export function requireOnlyKeys(
  object: Record<string, unknown>,
  path: string,
  known: readonly string[],
): void {
  for (const key of Object.keys(object)) {
    if (!known.includes(key))
      fail(`${path}.${key}`, `is not a field here (${known.map((k) => `'${k}'`).join(', ')})`);
  }
}

function readHead(value: unknown, path: string, vocab: number): ProgramText['head'] {
  const head = readObject(value, path);
  requireOnlyKeys(head, path, ['layout', 'labels', 'scores']);
  const layout = readOneOf(field(head, 'layout'), `${path}.layout`, LAYOUTS);
  const labels = readArray(field(head, 'labels'), `${path}.labels`).map((label, i) =>
    readString(label, `${path}.labels[${i}]`),
  );
  if (layout === 'tied-embeddings' && labels.length > 0)
    fail(`${path}.labels`, `a language-model head has no labels; its logits are the ${vocab} ids`);
  if (layout !== 'tied-embeddings' && labels.length === 0)
    fail(`${path}.labels`, `a '${layout}' head needs at least one label`);
  return {
    layout,
    labels,
    scores: readOneOf(field(head, 'scores'), `${path}.scores`, ['softmax', 'sigmoid']),
  };
}

export function readText(value: unknown, path: string): ProgramText {
  const text = readObject(value, path);
  requireOnlyKeys(text, path, [
    'family',
    'vocab',
    'maxPositions',
    'typeVocab',
    'padId',
    'positions',
    'head',
  ]);
  const vocab = readInteger(field(text, 'vocab'), `${path}.vocab`, 1, 2 ** 31 - 1);
  const padValue = field(text, 'padId');
  const padId =
    padValue === undefined ? undefined : readInteger(padValue, `${path}.padId`, 0, vocab - 1);
  const positions = readOneOf(field(text, 'positions'), `${path}.positions`, [
    'absolute',
    'after-padding',
  ]);
  if (positions === 'after-padding' && padId === undefined)
    fail(`${path}.padId`, "is required where positions are 'after-padding'");
  const headValue = field(text, 'head');
  return {
    family: readOneOf(field(text, 'family'), `${path}.family`, FAMILIES),
    vocab,
    maxPositions: readInteger(field(text, 'maxPositions'), `${path}.maxPositions`, 1, 2 ** 31 - 1),
    typeVocab: readInteger(field(text, 'typeVocab'), `${path}.typeVocab`, 0, 2 ** 31 - 1),
    ...(padId === undefined ? {} : { padId }),
    positions,
    ...(headValue === undefined ? {} : { head: readHead(headValue, `${path}.head`, vocab) }),
  };
}

interface InputRule {
  readonly dtype: DType;
  readonly shape: (hidden: number) => Shape;
}

const TOKENS: InputRule = { dtype: 'i32', shape: () => ['B', 'T'] };

/** The inputs the runtime feeds (inputs.ts), by the kind of program. */
export const HIDDEN_STATE_INPUTS: Readonly<Record<string, InputRule>> = {
  hidden_states: { dtype: 'f32', shape: (hidden) => ['B', 'T', hidden] },
  attention_mask: TOKENS,
  adapter_index: { dtype: 'i32', shape: () => ['B'] },
};

export const TEXT_INPUTS: Readonly<Record<string, InputRule>> = {
  input_ids: TOKENS,
  attention_mask: TOKENS,
  token_type_ids: TOKENS,
  position_ids: TOKENS,
  adapter_index: { dtype: 'i32', shape: () => ['B'] },
};

/** The inputs against the table of the program's kind; the token types only with a type vocabulary. */
export function checkInputs(
  inputs: readonly IoSpec[],
  hidden: number,
  text: ProgramText | undefined,
): void {
  const table = text ? TEXT_INPUTS : HIDDEN_STATE_INPUTS;
  inputs.forEach((io, i) => {
    const path = `program.inputs[${i}]`;
    const known = Object.hasOwn(table, io.name) ? table[io.name] : undefined;
    if (!known)
      fail(
        `${path}.name`,
        `'${io.name}' is not an input the runtime feeds ${text ? 'a text program' : 'a hidden-state program'} (${Object.keys(table).join(', ')})`,
      );
    if (io.name === 'token_type_ids' && text!.typeVocab === 0)
      fail(
        `${path}.name`,
        "'token_type_ids' needs a type vocabulary; program.model.text.typeVocab is 0",
      );
    if (io.dtype !== known.dtype) fail(`${path}.dtype`, `must be '${known.dtype}'`);
    const shape = known.shape(hidden);
    if (!sameShape(io.shape, shape))
      fail(`${path}.shape`, `is ${showShape(io.shape)}; must be ${showShape(shape)}`);
  });
  const main = text ? 'input_ids' : 'hidden_states';
  if (!inputs.some((io) => io.name === main)) fail('program.inputs', `has no '${main}'`);
}

/** The logits' shape for the head: per sequence, per token, or per token over the vocabulary. */
function logitsShape(head: NonNullable<ProgramText['head']>, vocab: number): Dim[] {
  if (head.layout === 'tied-embeddings') return ['B', 'T', vocab];
  if (head.layout === 'token') return ['B', 'T', head.labels.length];
  return ['B', head.labels.length];
}

function requireOutput(outputs: readonly IoSpec[], name: string, shape: Dim[]): void {
  const index = outputs.findIndex((o) => o.name === name);
  if (index < 0) fail('program.outputs', `has no '${name}'`);
  const output = outputs[index]!;
  if (output.dtype !== 'f32' || !sameShape(output.shape, shape))
    fail(`program.outputs[${index}]`, `must be f32 ${showShape(shape)}`);
}

/**
 * `hidden_states` for a hidden-state program; for a text program `last_hidden_state`, and
 * `logits` exactly where there is a head.
 */
export function checkOutputs(
  outputs: readonly IoSpec[],
  hidden: number,
  text: ProgramText | undefined,
): void {
  if (outputs.length === 0) fail('program.outputs', 'must name at least one output');
  if (!text) return requireOutput(outputs, 'hidden_states', ['B', 'T', hidden]);
  requireOutput(outputs, 'last_hidden_state', ['B', 'T', hidden]);
  const logits = outputs.findIndex((o) => o.name === 'logits');
  if (text.head) requireOutput(outputs, 'logits', logitsShape(text.head, text.vocab));
  else if (logits >= 0)
    fail(`program.outputs[${logits}]`, "'logits' needs a head in program.model.text.head");
}

/** `WeightSpec.from`: the checkpoint tensor a weight is derived from, its transpose and rows. */
export function readWeightSource(
  value: unknown,
  path: string,
  shape: readonly number[],
): NonNullable<WeightSpec['from']> {
  const from = readObject(value, path);
  requireOnlyKeys(from, path, ['tensor', 'transpose', 'rows']);
  const tensor = readString(field(from, 'tensor'), `${path}.tensor`);
  if (tensor === '') fail(`${path}.tensor`, 'must name a tensor');
  const transposeValue = field(from, 'transpose');
  const transpose =
    transposeValue === undefined ? undefined : readBoolean(transposeValue, `${path}.transpose`);
  if (transpose && shape.length !== 2)
    fail(`${path}.transpose`, `only a 2-D weight is transposed; this one is ${showShape(shape)}`);
  const rowsValue = field(from, 'rows');
  let rows: [number, number] | undefined;
  if (rowsValue !== undefined) {
    const items = readArray(rowsValue, `${path}.rows`);
    if (items.length !== 2) fail(`${path}.rows`, 'must be [start, end]');
    const start = readInteger(items[0], `${path}.rows[0]`, 0);
    const end = readInteger(items[1], `${path}.rows[1]`, start + 1);
    if (end - start !== shape[0])
      fail(
        `${path}.rows`,
        `[${start}, ${end}) are ${end - start} rows; the weight ${showShape(shape)} has ${shape[0]}`,
      );
    rows = [start, end];
  }
  return {
    tensor,
    ...(transpose === undefined ? {} : { transpose }),
    ...(rows === undefined ? {} : { rows }),
  };
}

/** `program.parallel`: the branch names of a parallel(...) graph, distinct and non-empty. */
export function readParallel(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  const names = readArray(value, 'program.parallel').map((name, i) =>
    readString(name, `program.parallel[${i}]`),
  );
  if (names.length === 0) fail('program.parallel', 'must name at least one branch');
  names.forEach((name, i) => {
    if (name === '' || names.indexOf(name) !== i)
      fail(`program.parallel[${i}]`, name === '' ? 'is empty' : `repeats '${name}'`);
  });
  return names;
}

/**
 * A parallel(...) graph's outputs: per branch NAME, `last_hidden_state.NAME` (`hidden_states.NAME`
 * for a hidden-state program) and optionally `logits.NAME`, f32 with the batch axis first; no
 * other output, and no one head for the whole program.
 */
export function checkParallelOutputs(
  outputs: readonly IoSpec[],
  hidden: number,
  text: ProgramText | undefined,
  branches: readonly string[],
): void {
  if (text?.head)
    fail('program.model.text.head', 'a parallel(...) program has a head per branch, not one');
  const main = text ? 'last_hidden_state' : 'hidden_states';
  for (const name of branches) requireOutput(outputs, `${main}.${name}`, ['B', 'T', hidden]);
  outputs.forEach((output, i) => {
    const [kind, ...rest] = output.name.split('.');
    const branch = rest.join('.');
    if (kind === main && branches.includes(branch)) return;
    if (kind !== 'logits' || !branches.includes(branch))
      fail(
        `program.outputs[${i}].name`,
        `'${output.name}' is not an output of a parallel(...) program (${main}.NAME, logits.NAME)`,
      );
    if (output.dtype !== 'f32' || output.shape[0] !== 'B')
      fail(`program.outputs[${i}]`, 'must be f32 with the batch axis first');
  });
}
