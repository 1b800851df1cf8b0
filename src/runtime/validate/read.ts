import { ProgramError } from '../errors.js';
import { describeValue, isRecord } from '../guards.js';
import type { Dim } from '../program.js';

/**
 * Typed reads from untrusted program JSON. Each takes the value and its path in the program
 * (`program.nodes[12].inputs[1]`) and throws a ProgramError naming that path when the value is
 * not what it must be.
 */

export function fail(path: string, why: string): never {
  throw new ProgramError(`${path}: ${why}`);
}

export function readObject(value: unknown, path: string): Record<string, unknown> {
  if (!isRecord(value)) fail(path, `must be an object, got ${describeValue(value)}`);
  return value;
}

/** An own field: inherited properties such as `constructor` never count as present. */
export function field(object: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

export function readArray(value: unknown, path: string): readonly unknown[] {
  if (!Array.isArray(value)) fail(path, `must be an array, got ${describeValue(value)}`);
  // A copy without holes: map() and forEach() skip the holes of a sparse array.
  return Array.from(value as unknown[]);
}

export function readString(value: unknown, path: string): string {
  if (typeof value !== 'string') fail(path, `must be a string, got ${describeValue(value)}`);
  return value;
}

export function readBoolean(value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') fail(path, `must be true or false, got ${describeValue(value)}`);
  return value;
}

export function readNumber(value: unknown, path: string, min = -Infinity): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    const range = min === -Infinity ? 'a finite number' : `a finite number of at least ${min}`;
    fail(path, `must be ${range}, got ${describeValue(value)}`);
  }
  return value;
}

export function readInteger(
  value: unknown,
  path: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `in ${min}..${max}`;
    fail(path, `must be an integer ${range}, got ${describeValue(value)}`);
  }
  return value;
}

/** A reference into a list: `what` is its items' name, e.g. 'kernel'. */
export function readIndex(value: unknown, path: string, count: number, what: string): number {
  const index = readInteger(value, path, 0);
  if (index >= count)
    fail(path, `refers to ${what} ${index}; there are ${count} (0..${count - 1})`);
  return index;
}

export function readOneOf<T extends string>(
  value: unknown,
  path: string,
  options: readonly T[],
): T {
  if (!options.includes(value as T)) {
    fail(path, `must be ${options.map((o) => `'${o}'`).join(' or ')}, got ${describeValue(value)}`);
  }
  return value as T;
}

/** A shape in the program: dims of at least 1, or the symbols B and T. */
export function readShape(value: unknown, path: string, symbols = true): Dim[] {
  return readArray(value, path).map((dim, i) => {
    if (symbols && (dim === 'B' || dim === 'T')) return dim;
    return readInteger(dim, `${path}[${i}]`, 1);
  });
}

export function showShape(shape: readonly Dim[]): string {
  return `[${shape.join(', ')}]`;
}

export function sameShape(a: readonly Dim[], b: readonly Dim[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
