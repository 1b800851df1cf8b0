import {
  adamwState,
  adamwStep,
  backwardFrom,
  crossEntropy,
  forward64,
} from '../../src/runtime/cpu/backward/index.js';
import type { PreparedInputs } from '../../src/runtime/inputs.js';
import type { Program } from '../../src/runtime/program.js';
import { IGNORED_LABEL, type StepSettings } from '../../src/runtime/training/backend.js';
import { dropoutSites, type DropoutSettings } from '../../src/runtime/training/dropout/sites.js';

export interface ReferenceRun {
  /** The loss of each step, before its update. */
  readonly losses: number[];
  /** dLoss/dWeight of the first step. */
  readonly gradients: ReadonlyMap<string, Float64Array>;
  /** The trained weights after every step (f32, as the runtime holds them). */
  readonly weights: ReadonlyMap<string, Float32Array>;
}

/**
 * `steps` training steps of the CPU reference on one batch: forward64 (dropping step k's masks
 * with `dropout`), crossEntropy over the labels that are not IGNORED_LABEL, backwardFrom,
 * adamwStep.
 */
export function referenceSteps(
  program: Program,
  weights: ReadonlyMap<string, Float32Array>,
  inputs: PreparedInputs,
  labels: Int32Array,
  trained: readonly string[],
  output: string,
  settings: StepSettings,
  steps: number,
  dropout?: DropoutSettings,
): ReferenceRun {
  const sites = dropout ? dropoutSites(program) : [];
  const own = new Map(weights);
  for (const name of trained) own.set(name, Float32Array.from(weights.get(name)!));
  const states = new Map(trained.map((name) => [name, adamwState(own.get(name)!.length)]));
  const losses: number[] = [];
  let first: ReadonlyMap<string, Float64Array> | undefined;
  for (let step = 0; step < steps; step++) {
    const forward = forward64(
      program,
      own,
      inputs,
      dropout ? { sites, settings: dropout, step } : undefined,
    );
    const logits = forward.outputs[output]!;
    const classes = logits.shape[logits.shape.length - 1]!;
    const { loss, gradient } = crossEntropy(logits.data, classes, labels, {
      ignoreIndex: IGNORED_LABEL,
    });
    losses.push(loss);
    const gradients = backwardFrom(program, forward, { output, gradient }, trained);
    first ??= gradients;
    for (const name of trained)
      adamwStep(own.get(name)!, gradients.get(name)!, states.get(name)!, settings);
  }
  return {
    losses,
    gradients: first!,
    weights: new Map(trained.map((name) => [name, own.get(name)!])),
  };
}

export function norm(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]! * values[i]!;
  return Math.sqrt(sum);
}

/** ‖a − b‖₂, in f64. */
export function distance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(sum);
}
