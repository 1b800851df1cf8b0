import { InvalidArgumentError } from 'commander';
import { MAX_LAYERS } from '../compiler/index.js';

/** The integer range an option takes, and why it ends there when that is not obvious. */
export interface IntegerRange {
  readonly min: number;
  readonly max: number;
  readonly why?: string;
}

/** Seeds are 32-bit: the random streams take exactly 0..2^32−1 (src/runtime/random.ts). */
export const SEED_RANGE: IntegerRange = { min: 0, max: 2 ** 32 - 1, why: 'seeds are 32-bit' };

/** Batch and sequence sizes: far past any machine's memory, which is checked before a run. */
export const SIZE_RANGE: IntegerRange = { min: 1, max: 2 ** 31 - 1 };

/** --layers: as many as a spec may declare (docs/language.md §3.1). */
export const LAYERS_RANGE: IntegerRange = { min: 1, max: MAX_LAYERS };

export const RUNS_RANGE: IntegerRange = { min: 1, max: 1_000_000 };
export const WARMUP_RANGE: IntegerRange = { min: 0, max: 1_000_000 };
export const PORT_RANGE: IntegerRange = { min: 1, max: 65_535, why: 'ports are 16-bit' };

/** --top-k: labels per text; a language model's vocabulary is the most there can be. */
export const TOP_K_RANGE: IntegerRange = { min: 1, max: 1_000_000 };

/** Seconds a GPU run may take (--timeout): up to a day. */
export const TIMEOUT_RANGE: IntegerRange = { min: 1, max: 86_400 };

/**
 * A commander parser for a decimal integer in `range`: no sign, exponent, fraction or spaces,
 * and no silent wrap-around past the end of the range.
 */
export function integerIn(range: IntegerRange): (text: string) => number {
  const expected = `${range.min}..${range.max}${range.why ? ` (${range.why})` : ''}`;
  return (text) => {
    if (!/^\d+$/.test(text)) throw new InvalidArgumentError(`expected an integer in ${expected}`);
    const value = Number(text);
    if (value < range.min || value > range.max) {
      throw new InvalidArgumentError(`${text} is out of range: expected ${expected}`);
    }
    return value;
  };
}
