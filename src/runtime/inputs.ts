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
import type { IoSpec, Program } from './program.js';
import { normalArray } from './random.js';
import { firstNonFinite, resolveShape, showShape, type HostTensor } from './tensor.js';
import { validateProgram } from './validate-program.js';

export { resolveShape };

export interface RunInputs {
  readonly hidden_states: HostTensor;
  /** [B, T], 1 attend and 0 pad; all ones when absent. */
  readonly attention_mask?: HostTensor;
  /** [B], the branch of a batch(...) graph for each sequence. */
  readonly adapter_index?: HostTensor;
}

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

function convert(spec: IoSpec, tensor: CheckedTensor, options: RunOptions) {
  if (spec.name === 'hidden_states') return hiddenStates(tensor, options);
  if (spec.name === 'attention_mask') return attentionMask(tensor);
  return integers(spec.name, tensor);
}

/**
 * Checks run inputs against the program: names, shapes, dtypes and values (finite hidden
 * states, a mask of 0 and 1, adapter indices in range). Every input error starts with
 * `tensor 'NAME': `, so a caller can put the file in front.
 */
export function prepareInputs(
  programValue: Program,
  inputs: RunInputs,
  runOptions?: RunOptions,
): PreparedInputs {
  const program = validateProgram(programValue);
  return readingCallerValues(
    () => checkInputs(program, inputs, readRunOptions(runOptions)),
    (why) => new ArgumentError(`the run's inputs or options: ${why}`),
  );
}

function checkInputs(program: Program, inputs: RunInputs, options: RunOptions): PreparedInputs {
  if (!isRecord(inputs)) {
    throw new ArgumentError(
      `inputs must be an object such as { hidden_states: { data, shape } }, got ${describeValue(inputs)}`,
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
  if (given.hidden_states === undefined)
    throw new InputError("the input 'hidden_states' is required");
  const hidden = checkHostTensor('hidden_states', given.hidden_states);
  const d = program.model.hidden;
  if (hidden.shape.length !== 3 || hidden.shape[2] !== d) {
    throw new InputError(
      `tensor 'hidden_states': shape must be [B, T, ${d}], got ${showShape(hidden.shape)}`,
    );
  }
  const [batch, seq] = hidden.shape as [number, number, number];
  if (!(batch >= 1 && seq >= 1))
    throw new InputError(`tensor 'hidden_states': shape ${showShape(hidden.shape)} is empty`);
  const values = new Map<string, Float32Array | Int32Array>();
  for (const spec of program.inputs) {
    const shape = resolveShape(spec.shape, batch, seq);
    if (given[spec.name] === undefined) {
      if (spec.name !== 'attention_mask')
        throw new InputError(
          `the input '${spec.name}' ${showShape(shape)} is required by this graph`,
        );
      values.set(spec.name, new Int32Array(batch * seq).fill(1));
      continue;
    }
    const tensor =
      spec.name === 'hidden_states' ? hidden : checkHostTensor(spec.name, given[spec.name]);
    if (showShape(tensor.shape) !== showShape(shape)) {
      throw new InputError(
        `tensor '${spec.name}': shape must be ${showShape(shape)}, got ${showShape(tensor.shape)}`,
      );
    }
    values.set(spec.name, convert(spec, tensor, options));
  }
  const index = values.get('adapter_index');
  if (index) checkIndex(program, index as Int32Array);
  return { batch, seq, values };
}

/**
 * Seeded N(0, 1) hidden states of `batch` x `seq` tokens; for a batch(...) graph, sequence b
 * takes branch b mod k. What `adapt run`, `adapt bench` and the playground feed without an input.
 * Refuses, before allocating, inputs past `memoryLimitBytes` or larger than a typed array holds.
 */
export function randomInputs(
  programValue: Program,
  batch: number,
  seq: number,
  seed: number,
  options: { readonly memoryLimitBytes?: number } = {},
): RunInputs {
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
  const d = program.model.hidden;
  const inputs: RunInputs = {
    hidden_states: { data: normalArray(batch * seq * d, seed), shape: [batch, seq, d] },
  };
  if (!program.branches) return inputs;
  const index = Int32Array.from({ length: batch }, (_, b) => b % program.branches!);
  return { ...inputs, adapter_index: { data: index, shape: [batch] } };
}
