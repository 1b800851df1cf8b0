import { InputError } from './errors.js';
import { describeValue, isRecord } from './guards.js';
import { elementCount, showShape, type HostTensor } from './tensor.js';

/** The dtypes a tensor from a file may carry, by kind. */
export const FLOAT_DTYPES: readonly string[] = ['F32', 'F16', 'BF16'];
export const INTEGER_DTYPES: readonly string[] = [
  'I8',
  'I16',
  'I32',
  'I64',
  'U8',
  'U16',
  'U32',
  'U64',
];

type NumberArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | Uint8Array
  | Uint8ClampedArray
  | Uint16Array
  | Uint32Array;

const INTEGER_ARRAYS = [
  Int8Array,
  Int16Array,
  Int32Array,
  Uint8Array,
  Uint8ClampedArray,
  Uint16Array,
  Uint32Array,
];
const FLOAT_ARRAYS = [Float32Array, Float64Array];

export interface CheckedTensor {
  readonly data: NumberArray;
  readonly shape: readonly number[];
  readonly dtype: string | undefined;
  /** Whether the values are floating point (by the dtype when given, else by the array type). */
  readonly float: boolean;
}

/**
 * Checks that a value given as the tensor `name` is one: an object with a typed array of
 * numbers as `data`, a shape of non-negative integers that the data fills exactly, and a known
 * dtype if any. Every problem is an InputError starting `tensor 'NAME': `.
 */
export function checkHostTensor(name: string, value: unknown): CheckedTensor {
  const fail = (why: string): never => {
    throw new InputError(`tensor '${name}': ${why}`);
  };
  if (!isRecord(value))
    return fail(`must be an object { data, shape }, got ${describeValue(value)}`);
  const { data, shape, dtype } = value as Partial<HostTensor> & Record<string, unknown>;
  const isFloatArray = FLOAT_ARRAYS.some((type) => data instanceof type);
  if (!isFloatArray && !INTEGER_ARRAYS.some((type) => data instanceof type)) {
    fail(`data must be a typed array such as a Float32Array, got ${describeValue(data)}`);
  }
  if (!Array.isArray(shape)) return fail(`shape must be an array, got ${describeValue(shape)}`);
  shape.forEach((dim: unknown, i) => {
    if (!(typeof dim === 'number' && Number.isSafeInteger(dim) && dim >= 0))
      fail(`shape[${i}] must be a non-negative integer, got ${describeValue(dim)}`);
  });
  if (dtype !== undefined && !FLOAT_DTYPES.includes(dtype) && !INTEGER_DTYPES.includes(dtype)) {
    fail(`unknown dtype ${describeValue(dtype)}`);
  }
  const array = data as NumberArray;
  const count = elementCount(shape as number[]);
  if (count !== array.length) fail(`has ${array.length} values for shape ${showShape(shape)}`);
  return {
    data: array,
    shape: shape as number[],
    dtype,
    float: dtype === undefined ? isFloatArray : FLOAT_DTYPES.includes(dtype),
  };
}
