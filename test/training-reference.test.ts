import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { adamwState, adamwStep } from '../src/runtime/cpu/backward/adamw.js';
import { crossEntropy } from '../src/runtime/cpu/backward/cross-entropy.js';
import { backwardFrom, forward64 } from '../src/runtime/cpu/backward/graph-backward.js';
import {
  createCpuTrainer,
  encodeTrainingData,
  IGNORED_LABEL,
  parseTrainingData,
  train,
  trainableWeights,
  trainingHead,
} from '../src/runtime/training/index.js';
import { relativeError } from './helpers/numerics.js';
import {
  caseDropout,
  loadTrainingCase,
  stepRows,
  TRAINING_CASES,
  type TrainingCase,
} from './helpers/training-cases.js';

/**
 * The CPU reference trains as PyTorch does (test/fixtures/training/, its generate.py): the same
 * starting directories, rows, batches and hyper-parameters; per step forward64, the mean
 * cross-entropy over the labels that are not -100, backwardFrom and AdamW. Held to PyTorch's
 * float64 training from the same float32 starting values.
 */
const GRADIENT_TOLERANCE = 1e-4;
const WEIGHT_TOLERANCE = 1e-4;
const LOSS_TOLERANCE = 1e-5;

interface Trained {
  readonly losses: number[];
  readonly gradients: ReadonlyMap<string, Float64Array>;
  readonly after: ReadonlyMap<string, Float32Array>;
}

/** The case's steps with the reference primitives, the trained tensors as f32 arrays. */
function trainOnCpu(c: TrainingCase): Trained {
  const weights = new Map(c.weights);
  for (const name of c.trained) weights.set(name, Float32Array.from(c.weights.get(name)!));
  const states = new Map(c.trained.map((name) => [name, adamwState(weights.get(name)!.length)]));
  const losses: number[] = [];
  let first: ReadonlyMap<string, Float64Array> | undefined;
  c.batches.forEach((batch, step) => {
    const forward = forward64(c.program, weights, batch.inputs, caseDropout(c, step));
    const { loss, gradient } = crossEntropy(
      forward.outputs[c.output]!.data,
      c.classes,
      batch.labels,
      {
        ignoreIndex: IGNORED_LABEL,
      },
    );
    losses.push(loss);
    const gradients = backwardFrom(c.program, forward, { output: c.output, gradient }, c.trained);
    first ??= gradients;
    for (const name of c.trained) {
      adamwStep(weights.get(name)!, gradients.get(name)!, states.get(name)!, c.settings[step]);
    }
  });
  return {
    losses,
    gradients: first!,
    after: new Map(c.trained.map((name) => [name, weights.get(name)!])),
  };
}

function norm(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]! ** 2;
  return Math.sqrt(sum);
}

describe.each(TRAINING_CASES)('training case %s against PyTorch', (name) => {
  const c = loadTrainingCase(name, { gpu: false });

  it('reads the batches PyTorch trained on', () => {
    expect(c.rows.length).toBe(5);
    expect(c.batches.map((_, k) => stepRows(k, c.config.batch, c.rows.length))).toEqual(
      c.config.rows_per_step,
    );
    c.batches.forEach((batch, k) => {
      const want = c.expected.batches[k]!;
      expect([batch.inputs.batch, batch.inputs.seq], `step ${k}`).toEqual(want.shape);
      for (const key of ['input_ids', 'attention_mask', 'token_type_ids'] as const) {
        expect(Array.from(batch.inputs.values.get(key)!), `step ${k} ${key}`).toEqual(
          Array.from(want[key]),
        );
      }
      expect(Array.from(batch.labels), `step ${k} labels`).toEqual(Array.from(want.labels));
    });
    // Padding is exercised: some batch has rows of different lengths.
    expect(c.expected.batches.some((b) => b.attention_mask.includes(0))).toBe(true);
    expect(c.trained.every((n) => c.program.weights.some((w) => w.name === n))).toBe(true);
  });

  it(`losses within ${LOSS_TOLERANCE}, gradients of step 0 and weights after step ${2} within ${GRADIENT_TOLERANCE} relative`, () => {
    const got = trainOnCpu(c);
    got.losses.forEach((loss, k) => {
      expect(Math.abs(loss - c.config.losses[k]!) / c.config.losses[k]!, `loss ${k}`).toBeLessThan(
        LOSS_TOLERANCE,
      );
    });
    const zero = new Set(c.config.zero_gradient);
    const largest = Math.max(...[...c.expected.gradients.values()].map(norm));
    for (const tensor of c.trained) {
      const gradient = got.gradients.get(tensor)!;
      const want = c.expected.gradients.get(tensor)!;
      if (zero.has(tensor)) {
        // Zero in exact arithmetic: both sides hold rounding only.
        expect(norm(gradient) / largest, `grad ${tensor}`).toBeLessThan(1e-10);
      } else {
        expect(relativeError(gradient, want), `grad ${tensor}`).toBeLessThan(GRADIENT_TOLERANCE);
      }
      expect(
        relativeError(got.after.get(tensor)!, c.expected.after.get(tensor)!),
        `after ${tensor}`,
      ).toBeLessThan(WEIGHT_TOLERANCE);
    }
  });
});

describe.each(TRAINING_CASES)('training case %s through the training loop on the CPU', (name) => {
  it('parses, encodes, orders and trains as PyTorch did', async () => {
    const c = loadTrainingCase(name, { gpu: false });
    const text = readFileSync(join(c.dir, c.config.data), 'utf8');
    const data = encodeTrainingData(
      parseTrainingData(text, c.config.data, trainingHead(c.program)),
      c.program.model.text!,
      c.tokenizer,
    );
    const target = c.config.train.adapter
      ? { adapter: c.config.train.adapter }
      : { fusion: c.config.train.fusion! };
    const trained = trainableWeights(c.program, target).names;
    expect([...trained].sort()).toEqual([...c.trained].sort());
    const backend = createCpuTrainer({
      program: c.program,
      weights: c.weights,
      trained,
      output: c.output,
      classes: c.classes,
      ...(c.dropout ? { dropout: c.dropout } : {}),
    });
    const result = await train(backend, {
      program: c.program,
      data,
      batchSize: c.config.batch,
      shuffle: false,
      seed: 0,
      schedule: {
        kind: c.config.schedule,
        lr: c.config.lr,
        warmupSteps: c.config.warmup_steps,
        totalSteps: c.config.steps,
      },
      optimizer: {
        weightDecay: c.config.weight_decay,
        beta1: c.config.betas[0],
        beta2: c.config.betas[1],
        eps: c.config.eps,
      },
    });
    result.losses.forEach((loss, k) => {
      expect(Math.abs(loss - c.config.losses[k]!) / c.config.losses[k]!, `loss ${k}`).toBeLessThan(
        LOSS_TOLERANCE,
      );
    });
    const after = await backend.trainedWeights();
    for (const tensor of c.trained) {
      expect(relativeError(after.get(tensor)!, c.expected.after.get(tensor)!), tensor).toBeLessThan(
        WEIGHT_TOLERANCE,
      );
    }
    backend.dispose();
  });
});
