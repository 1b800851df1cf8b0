import { ArgumentError, InputError } from './errors.js';
import {
  describeValue,
  isRecord,
  readingCallerValues,
  requireCount,
  requireKnownKeys,
  requireLimit,
  requireSeed,
} from './guards.js';
import { checkHostTensor, type CheckedTensor } from './host-tensor.js';
import { assertFits, estimateInputs } from './memory.js';
import type { IoSpec, Program, ProgramText } from './program.js';
import { normalArray, seededUniform } from './random.js';
import { firstNonFinite, resolveShape, showShape, type HostTensor } from './tensor.js';
import { validateProgram } from './validate-program.js';

export { resolveShape };

/** A tensor of token ids: a HostTensor, or int64 ids as a BigInt64Array (PyTorch's dtype). */
export interface IdTensor {
  readonly data: Int32Array | BigInt64Array | Uint8Array | Uint16Array | Uint32Array;
  readonly shape: readonly number[];
  readonly dtype?: string;
}

/** The inputs of a program that reads hidden states. */
export interface RunInputs {
  readonly hidden_states: HostTensor;
  /** [B, T], 1 attend and 0 pad; all ones when absent. */
  readonly attention_mask?: HostTensor;
  /** [B], the branch of a batch(...) graph for each sequence. */
  readonly adapter_index?: HostTensor;
}

/** The inputs of a program read from a checkpoint, which takes token ids. */
export interface TextInputs {
  /** [B, T], each id in 0..vocab-1. */
  readonly input_ids: HostTensor | IdTensor;
  /** [B, T], 1 attend and 0 pad; all ones when absent. */
  readonly attention_mask?: HostTensor | IdTensor;
  /** [B, T], each in 0..typeVocab-1; zeros when absent. Only where the model has token types. */
  readonly token_type_ids?: HostTensor | IdTensor;
  /** [B, T]; computed from input_ids by the program's position rule when absent. */
  readonly position_ids?: HostTensor | IdTensor;
  readonly adapter_index?: HostTensor;
  readonly hidden_states?: undefined;
}

/** What `run` takes: hidden states, or token ids for a program read from a checkpoint. */
export type ModelInputs = RunInputs | TextInputs;

export interface RunOptions {
  /** Accept NaN and ±Infinity in hidden_states (by default they are an InputError). */
  readonly allowNonFinite?: boolean;
}

/** Validated inputs with the symbolic sizes bound. */
export interface PreparedInputs {
  readonly batch: number;
  readonly seq: number;
  readonly values: ReadonlyMap<string, Float32Array | Int32Array>;
}

function readRunOptions(options: unknown): RunOptions {
  if (options === undefined) return {};
  if (!isRecord(options))
    throw new ArgumentError(`run options must be an object, got ${describeValue(options)}`);
  requireKnownKeys(options, ['allowNonFinite'], 'run options');
  const allow = options.allowNonFinite;
  if (allow !== undefined && typeof allow !== 'boolean') {
    throw new ArgumentError(`allowNonFinite must be true or false, got ${describeValue(allow)}`);
  }
  return allow === undefined ? {} : { allowNonFinite: allow };
}

function hiddenStates(tensor: CheckedTensor, options: RunOptions): Float32Array {
  if (!tensor.float) {
    throw new InputError(
      `tensor 'hidden_states': has dtype ${tensor.dtype ?? tensor.data.constructor.name}; hidden states must be floating point (F32, F16 or BF16)`,
    );
  }
  const values = Float32Array.from(tensor.data);
  const bad = options.allowNonFinite ? undefined : firstNonFinite(values);
  if (bad) throw new InputError(`tensor 'hidden_states': ${bad}`);
  return values;
}

function integers(name: string, tensor: CheckedTensor): Int32Array {
  if (tensor.float) {
    throw new InputError(
      `tensor '${name}': has dtype ${tensor.dtype ?? tensor.data.constructor.name}; it must have an integer dtype (I8..I64, U8..U64)`,
    );
  }
  const out = new Int32Array(tensor.data.length);
  for (let i = 0; i < out.length; i++) {
    const value = tensor.data[i]!;
    if (value !== (value | 0))
      throw new InputError(`tensor '${name}': element ${i} is ${value}; it does not fit in int32`);
    out[i] = value;
  }
  return out;
}

/** 0 and 1 of any dtype: masks come as integers or as floats. */
function attentionMask(tensor: CheckedTensor): Int32Array {
  const out = new Int32Array(tensor.data.length);
  for (let i = 0; i < out.length; i++) {
    const value = tensor.data[i]!;
    if (value !== 0 && value !== 1) {
      throw new InputError(
        `tensor 'attention_mask': element ${i} is ${value}; a mask holds only 0 (pad) and 1 (attend)`,
      );
    }
    out[i] = value;
  }
  return out;
}

function checkIndex(program: Program, index: Int32Array): void {
  const branches = program.branches ?? 0;
  index.forEach((value, b) => {
    if (value < 0 || value >= branches) {
      throw new InputError(
        `tensor 'adapter_index': element ${b} is ${value}; graph '${program.graph}' has ${branches} branches (0..${branches - 1})`,
      );
    }
  });
}

