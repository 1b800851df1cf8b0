import { AdaptRuntimeError, ArgumentError } from '../errors.js';

/** An optional run timeout in milliseconds: a positive number, or undefined for none. */
export function requireRunTimeout(value: unknown, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (!(typeof value === 'number' && value > 0 && !Number.isNaN(value))) {
    const shown = typeof value === 'number' ? String(value) : `a ${typeof value}`;
    throw new ArgumentError(`${what} must be a positive number of milliseconds, got ${shown}`);
  }
  return value;
}

/** 1 ms, 250 ms, 5 s, 1.5 s: how a timeout reads in a message. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Number(ms.toPrecision(3))} ms`;
  return `${Number((ms / 1000).toPrecision(3))} s`;
}

/**
 * `work`, or a rejection with the error `late()` gives if it has not settled after `ms`. The work
 * itself carries on; only the caller stops waiting for it.
 */
export function withDeadline<T>(
  work: Promise<T>,
  ms: number | undefined,
  late: () => AdaptRuntimeError,
): Promise<T> {
  if (ms === undefined || ms === Infinity) return work;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(late()), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
