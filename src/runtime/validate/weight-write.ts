import { ArgumentError } from '../errors.js';
import { describeValue } from '../guards.js';
import type { Program } from '../program.js';
import { elementCount, firstNonFinite } from '../tensor.js';

/**
 * Checks a writeWeights call against the program: a weight of its manifest, a Float32Array of
 * finite values, and elements [offset, offset + data.length) inside the weight. Returns the
 * weight's element count.
 */
export function checkWeightWrite(
  program: Program,
  name: unknown,
  offset: unknown,
  data: unknown,
): number {
  if (typeof name !== 'string')
    throw new ArgumentError(`writeWeights: the name must be a string, got ${describeValue(name)}`);
  const spec = program.weights.find((w) => w.name === name);
  if (!spec)
    throw new ArgumentError(`writeWeights: graph '${program.graph}' has no weight '${name}'`);
  if (!(data instanceof Float32Array))
    throw new ArgumentError(
      `writeWeights: weight '${name}': the data must be a Float32Array, got ${describeValue(data)}`,
    );
  const size = elementCount(spec.shape);
  if (
    typeof offset !== 'number' ||
    !Number.isSafeInteger(offset) ||
    offset < 0 ||
    offset + data.length > size
  )
    throw new ArgumentError(
      `writeWeights: weight '${name}' has ${size} elements; cannot write ${data.length} at offset ${describeValue(offset)}`,
    );
  const bad = firstNonFinite(data);
  if (bad) throw new ArgumentError(`writeWeights: weight '${name}': ${bad}`);
  return size;
}

/**
 * Weights as a model holds them: the caller's arrays until the first write to one, which
 * replaces it by a copy, so writes never change the caller's arrays.
 */
export class WritableWeights {
  private values: Map<string, Float32Array>;
  private readonly owned = new Set<string>();

  constructor(weights: ReadonlyMap<string, Float32Array>) {
    this.values = new Map(weights);
  }

  get map(): ReadonlyMap<string, Float32Array> {
    return this.values;
  }

  /** Writes `data` at `offset` of weight `name` (checked by checkWeightWrite). */
  write(name: string, offset: number, data: Float32Array): void {
    // A new map per write: values computed at load from the weights are cached per map.
    this.values = new Map(this.values);
    let values = this.values.get(name)!;
    if (!this.owned.has(name)) {
      values = values.slice();
      this.values.set(name, values);
      this.owned.add(name);
    }
    values.set(data, offset);
  }
}