/**
 * int64 ids as PyTorch hands them over, narrowed to int32 with a range check; anything else is
 * checked by checkHostTensor.
 */
function narrowInt64(name: string, value: unknown): unknown {
  if (!isRecord(value) || !(value.data instanceof BigInt64Array)) return value;
  const wide = value.data;
  const data = new Int32Array(wide.length);
  for (let i = 0; i < wide.length; i++) {
    const item = wide[i]!;
    if (item !== BigInt.asIntN(32, item))
      throw new InputError(`tensor '${name}': element ${i} is ${item}; it does not fit in int32`);
    data[i] = Number(item);
  }
  return { ...value, data, dtype: 'I64' };
}

function convert(spec: IoSpec, tensor: CheckedTensor, options: RunOptions) {
  if (spec.name === 'hidden_states') return hiddenStates(tensor, options);
  if (spec.name === 'attention_mask') return attentionMask(tensor);
  return integers(spec.name, tensor);
}

/** `[b, t]` of a flat index into a [B, T] tensor. */
const at = (i: number, seq: number) => `[${Math.floor(i / seq)}, ${i % seq}]`;

/** Every value in 0..count-1; the first that is not is named by its position. */
function checkRange(name: string, values: Int32Array, seq: number, count: number, what: string) {
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    if (value >= 0 && value < count) continue;
    const where = `tensor '${name}': ${name}${at(i, seq)}`;
    const range = count === 1 ? '0' : `0..${count - 1}`;
    throw new InputError(
      `${where}: ${value} is ${value < 0 ? 'below' : 'past'} the ${what} (${range})`,
    );
  }
}

/**
 * Position ids where none are given. `absolute`: 0..T-1 in every row. `after-padding`
 * (RoBERTa): with mask = id != padId, cumsum(mask) · mask + padId along each row, as Hugging
 * Face's `create_position_ids_from_input_ids` computes them, so padding keeps padId and the
 * other tokens count from padId + 1 whichever side the padding is on.
 */
export function positionIds(text: ProgramText, ids: Int32Array, seq: number): Int32Array {
  const out = new Int32Array(ids.length);
  const pad = text.padId ?? 0;
  for (let row = 0; row < ids.length; row += seq) {
    let count = 0;
    for (let t = 0; t < seq; t++) {
      if (text.positions === 'absolute') {
        out[row + t] = t;
        continue;
      }
      const real = ids[row + t] !== pad ? 1 : 0;
      count += real;
      out[row + t] = count * real + pad;
    }
  }
  return out;
}

/** The most tokens a sequence may have: every position id must have an embedding. */
export function maxTokens(text: ProgramText): number {
  return text.positions === 'absolute'
    ? text.maxPositions
    : Math.max(0, text.maxPositions - (text.padId ?? 0) - 1);
}

/** Ids within the vocabularies, positions given or computed, and the defaults of a text program. */
function checkText(
  text: ProgramText,
  values: Map<string, Float32Array | Int32Array>,
  program: Program,
  seq: number,
): void {
  const ids = values.get('input_ids') as Int32Array;
  checkRange('input_ids', ids, seq, text.vocab, 'vocabulary');
  const listed = new Set(program.inputs.map((io) => io.name));
  if (listed.has('token_type_ids')) {
    const types = values.get('token_type_ids') as Int32Array | undefined;
    if (types) checkRange('token_type_ids', types, seq, text.typeVocab, 'token types');
    else values.set('token_type_ids', new Int32Array(ids.length));
  }
  if (!listed.has('position_ids')) return;
  const given = values.get('position_ids') as Int32Array | undefined;
  if (given) checkRange('position_ids', given, seq, text.maxPositions, 'positions');
  else values.set('position_ids', positionIds(text, ids, seq));
}

/** The batch and sequence size from the input that carries them, checked against the program. */
function runSize(program: Program, given: Record<string, unknown>) {
  const text = program.model.text;
  const name = text ? 'input_ids' : 'hidden_states';
  if (given[name] === undefined) throw new InputError(`the input '${name}' is required`);
  const main = checkHostTensor(name, narrowInt64(name, given[name]));
  const d = program.model.hidden;
  const rank = text ? 2 : 3;
  if (main.shape.length !== rank || (!text && main.shape[2] !== d)) {
    throw new InputError(
      `tensor '${name}': shape must be ${text ? '[B, T]' : `[B, T, ${d}]`}, got ${showShape(main.shape)}`,
    );
  }
  const [batch, seq] = main.shape as [number, number];
  if (!(batch >= 1 && seq >= 1))
    throw new InputError(`tensor '${name}': shape ${showShape(main.shape)} is empty`);
  if (text && seq > maxTokens(text)) {
    throw new InputError(
      `tensor 'input_ids': ${seq} tokens per sequence; this model takes at most ${maxTokens(text)} (${text.maxPositions} positions)`,
    );
  }
  return { name, main, batch, seq };
}

