import { describe, expect, it } from 'vitest';
import {
  adamwState,
  adamwStep,
  backwardFrom,
  crossEntropy,
  forward64,
} from '../../src/runtime/cpu/backward/index.js';
import { IGNORED_LABEL } from '../../src/runtime/training/backend.js';
import { makeBatch } from '../../src/runtime/training/batch.js';
import { createCpuTrainer } from '../../src/runtime/training/cpu-backend.js';
import { parseTrainingData } from '../../src/runtime/training/data.js';
import { encodeTrainingData } from '../../src/runtime/training/encode.js';
import { TrainingError } from '../../src/runtime/training/errors.js';
import { trainingHead } from '../../src/runtime/training/head.js';
import { train, TRAIN_DEFAULTS } from '../../src/runtime/training/loop.js';
import { learningRate, type Schedule } from '../../src/runtime/training/schedule.js';
import { trainableWeights } from '../../src/runtime/training/trainable.js';
import { tinyProgram, tinyTokenizer, tinyWeights } from './tiny.js';

const ROWS = [
  { text: 'I love this film', label: 'positive' },
  { text: 'the movie was bad', label: 'negative' },
  { text: 'hello world', label: 'neutral' },
  { text: 'this film is not good', label: 'negative' },
  { text: 'the movie was great', label: 'positive' },
];

function setting() {
  const program = tinyProgram();
  const data = encodeTrainingData(
    parseTrainingData(
      ROWS.map((row) => JSON.stringify(row)).join('\n'),
      'train.jsonl',
      trainingHead(program),
    ),
    program.model.text!,
    tinyTokenizer(),
  );
  const weights = tinyWeights(program);
  const trained = trainableWeights(program, { adapter: 'a' }).names;
  const setup = { program, weights, trained, output: 'logits', classes: 3 };
  return { program, data, weights, trained, setup };
}

const optimizer = {
  weightDecay: 0.01,
  beta1: TRAIN_DEFAULTS.beta1,
  beta2: TRAIN_DEFAULTS.beta2,
  eps: TRAIN_DEFAULTS.eps,
};

describe('the training loop on the CPU reference', () => {
  it('takes the steps a hand-written loop of the reference takes, exactly', async () => {
    const { program, data, weights, trained, setup } = setting();
    const schedule: Schedule = { kind: 'linear', lr: 1e-2, warmupSteps: 1, totalSteps: 3 };
    const backend = createCpuTrainer(setup);
    const result = await train(backend, {
      program,
      data,
      batchSize: 2,
      shuffle: false,
      seed: 0,
      schedule,
      optimizer,
    });

    const own = new Map(weights);
    for (const name of trained) own.set(name, Float32Array.from(weights.get(name)!));
    const states = new Map(trained.map((name) => [name, adamwState(own.get(name)!.length)]));
    const losses: number[] = [];
    const rows = [
      [0, 1],
      [2, 3],
      [4, 0],
    ];
    rows.forEach((indices, step) => {
      const batch = makeBatch(program, data, indices);
      const forward = forward64(program, own, batch.inputs);
      const { loss, gradient } = crossEntropy(forward.outputs.logits!.data, 3, batch.labels, {
        ignoreIndex: IGNORED_LABEL,
      });
      losses.push(loss);
      const gradients = backwardFrom(program, forward, { output: 'logits', gradient }, trained);
      const settings = { ...optimizer, lr: learningRate(schedule, step) };
      for (const name of trained)
        adamwStep(own.get(name)!, gradients.get(name)!, states.get(name)!, settings);
    });
    expect(result.steps).toBe(3);
    expect(result.losses).toEqual(losses);
    const after = await backend.trainedWeights();
    for (const name of trained) expect([...after.get(name)!], name).toEqual([...own.get(name)!]);
    // Step 0 ran at lr 0 (warm-up), so only two steps moved the weights.
    const state = (await backend.optimizerState()).get(trained[0]!)!;
    expect(state.step).toBe(3);
  });

  it('lowers the loss over the epochs, and evaluates after each', async () => {
    const { program, data, setup } = setting();
    const backend = createCpuTrainer(setup);
    const result = await train(backend, {
      program,
      data,
      eval: data,
      batchSize: 5,
      shuffle: true,
      seed: 1,
      schedule: { kind: 'constant', lr: 1e-2, warmupSteps: 0, totalSteps: 25 },
      optimizer,
    });
    expect(result.losses).toHaveLength(25);
    expect(result.losses.at(-1)!).toBeLessThan(0.5 * result.losses[0]!);
    expect(result.evaluations).toHaveLength(25);
    const last = result.evaluations.at(-1)!;
    expect(last.labels).toBe(5);
    expect(last.accuracy).toBe(1);
  });

  it('stops at a loss that is not finite, naming the step and the lines', async () => {
    const { program, data, weights, setup } = setting();
    const broken = new Map(weights).set('classifier.bias', new Float32Array(3).fill(Number.NaN));
    const backend = createCpuTrainer({ ...setup, weights: broken });
    const run = train(backend, {
      program,
      data,
      batchSize: 2,
      shuffle: false,
      seed: 0,
      schedule: { kind: 'constant', lr: 1e-3, warmupSteps: 0, totalSteps: 2 },
      optimizer,
      startStep: 1,
    });
    await expect(run).rejects.toThrow(TrainingError);
    await expect(run).rejects.toThrow(
      'train.jsonl:3: step 2: the loss is NaN, on rows 3..4 (lines 3..4); training stopped there',
    );
  });
});
