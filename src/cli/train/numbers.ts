import { InvalidArgumentError } from 'commander';

/** A decimal or exponent number (`1e-4`, `0.01`); no hex, no Infinity, nothing after it. */
const NUMBER = /^(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/** A commander parser for a finite number ≥ min (or > min where `above`), such as a rate. */
export function numberFrom(min: number, above = false, max = Infinity): (text: string) => number {
  const expected = `a number ${above ? '>' : '≥'} ${min}${max < Infinity ? ` and ≤ ${max}` : ''}`;
  return (text) => {
    if (!NUMBER.test(text)) throw new InvalidArgumentError(`expected ${expected}`);
    const value = Number(text);
    if (!Number.isFinite(value) || value < min || (above && value === min) || value > max)
      throw new InvalidArgumentError(`${text} is out of range: expected ${expected}`);
    return value;
  };
}

/** A commander parser for a probability that is not 1: a number ≥ 0 and < 1 (`--dropout`). */
export function probabilityBelowOne(text: string): number {
  const expected = 'a probability ≥ 0 and < 1';
  if (!NUMBER.test(text)) throw new InvalidArgumentError(`expected ${expected}`);
  const value = Number(text);
  if (!(value >= 0 && value < 1))
    throw new InvalidArgumentError(`${text} is out of range: expected ${expected}`);
  return value;
}
