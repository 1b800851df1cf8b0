import { afterAll, describe, expect } from 'vitest';
import { createWebGpuTrainer } from '../src/runtime/webgpu/training/index.js';
import { disposeSharedDevice, sharedDevice } from './gpu-training/device.js';
import { gpuIt } from './helpers/gpu.js';
import { relativeError } from './helpers/numerics.js';
import { loadTrainingCase, TRAINING_CASES } from './helpers/training-cases.js';

/**
 * The WebGPU training backend trains as PyTorch does (test/fixtures/training/, its generate.py):
 * the same starting directories, batches and AdamW settings, three steps. Held to PyTorch's
 * float64 training from the same float32 starting values; PyTorch's own float32 run lands within
 * 1.3e-6 (gradients) and 3.4e-5 (weights) of it (case.json `float32_run`).
 */
const LOSS_TOLERANCE = 1e-5;
const GRADIENT_TOLERANCE = 1e-4;
const WEIGHT_TOLERANCE = 1e-4;
/**
 * A gradient zero in exact arithmetic (a fusion's key bias) is f32 rounding on the GPU: its norm
 * stays this far below the largest gradient's norm.
 */
const ZERO_GRADIENT_FLOOR = 1e-5;

function norm(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]! ** 2;
  return Math.sqrt(sum);
}

afterAll(disposeSharedDevice);

describe.each(TRAINING_CASES)('training case %s on WebGPU against PyTorch', (name) => {
  gpuIt(
    `losses within ${LOSS_TOLERANCE}, gradients of step 0 and weights after step 2 within ${GRADIENT_TOLERANCE} relative`,
    async () => {
      const gpu = await sharedDevice();
      const c = loadTrainingCase(name, { target: gpu.adapter.profile });
      const trainer = await createWebGpuTrainer(
        {
          program: c.program,
          weights: c.weights,
          trained: c.trained,
          output: c.output,
          classes: c.classes,
          ...(c.dropout ? { dropout: c.dropout } : {}),
        },
        { device: gpu.device, target: gpu.adapter.profile },
      );
      try {
        const losses: number[] = [];
        let gradients: ReadonlyMap<string, Float32Array | Float64Array> | undefined;
        for (const [k, batch] of c.batches.entries()) {
          losses.push((await trainer.step(batch, c.settings[k]!)).loss);
          if (k === 0) gradients = await trainer.lastGradients();
        }
        const after = await trainer.trainedWeights();

        losses.forEach((loss, k) => {
          const want = c.config.losses[k]!;
          expect(Math.abs(loss - want) / want, `loss ${k}`).toBeLessThan(LOSS_TOLERANCE);
        });
        const zero = new Set(c.config.zero_gradient);
        const largest = Math.max(...[...c.expected.gradients.values()].map(norm));
        // AdamW's bias-corrected step m̂/(√v̂ + eps) is at most 1 at the first step and exceeds 1
        // by under 0.2% at the next two, whatever the gradients.
        const bound = 1.01 * c.config.lr_per_step.reduce((a, b) => a + b, 0);
        for (const tensor of c.trained) {
          const gradient = gradients!.get(tensor)!;
          const weights = after.get(tensor)!;
          if (zero.has(tensor)) {
            // Rounding noise, which AdamW normalises: each element moves by about lr per step at most.
            expect(norm(gradient) / largest, `grad ${tensor}`).toBeLessThan(ZERO_GRADIENT_FLOOR);
            const start = c.weights.get(tensor)!;
            weights.forEach((w, i) => {
              expect(Math.abs(w - start[i]!), `after ${tensor}[${i}]`).toBeLessThanOrEqual(bound);
            });
            continue;
          }
          expect(
            relativeError(gradient, c.expected.gradients.get(tensor)!),
            `grad ${tensor}`,
          ).toBeLessThan(GRADIENT_TOLERANCE);
          expect(
            relativeError(weights, c.expected.after.get(tensor)!),
            `after ${tensor}`,
          ).toBeLessThan(WEIGHT_TOLERANCE);
        }
      } finally {
        trainer.dispose();
      }
    },
  );
});
