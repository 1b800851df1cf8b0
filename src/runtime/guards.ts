import { AdaptError, ArgumentError } from './errors.js';

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

/**
 * Runs `action`, which reads values the caller gave, and turns anything it throws that is not
 * the runtime's own error (a getter or proxy trap that throws, a structure nested past the
 * stack) into `wrap(message)`: the API throws only AdaptErrors.
 */
export function readingCallerValues<T>(action: () => T, wrap: (message: string) => AdaptError): T {
  try {
    return action();
  } catch (error) {
    if (error instanceof AdaptError) throw error;
    const message =
      error instanceof RangeError && /call stack/i.test(error.message)
        ? 'it is nested too deeply to read'
        : `reading it threw ${error instanceof Error ? `${error.name}: ${error.message}` : describeValue(error)}`;
    throw wrap(message);
  }
}

/** Refuses keys an options object does not take, so that a misspelled option is not ignored. */
export function requireKnownKeys(
  value: Record<string, unknown>,
  known: readonly string[],
  what: string,
): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key))
      throw new ArgumentError(
        `${what}: unknown option '${key}' (known: ${known.map((k) => `'${k}'`).join(', ')})`,
      );
  }
}

/** A run shape { batch, seq }: two integers of at least 1. */
export function requireRunShape(value: unknown, what: string): { batch: number; seq: number } {
  const shape = requireRecord(value, what);
  return {
    batch: requireCount(shape.batch, `${what}.batch`),
    seq: requireCount(shape.seq, `${what}.seq`),
  };
}
