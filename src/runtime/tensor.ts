import type { Dim } from './program.js';

/** A tensor passed to or returned from the runtime: row-major data and its shape. */
export interface HostTensor {
  readonly data: Float32Array | Int32Array | Uint8Array;
  readonly shape: readonly number[];
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

/** A program shape with the batch size `B` and sequence length `T` bound. */
export function resolveShape(shape: readonly Dim[], batch: number, seq: number): number[] {
  return shape.map((d) => (d === 'B' ? batch : d === 'T' ? seq : d));
}
