import { afterAll, describe, expect } from 'vitest';
import { compile } from '../../src/compiler/index.js';
import { InputError } from '../../src/runtime/errors.js';
import type { Program } from '../../src/runtime/program.js';
import { IGNORED_LABEL, type StepSettings } from '../../src/runtime/training/backend.js';
import { GpuDevice } from '../../src/runtime/webgpu/device.js';
import { createWebGpuTrainer } from '../../src/runtime/webgpu/training/index.js';
import { randomInputs, randomWeights, weightsNamed } from '../backward/finite-differences.js';
import { gpuIt } from '../helpers/gpu.js';
import { disposeSharedDevice, sharedDevice } from './device.js';

const SETTINGS: StepSettings = { lr: 1e-2, weightDecay: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8 };

function setup() {
  const program: Program = compile(
    'model m { hidden 8 heads 2 ffn 16 layers 2 }\nadapter a { bottleneck 4 at ffn }',
    { fuse: false },
  ).program!;
  const weights = randomWeights(program, 5);
  const trained = weightsNamed(program, 'adapters.a.');
  const inputs = randomInputs(program, 2, 4, 6);
  const labels = Int32Array.from({ length: 8 }, (_, i) => i % 8);
  return { program, weights, trained, inputs, labels };
}

async function trainer(s: ReturnType<typeof setup>, extra: object = {}) {
  const gpu = await sharedDevice();
  return createWebGpuTrainer(
    {
      program: s.program,
      weights: s.weights,
      trained: s.trained,
      output: 'hidden_states',
      classes: 8,
      ...extra,
    },
    { device: gpu.device, target: gpu.adapter.profile },
  );
}

describe('the WebGPU trainer', () => {
  afterAll(disposeSharedDevice);

  gpuIt('evaluates without updating, and a step lowers the loss on its batch', async () => {
    const s = setup();
    const t = await trainer(s);
    try {
      const before = await t.evaluate({ inputs: s.inputs, labels: s.labels });
      expect(before.logits).toHaveLength(2 * 4 * 8);
      const again = await t.evaluate({ inputs: s.inputs, labels: s.labels });
      expect(again.loss).toBe(before.loss);
      const first = await t.step({ inputs: s.inputs, labels: s.labels }, SETTINGS);
      expect(first.loss).toBe(before.loss);
      for (let i = 0; i < 20; i++) await t.step({ inputs: s.inputs, labels: s.labels }, SETTINGS);
      const after = await t.evaluate({ inputs: s.inputs, labels: s.labels });
      expect(after.loss).toBeLessThan(0.9 * before.loss);
    } finally {
      t.dispose();
    }
  });

  gpuIt('resumes from its optimizer state to the weights an unbroken run reaches', async () => {
    const s = setup();
    const batch = { inputs: s.inputs, labels: s.labels };
    const straight = await trainer(s);
    let expected: ReadonlyMap<string, Float32Array>;
    try {
      for (let i = 0; i < 3; i++) await straight.step(batch, SETTINGS);
      expected = await straight.trainedWeights();
    } finally {
      straight.dispose();
    }
    const first = await trainer(s);
    let resumed: Awaited<ReturnType<typeof trainer>>;
    try {
      await first.step(batch, SETTINGS);
      const weights = new Map(s.weights);
      for (const [name, value] of await first.trainedWeights()) weights.set(name, value);
      const optimizerState = await first.optimizerState();
      expect(optimizerState.get(s.trained[0]!)!.step).toBe(1);
      resumed = await trainer({ ...s, weights }, { optimizerState });
    } finally {
      first.dispose();
    }
    try {
      for (let i = 0; i < 2; i++) await resumed.step(batch, SETTINGS);
      const got = await resumed.trainedWeights();
      for (const name of s.trained) expect(got.get(name), name).toEqual(expected.get(name));
    } finally {
      resumed.dispose();
    }
  });

  gpuIt('says the device was lost, and takes no more steps on it', async () => {
    const s = setup();
    const own = await GpuDevice.create();
    const t = await createWebGpuTrainer(
      {
        program: s.program,
        weights: s.weights,
        trained: s.trained,
        output: 'hidden_states',
        classes: 8,
      },
      { device: own.device, target: own.adapter.profile },
    );
    try {
      await t.step({ inputs: s.inputs, labels: s.labels }, SETTINGS);
      own.device.destroy();
      await own.device.lost;
      await expect(t.step({ inputs: s.inputs, labels: s.labels }, SETTINGS)).rejects.toThrow(
        /^the GPU device was lost \(destroyed.*\), and with it the trained weights since the last checkpoint; resume from it$/,
      );
    } finally {
      t.dispose();
      own.dispose();
    }
  });

  gpuIt('refuses labels the loss cannot take, naming the row', async () => {
    const s = setup();
    const t = await trainer(s);
    try {
      const bad = Int32Array.from(s.labels);
      bad[3] = 8;
      await expect(t.step({ inputs: s.inputs, labels: bad }, SETTINGS)).rejects.toThrow(InputError);
      await expect(t.step({ inputs: s.inputs, labels: bad }, SETTINGS)).rejects.toThrow(
        'label 8 at row 3 is not a class in 0..7 (nor -100, ignored)',
      );
      await expect(t.evaluate({ inputs: s.inputs, labels: s.labels.subarray(1) })).rejects.toThrow(
        '7 labels for a batch that takes 8 (one per token)',
      );
      const ignored = new Int32Array(8).fill(IGNORED_LABEL);
      await expect(t.evaluate({ inputs: s.inputs, labels: ignored })).rejects.toThrow(
        'every label of the batch is -100',
      );
    } finally {
      t.dispose();
    }
  });
});
