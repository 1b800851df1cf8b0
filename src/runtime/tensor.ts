import type { Dim } from './program.js';

/** A tensor passed to or returned from the runtime: row-major data and its shape. */
export interface HostTensor {
  readonly data: Float32Array | Int32Array | Uint8Array;
  readonly shape: readonly number[];
  /**
   * The dtype it was stored as, when it comes from a file (safetensors names: F32, F16, I64, …);
   * F16 and BF16 arrive as a Float32Array, the integer dtypes as an Int32Array or Uint8Array.
   */
  readonly dtype?: string;
}

/**
 * The most elements one typed array may hold in Node 20 (V8 11): `new Float32Array(2 ** 32)`
 * is accepted, `2 ** 32 + 1` throws "Invalid typed array length". Browsers allow no more.
 */
export const MAX_TENSOR_ELEMENTS = 2 ** 32;

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

/** A program shape with the batch size `B` and sequence length `T` bound. */
export function resolveShape(shape: readonly Dim[], batch: number, seq: number): number[] {
  return shape.map((d) => (d === 'B' ? batch : d === 'T' ? seq : d));
}

export const showShape = (shape: readonly (number | string)[]) => `[${shape.join(', ')}]`;

/** The first element that is NaN or ±Infinity, as a phrase for a message; undefined if none. */
export function firstNonFinite(data: ArrayLike<number>): string | undefined {
  // x * 0 is ±0 for every finite x and NaN for NaN and ±Infinity, so a block of eight passes
  // with one comparison; only a block that fails is searched element by element.
  const whole = data.length - (data.length % 8);
  for (let i = 0; i < whole; i += 8) {
    const block =
      data[i]! * 0 +
      data[i + 1]! * 0 +
      data[i + 2]! * 0 +
      data[i + 3]! * 0 +
      data[i + 4]! * 0 +
      data[i + 5]! * 0 +
      data[i + 6]! * 0 +
      data[i + 7]! * 0;
    if (block !== 0) return firstNonFiniteIn(data, i, i + 8);
  }
  return firstNonFiniteIn(data, whole, data.length);
}

function firstNonFiniteIn(data: ArrayLike<number>, from: number, to: number): string | undefined {
  for (let i = from; i < to; i++) {
    const value = data[i]!;
    if (value - value !== 0) return `element ${i} is ${value}`;
  }
  return undefined;
}
