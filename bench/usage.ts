/** A command line a benchmark cannot run with; its entry point exits with status 2. */
export class UsageError extends Error {}

/** `--name`'s integer value, at least `least`. */
export function count(name: string, text: string, least: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < least)
    throw new UsageError(`--${name} must be an integer of at least ${least}, got '${text}'`);
  return value;
}
