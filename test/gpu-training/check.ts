import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { compile } from '../../src/compiler/index.js';
import { planTraining } from '../../src/compiler/training/index.js';
import { prepareInputs, type PreparedInputs } from '../../src/runtime/inputs.js';
import type { Program, Target } from '../../src/runtime/program.js';
import { seededUniform } from '../../src/runtime/random.js';
import { IGNORED_LABEL, type StepSettings } from '../../src/runtime/training/backend.js';
import type { DropoutSettings } from '../../src/runtime/training/dropout/sites.js';
import { createWebGpuTrainer } from '../../src/runtime/webgpu/training/index.js';
import { randomWeights, weightsNamed } from '../backward/finite-differences.js';
import { sharedDevice } from './device.js';
import { distance, norm, referenceSteps } from './reference.js';

/**
 * The WebGPU backward pass and AdamW against the CPU reference (f64): the gradients of one step
 * and the weights after three, per trained tensor, within 1e-4 of the reference's norm. The GPU
 * runs the forward pass in f32 and sums in f32, about 1e-6 relative per value on these sizes;
 * 1e-4 leaves room for the long sums of the weight gradients (docs/training-webgpu.md).
 */
const TOLERANCE = 1e-4;
/**
 * A floor of 1e-6 of the largest tensor's gradient norm, for tensors whose gradient is zero in
 * exact arithmetic (a fusion's key bias: the softmax over the members does not see it) or
 * nearly so (a gate a LayerNorm undoes but for its eps): there the GPU's is f32 rounding.
 */
const FLOOR = 1e-6;

/** Below this fraction of the largest gradient norm, a tensor's gradient is mostly rounding. */
const NOISE_ONLY = 1e-3;

/**
 * Elements whose reference gradient is below this fraction of the tensor's largest are left out
 * of the weights check: there f32 cannot resolve the gradient (a pooler unit whose tanh saturates
 * has 1 − tanh² = 0 in f32, about 1e-8 in f64), and AdamW's step m/(√v + eps) is as large for
 * such a gradient as for any other.
 */
const UNRESOLVED = 1e-4;

function resolvedElements(gradient: Float64Array): boolean[] {
  let largest = 0;
  for (const g of gradient) largest = Math.max(largest, Math.abs(g));
  return Array.from(gradient, (g) => Math.abs(g) >= UNRESOLVED * largest);
}

export const SETTINGS: StepSettings = {
  lr: 1e-3,
  weightDecay: 0.01,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
};
const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'hf');

export function compileUnfused(source: string): Program {
  const result = compile(source, {
    fuse: false,
    readFile: (path) => {
      const file = join(FIXTURES, path);
      return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    },
  });
  expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return result.program!;
}

/** A label per token, IGNORED_LABEL where the mask pads and at one position in five. */
export function tokenLabels(inputs: PreparedInputs, classes: number, seed: number): Int32Array {
  const mask = inputs.values.get('attention_mask') as Int32Array | undefined;
  const uniform = seededUniform(seed);
  return Int32Array.from({ length: inputs.batch * inputs.seq }, (_, i) => {
    const label = Math.floor(uniform() * classes);
    return (mask && mask[i] === 0) || uniform() < 0.2 ? IGNORED_LABEL : label;
  });
}

/** Token ids of the checkpoint's vocabulary, the last position of odd sequences padded. */
export function textInputs(
  program: Program,
  batch: number,
  seq: number,
  seed: number,
): PreparedInputs {
  const uniform = seededUniform(seed);
  const vocab = program.model.text!.vocab;
  return prepareInputs(program, {
    input_ids: {
      data: Int32Array.from({ length: batch * seq }, () => 1 + Math.floor(uniform() * (vocab - 1))),
      shape: [batch, seq],
    },
    attention_mask: {
      data: Int32Array.from({ length: batch * seq }, (_, i) =>
        i % seq < seq - (((i / seq) % 2) | 0) ? 1 : 0,
      ),
      shape: [batch, seq],
    },
  });
}

export async function checkAgainstReference(
  program: Program,
  trainedParts: readonly string[],
  inputs: PreparedInputs,
  labels: Int32Array,
  output: string,
  seed: number,
  {
    target,
    maxBindingBytes,
    dropout,
  }: { target?: Target; maxBindingBytes?: number; dropout?: DropoutSettings } = {},
): Promise<void> {
  const weights = randomWeights(program, seed);
  const trained = weightsNamed(program, ...trainedParts);
  expect(trained.length).toBeGreaterThan(0);
  const outputNode = program.nodes[program.outputs.find((o) => o.name === output)!.node]!;
  const classes = outputNode.shape[outputNode.shape.length - 1] as number;
  const reference = referenceSteps(
    program,
    weights,
    inputs,
    labels,
    trained,
    output,
    SETTINGS,
    3,
    dropout,
  );
  const gpu = await sharedDevice();
  const trainer = await createWebGpuTrainer(
    { program, weights, trained, output, classes, ...(dropout ? { dropout } : {}) },
    {
      device: gpu.device,
      target: target ?? gpu.adapter.profile,
      ...(maxBindingBytes === undefined
        ? {}
        : {
            plan: planTraining(program, {
              trained,
              output,
              target: target ?? gpu.adapter.profile,
              maxBindingBytes,
              ...(dropout ? { dropout: dropout.probability } : {}),
            }),
          }),
    },
  );
  try {
    const first = await trainer.step({ inputs, labels }, { ...SETTINGS, step: 0 });
    expect(Math.abs(first.loss - reference.losses[0]!) / reference.losses[0]!).toBeLessThan(1e-5);
    const gradients = await trainer.lastGradients();
    const largest = Math.max(...trained.map((n) => norm(reference.gradients.get(n)!)));
    expect(largest).toBeGreaterThan(1e-4);
    for (const name of trained) {
      const expected = reference.gradients.get(name)!;
      const error = distance(gradients.get(name)!, expected);
      expect(error, `dLoss/d${name}`).toBeLessThanOrEqual(
        TOLERANCE * norm(expected) + FLOOR * largest,
      );
    }
    for (let step = 1; step < 3; step++) {
      const { loss } = await trainer.step({ inputs, labels }, { ...SETTINGS, step });
      expect(Math.abs(loss - reference.losses[step]!) / reference.losses[step]!).toBeLessThan(1e-5);
    }
    const after = await trainer.trainedWeights();
    for (const name of trained) {
      // AdamW scales each element's step by its gradient's own size, so a gradient that is f32
      // rounding noise (zero in exact arithmetic) takes full-size steps: such tensors are held
      // to the gradient check above only.
      if (norm(reference.gradients.get(name)!) < NOISE_ONLY * largest) continue;
      const resolved = resolvedElements(reference.gradients.get(name)!);
      const expected = reference.weights.get(name)!.filter((_, i) => resolved[i]);
      const got = after.get(name)!.filter((_, i) => resolved[i]);
      expect(distance(got, expected) / norm(expected), name).toBeLessThan(TOLERANCE);
    }
    const state = await trainer.optimizerState();
    expect(state.get(trained[0]!)!.step).toBe(3);
  } finally {
    trainer.dispose();
  }
}