/**
 * Checks run inputs against the program: names, shapes, dtypes and values (finite hidden
 * states, a mask of 0 and 1, adapter indices in range; for a text program ids within the
 * vocabularies and the positions, position ids computed where absent). Every input error starts with
 * `tensor 'NAME': `, so a caller can put the file in front.
 */
export function prepareInputs(
  programValue: Program,
  inputs: ModelInputs,
  runOptions?: RunOptions,
): PreparedInputs {
  const program = validateProgram(programValue);
  return readingCallerValues(
    () => checkInputs(program, inputs, readRunOptions(runOptions)),
    (why) => new ArgumentError(`the run's inputs or options: ${why}`),
  );
}

function checkInputs(program: Program, inputs: ModelInputs, options: RunOptions): PreparedInputs {
  if (!isRecord(inputs)) {
    const example = program.model.text
      ? '{ input_ids: { data, shape } }'
      : '{ hidden_states: { data, shape } }';
    throw new ArgumentError(
      `inputs must be an object such as ${example}, got ${describeValue(inputs)}`,
    );
  }
  const given = inputs as Record<string, unknown>;
  const known = new Set(program.inputs.map((i) => i.name));
  for (const name of Object.keys(given)) {
    if (given[name] !== undefined && !known.has(name)) {
      throw new InputError(
        `unknown input '${name}'; this program takes ${[...known].map((n) => `'${n}'`).join(', ')}`,
      );
    }
  }
  const { name: mainName, main, batch, seq } = runSize(program, given);
  const values = new Map<string, Float32Array | Int32Array>();
  for (const spec of program.inputs) {
    const shape = resolveShape(spec.shape, batch, seq);
    if (given[spec.name] === undefined) {
      if (spec.name === 'attention_mask')
        values.set(spec.name, new Int32Array(batch * seq).fill(1));
      else if (!DEFAULTED.includes(spec.name))
        throw new InputError(
          `the input '${spec.name}' ${showShape(shape)} is required by this graph`,
        );
      continue;
    }
    const tensor =
      spec.name === mainName
        ? main
        : checkHostTensor(spec.name, narrowInt64(spec.name, given[spec.name]));
    if (showShape(tensor.shape) !== showShape(shape)) {
      throw new InputError(
        `tensor '${spec.name}': shape must be ${showShape(shape)}, got ${showShape(tensor.shape)}`,
      );
    }
    values.set(spec.name, convert(spec, tensor, options));
  }
  if (program.model.text) checkText(program.model.text, values, program, seq);
  const index = values.get('adapter_index');
  if (index) checkIndex(program, index as Int32Array);
  return { batch, seq, values };
}

/** Inputs a text program may leave out: checkText fills them in. */
const DEFAULTED: readonly string[] = ['token_type_ids', 'position_ids'];

/**
 * Seeded N(0, 1) hidden states, or for a text program uniform token ids, of `batch` x `seq`
 * tokens; for a batch(...) graph, sequence b takes branch b mod k. What `adapt run`, `adapt bench` and the playground feed without an input.
 * Refuses, before allocating, inputs past `memoryLimitBytes` or larger than a typed array holds.
 */
export function randomInputs(
  programValue: Program,
  batch: number,
  seq: number,
  seed: number,
  options: { readonly memoryLimitBytes?: number } = {},
): ModelInputs {
  const program = validateProgram(programValue);
  requireCount(batch, 'batch');
  requireCount(seq, 'seq');
  requireSeed(seed);
  if (isRecord(options)) requireKnownKeys(options, ['memoryLimitBytes'], 'randomInputs options');
  const limit = requireLimit(
    isRecord(options) ? options.memoryLimitBytes : options,
    'memoryLimitBytes',
  );
  assertFits(
    `random inputs of batch ${batch}, seq ${seq}`,
    estimateInputs(program, { batch, seq }),
    limit,
  );
  const inputs = program.model.text
    ? randomIds(program.model.text, batch, seq, seed)
    : randomHiddenStates(program.model.hidden, batch, seq, seed);
  if (!program.branches) return inputs;
  const index = Int32Array.from({ length: batch }, (_, b) => b % program.branches!);
  return { ...inputs, adapter_index: { data: index, shape: [batch] } };
}

function randomHiddenStates(d: number, batch: number, seq: number, seed: number): RunInputs {
  return { hidden_states: { data: normalArray(batch * seq * d, seed), shape: [batch, seq, d] } };
}

/**
 * Uniform ids of the vocabulary other than the pad id, so that no token counts as padding and
 * every position is a real one.
 */
function randomIds(text: ProgramText, batch: number, seq: number, seed: number): TextInputs {
  const uniform = seededUniform(seed);
  const skip = text.vocab > 1 ? text.padId : undefined;
  const choices = skip === undefined ? text.vocab : text.vocab - 1;
  const data = new Int32Array(batch * seq);
  for (let i = 0; i < data.length; i++) {
    const id = Math.floor(uniform() * choices);
    data[i] = skip !== undefined && id >= skip ? id + 1 : id;
  }
  return { input_ids: { data, shape: [batch, seq] } };
}
