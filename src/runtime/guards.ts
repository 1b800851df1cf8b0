import { ArgumentError } from './errors.js';

/**
 * Checks at the API boundary: an embedding app that passes the wrong kind of value gets an
 * ArgumentError naming the parameter, not a TypeError from deep inside.
 */

/** How a value looks in a message: its type, or the value itself when it is short. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 40))}`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'object') {
    const type = (Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null)
      ?.constructor?.name;
    return type && type !== 'Object' ? `a ${type}` : 'an object';
  }
  return `a ${typeof value}`;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function requireRecord(value: unknown, what: string): Record<string, unknown> {
  if (!isRecord(value))
    throw new ArgumentError(`${what} must be an object, got ${describeValue(value)}`);
  return value;
}

/** Seeds are 32-bit: the random streams take exactly 0..2^32−1 (random.ts). */
export function requireSeed(seed: unknown, what = 'seed'): number {
  if (!(typeof seed === 'number' && Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff)) {
    throw new ArgumentError(
      `${what} must be an integer in 0..4294967295, got ${describeValue(seed)}`,
    );
  }
  return seed;
}

/** A count such as a batch size: an integer of at least `min`. */
export function requireCount(value: unknown, what: string, min = 1): number {
  if (!(typeof value === 'number' && Number.isSafeInteger(value) && value >= min)) {
    throw new ArgumentError(
      `${what} must be an integer of at least ${min}, got ${describeValue(value)}`,
    );
  }
  return value;
}

/** An optional byte limit: a positive number, or undefined for none. */
export function requireLimit(value: unknown, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (!(typeof value === 'number' && value > 0 && !Number.isNaN(value))) {
    throw new ArgumentError(
      `${what} must be a positive number of bytes, got ${describeValue(value)}`,
    );
  }
  return value;
}
