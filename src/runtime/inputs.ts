import { InputError } from './errors.js';
import { requireCount, requireLimit, requireSeed } from './guards.js';
import { assertFits, estimateInputs } from './memory.js';
import type { Program } from './program.js';
import { normalArray } from './random.js';
import { elementCount, resolveShape, type HostTensor } from './tensor.js';

export { resolveShape };

export interface RunInputs {
  readonly hidden_states: HostTensor;
  /** [B, T], 1 attend and 0 pad; all ones when absent. */
  readonly attention_mask?: HostTensor;
  /** [B], the branch of a batch(...) graph for each sequence. */
  readonly adapter_index?: HostTensor;
}

/** Validated inputs with the symbolic sizes bound. */
export interface PreparedInputs {
  readonly batch: number;
  readonly seq: number;
  readonly values: ReadonlyMap<string, Float32Array | Int32Array>;
}

const show = (shape: readonly number[]) => `[${shape.join(', ')}]`;

function toInt32(name: string, tensor: HostTensor): Int32Array {
  const out = new Int32Array(tensor.data.length);
  for (let i = 0; i < out.length; i++) {
    const value = tensor.data[i]!;
    if (!Number.isInteger(value))
      throw new InputError(`${name}[${i}] is ${value}; expected an integer`);
    out[i] = value;
  }
  return out;
}

/** Checks run inputs against the program: names, shapes, dtypes and value ranges. */
export function prepareInputs(program: Program, inputs: RunInputs): PreparedInputs {
  const given = inputs as unknown as Record<string, HostTensor | undefined>;
  const known = new Set(program.inputs.map((i) => i.name));
  for (const name of Object.keys(given)) {
    if (given[name] !== undefined && !known.has(name)) {
      throw new InputError(
        `unknown input '${name}'; this program takes ${[...known].map((n) => `'${n}'`).join(', ')}`,
      );
    }
  }
  const hidden = inputs.hidden_states;
  if (!hidden) throw new InputError("the input 'hidden_states' is required");
  const d = program.model.hidden;
  if (hidden.shape.length !== 3 || hidden.shape[2] !== d) {
    throw new InputError(`hidden_states must be [B, T, ${d}], got ${show(hidden.shape)}`);
  }
  const [batch, seq] = hidden.shape as [number, number, number];
  if (!(batch >= 1 && seq >= 1))
    throw new InputError(`hidden_states ${show(hidden.shape)} is empty`);
  const values = new Map<string, Float32Array | Int32Array>();
  for (const spec of program.inputs) {
    const tensor = given[spec.name];
    const shape = resolveShape(spec.shape, batch, seq);
    if (!tensor) {
      if (spec.name === 'attention_mask')
        values.set(spec.name, new Int32Array(batch * seq).fill(1));
      else
        throw new InputError(`the input '${spec.name}' ${show(shape)} is required by this graph`);
      continue;
    }
    if (show(tensor.shape) !== show(shape)) {
      throw new InputError(`${spec.name} must be ${show(shape)}, got ${show(tensor.shape)}`);
    }
    if (tensor.data.length !== elementCount(shape)) {
      throw new InputError(
        `${spec.name} has ${tensor.data.length} values for shape ${show(shape)}`,
      );
    }
    values.set(
      spec.name,
      spec.dtype === 'i32' ? toInt32(spec.name, tensor) : Float32Array.from(tensor.data),
    );
  }
  const index = values.get('adapter_index');
  if (index) {
    const branches = program.branches ?? 0;
    index.forEach((value, b) => {
      if (value < 0 || value >= branches) {
        throw new InputError(
          `adapter_index[${b}] is ${value}; graph '${program.graph}' has ${branches} branches (0..${branches - 1})`,
        );
      }
    });
  }
  return { batch, seq, values };
}

/**
 * Seeded N(0, 1) hidden states of `batch` x `seq` tokens; for a batch(...) graph, sequence b
 * takes branch b mod k. What `adapt run`, `adapt bench` and the playground feed without an input.
 * Refuses, before allocating, inputs past `memoryLimitBytes` or larger than a typed array holds.
 */
export function randomInputs(
  program: Program,
  batch: number,
  seq: number,
  seed: number,
  options: { readonly memoryLimitBytes?: number } = {},
): RunInputs {
  requireCount(batch, 'batch');
  requireCount(seq, 'seq');
  requireSeed(seed);
  const limit = requireLimit(options.memoryLimitBytes, 'memoryLimitBytes');
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
