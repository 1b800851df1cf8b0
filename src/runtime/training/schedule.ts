/**
 * The learning rate of each step, as transformers' schedules (`optimization.py`) drive a
 * `torch.optim.lr_scheduler.LambdaLR`: step k (0-based, the k-th optimizer step) runs at
 * lr · λ(k), the scheduler stepped after each optimizer step.
 *
 * - `constant`: `get_constant_schedule_with_warmup`, λ(k) = k / max(1, W) while k < W, else 1
 *   (with W = 0, `get_constant_schedule`: 1).
 * - `linear`: `get_linear_schedule_with_warmup`, λ(k) = k / max(1, W) while k < W, else
 *   max(0, (N − k) / max(1, N − W)), N the total steps.
 *
 * With warm-up, step 0 runs at lr 0, as in transformers.
 */
export type ScheduleKind = 'constant' | 'linear';

export interface Schedule {
  readonly kind: ScheduleKind;
  readonly lr: number;
  readonly warmupSteps: number;
  readonly totalSteps: number;
}

export function scheduleFactor(schedule: Omit<Schedule, 'lr'>, step: number): number {
  const { warmupSteps: w, totalSteps: n } = schedule;
  if (step < w) return step / Math.max(1, w);
  if (schedule.kind === 'constant') return 1;
  return Math.max(0, (n - step) / Math.max(1, n - w));
}

export function learningRate(schedule: Schedule, step: number): number {
  return schedule.lr * scheduleFactor(schedule, step);
}
