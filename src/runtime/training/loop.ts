import { ArgumentError } from '../errors.js';
import { requireCount, requireSeed } from '../guards.js';
import type { Program } from '../program.js';
import type { StepSettings, TrainingBackend } from './backend.js';
import { batchLines, makeBatch } from './batch.js';
import type { EncodedData } from './encode.js';
import { TrainingError } from './errors.js';
import { evaluateData, type Evaluation } from './evaluate.js';
import { BatchOrder, stepsPerEpoch } from './order.js';
import { learningRate, type Schedule } from './schedule.js';

/** AdamW's settings besides the learning rate, which the schedule gives per step. */
export type OptimizerSettings = Omit<StepSettings, 'lr'>;

/** The AdapterHub defaults `adapt train` uses: `torch.optim.AdamW`'s betas and eps, no decay. */
export const TRAIN_DEFAULTS = {
  lr: 1e-4,
  batch: 8,
  weightDecay: 0,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
} as const;

export interface TrainOptions {
  /** The program the backend trains, to make its batches. */
  readonly program: Program;
  readonly data: EncodedData;
  /** Evaluated after each epoch and at the end. */
  readonly eval?: EncodedData;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly seed: number;
  /** Its `totalSteps` is where training ends. */
  readonly schedule: Schedule;
  readonly optimizer: OptimizerSettings;
  /** The steps already taken (resuming from a checkpoint): the next one is this. */
  readonly startStep?: number;
  /** Calls onCheckpoint after every this many steps (not after the last). */
  readonly checkpointEvery?: number;
}

export interface StepReport {
  /** Steps done, this one included (1-based). */
  readonly step: number;
  readonly totalSteps: number;
  /** The epoch this step belongs to, from 1. */
  readonly epoch: number;
  readonly loss: number;
  readonly lr: number;
}

export interface EvaluationReport extends Evaluation {
  /** Steps done when it was taken. */
  readonly step: number;
  /** The epoch just finished (a fraction at the end of a run mid-epoch). */
  readonly epoch: number;
}

export interface TrainCallbacks {
  readonly onStep?: (report: StepReport) => void | Promise<void>;
  readonly onEvaluation?: (report: EvaluationReport) => void | Promise<void>;
  /** After `step` steps, every `checkpointEvery`: where the caller saves the state. */
  readonly onCheckpoint?: (step: number) => void | Promise<void>;
  /** Asked before each step; true ends the run there (a stop button). */
  readonly shouldStop?: () => boolean;
}

export interface TrainResult {
  /** Steps done in all, those before a resume included. */
  readonly steps: number;
  /** The loss of each step this run took. */
  readonly losses: readonly number[];
  readonly evaluations: readonly EvaluationReport[];
}

/**
 * Trains: step k (0-based) takes the rows `BatchOrder` gives it, at the schedule's learning rate
 * for k, on the backend. A loss that is not finite stops the run with a TrainingError naming the
 * step and the rows' lines. Runs in a browser as in Node.
 */
export async function train(
  backend: TrainingBackend,
  options: TrainOptions,
  callbacks: TrainCallbacks = {},
): Promise<TrainResult> {
  const { program, data, schedule, batchSize } = options;
  requireCount(batchSize, 'batchSize');
  requireSeed(options.seed);
  requireCount(schedule.totalSteps, 'schedule.totalSteps');
  const start = options.startStep ?? 0;
  if (!Number.isSafeInteger(start) || start < 0 || start > schedule.totalSteps)
    throw new ArgumentError(`startStep must be in 0..${schedule.totalSteps}, got ${start}`);
  const order = new BatchOrder({
    rows: data.rows.length,
    batch: batchSize,
    shuffle: options.shuffle,
    seed: options.seed,
  });
  const perEpoch = stepsPerEpoch({ rows: data.rows.length, batch: batchSize });
  const classes = classesOf(program);
  const losses: number[] = [];
  const evaluations: EvaluationReport[] = [];
  const evaluate = async (step: number) => {
    if (!options.eval) return;
    const evaluation = await evaluateData(backend, program, options.eval, batchSize, classes);
    const report = { ...evaluation, step, epoch: step / perEpoch };
    evaluations.push(report);
    await callbacks.onEvaluation?.(report);
  };

  let step = start;
  while (step < schedule.totalSteps && !callbacks.shouldStop?.()) {
    const indices = order.rowsOfStep(step);
    const lr = learningRate(schedule, step);
    const { loss } = await backend.step(makeBatch(program, data, indices), {
      ...options.optimizer,
      lr,
      step,
    });
    if (!Number.isFinite(loss)) throw nonFiniteLoss(data, indices, step, loss);
    losses.push(loss);
    step++;
    await callbacks.onStep?.({
      step,
      totalSteps: schedule.totalSteps,
      epoch: Math.floor((step - 1) / perEpoch) + 1,
      loss,
      lr,
    });
    if (step % perEpoch === 0) await evaluate(step);
    const every = options.checkpointEvery;
    if (every && step % every === 0 && step < schedule.totalSteps)
      await callbacks.onCheckpoint?.(step);
  }
  if (step % perEpoch !== 0 || step === start) await evaluate(step);
  return { steps: step, losses, evaluations };
}

function classesOf(program: Program): number {
  const labels = program.model.text?.head?.labels.length;
  if (!labels) throw new ArgumentError(`graph '${program.graph}' has no labelled head to train`);
  return labels;
}

function nonFiniteLoss(
  data: EncodedData,
  indices: readonly number[],
  step: number,
  loss: number,
): TrainingError {
  const lines = batchLines(data, indices);
  const rows = ranges(indices.map((i) => i + 1));
  return new TrainingError(
    `${data.file}:${lines[0]}`,
    `step ${step + 1}: the loss is ${loss}, on rows ${rows} (lines ${ranges(lines)}); training stopped there`,
  );
}

/** 3, 4, 5, 9 → "3..5, 9". */
function ranges(values: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < values.length;) {
    let j = i;
    while (j + 1 < values.length && values[j + 1] === values[j]! + 1) j++;
    parts.push(j > i ? `${values[i]}..${values[j]}` : String(values[i]));
    i = j + 1;
  }
  return parts.join(', ');
}
