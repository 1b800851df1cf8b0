import { describe, expect, it } from 'vitest';
import { learningRate, scheduleFactor } from '../../src/runtime/training/schedule.js';

/**
 * transformers' optimization.py, as its lr_lambda closures compute, in Python's float arithmetic:
 * get_linear_schedule_with_warmup and get_constant_schedule_with_warmup.
 */
const linear = (step: number, warmup: number, total: number) =>
  step < warmup
    ? step / Math.max(1, warmup)
    : Math.max(0, (total - step) / Math.max(1, total - warmup));
const constant = (step: number, warmup: number) => (step < warmup ? step / Math.max(1, warmup) : 1);

describe('the learning-rate schedule', () => {
  it('is constant without warm-up', () => {
    for (const step of [0, 1, 5, 99])
      expect(
        learningRate({ kind: 'constant', lr: 1e-4, warmupSteps: 0, totalSteps: 100 }, step),
      ).toBe(1e-4);
  });

  it('warms up linearly from 0, then stays (constant_with_warmup)', () => {
    const schedule = { kind: 'constant', warmupSteps: 4, totalSteps: 10 } as const;
    expect([0, 1, 2, 3, 4, 9].map((k) => scheduleFactor(schedule, k))).toEqual([
      0, 0.25, 0.5, 0.75, 1, 1,
    ]);
    for (let k = 0; k < 10; k++) expect(scheduleFactor(schedule, k)).toBe(constant(k, 4));
  });

  it('decays linearly to 0 after the warm-up (get_linear_schedule_with_warmup)', () => {
    const schedule = { kind: 'linear', warmupSteps: 2, totalSteps: 10 } as const;
    expect([0, 1, 2, 3, 6, 9, 10].map((k) => scheduleFactor(schedule, k))).toEqual([
      0,
      0.5,
      1,
      7 / 8,
      4 / 8,
      1 / 8,
      0,
    ]);
    for (const [w, n] of [
      [0, 7],
      [3, 3],
      [5, 12],
    ] as const)
      for (let k = 0; k <= n + 1; k++)
        expect(scheduleFactor({ kind: 'linear', warmupSteps: w, totalSteps: n }, k)).toBe(
          linear(k, w, n),
        );
    expect(learningRate({ kind: 'linear', lr: 2e-3, warmupSteps: 0, totalSteps: 4 }, 1)).toBe(
      2e-3 * 0.75,
    );
  });
});
