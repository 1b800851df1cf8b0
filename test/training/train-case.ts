import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { TensorMap } from '../../src/runtime/safetensors.js';
import { runCli } from '../helpers/cli.js';
import { relativeError } from '../helpers/numerics.js';
import { adaptTrainArguments, type TrainingCase } from '../helpers/training-cases.js';
import { trainedTensors } from './trained-output.js';

/**
 * `adapt train` on a PyTorch training fixture with its settings, on `backend`, into `out`; holds
 * each step's lr to the fixture's exactly, its losses within 1e-5 and every trained tensor after
 * the last step within 1e-4 (relative, per tensor) of torch.optim.AdamW's. Returns the trained
 * tensors.
 */
export async function trainFixture(
  fixture: TrainingCase,
  backend: string,
  out: string,
): Promise<TensorMap> {
  const { config } = fixture;
  const result = await runCli([
    ...adaptTrainArguments(fixture),
    '--backend',
    backend,
    '--out',
    out,
  ]);
  expect(result.code, result.stderr).toBe(0);
  expect(result.stdout).toContain(` on ${backend}: ${config.steps} steps`);
  const state = JSON.parse(readFileSync(join(out, 'trainer_state.json'), 'utf8')) as {
    log_history: { loss: number; lr: number }[];
  };
  expect(state.log_history.map((entry) => entry.lr)).toEqual(config.lr_per_step);
  expect(
    relativeError(
      state.log_history.map((entry) => entry.loss),
      config.losses,
    ),
  ).toBeLessThan(1e-5);
  const trained = trainedTensors(out);
  expect([...trained.keys()].sort()).toEqual([...config.trained].sort());
  for (const tensor of config.trained) {
    // A gradient zero in exact arithmetic is rounding noise, which AdamW scales to about ±lr.
    if (config.zero_gradient.includes(tensor)) continue;
    const got = trained.get(tensor)!.data as Float32Array;
    expect(relativeError(got, fixture.expected.after.get(tensor)!), tensor).toBeLessThan(1e-4);
  }
  return trained;
}
