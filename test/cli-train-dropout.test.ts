import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { gpuIt } from './helpers/gpu.js';
import { relativeError } from './helpers/numerics.js';
import { tinyTraining } from './training/tiny-cli.js';
import {
  expectResumedAsWhole,
  expectSameTensors,
  trainedTensors,
} from './training/trained-output.js';

/**
 * `adapt train --dropout P` on the tiny spec (article adapters on bert-seq-cls with its own
 * classifier): 0 is no dropout bit for bit, a P > 0 trains otherwise and is kept in the
 * checkpoint, so --resume continues with the same masks to the very weights of the whole run.
 */
const { dir, spec, data } = tinyTraining('adapt-train-dropout-');

const base = (backend: string) => [
  'train',
  spec,
  '--adapter',
  'a',
  '--data',
  data,
  '--batch',
  '2',
  '--lr',
  '1e-2',
  '--seed',
  '3',
  '--backend',
  backend,
];

async function trained(args: readonly string[], out: string) {
  const result = await runCli([...args, '--out', out]);
  expect(result.code, result.stderr).toBe(0);
  const state = JSON.parse(readFileSync(join(out, 'trainer_state.json'), 'utf8')) as {
    settings: { dropout: number };
    log_history: { loss: number }[];
  };
  return { result, state, tensors: trainedTensors(out) };
}

describe('adapt train --dropout on the CPU reference', () => {
  it('trains as without dropout at 0, bit for bit, and otherwise at 0.3', async () => {
    const args = [...base('cpu'), '--steps', '3'];
    const plain = await trained(args, join(dir, 'plain'));
    const zero = await trained([...args, '--dropout', '0'], join(dir, 'zero'));
    expectSameTensors(zero.tensors, plain.tensors);
    expect(zero.state.log_history).toEqual(plain.state.log_history);
    expect(plain.state.settings.dropout).toBe(0);

    const dropped = await trained([...args, '--dropout', '0.3'], join(dir, 'dropped'));
    expect(dropped.result.stderr).toMatch(/batch 2, 3 steps, dropout 0\.3\n/);
    expect(dropped.state.settings.dropout).toBe(0.3);
    const losses = (run: typeof plain) => run.state.log_history.map((entry) => entry.loss);
    for (const [step, loss] of losses(dropped).entries())
      expect(loss, `step ${step}`).not.toBe(losses(plain)[step]);
  });

  it('resumes with the checkpoint dropout to the very weights of the whole run', async () => {
    const args = [...base('cpu'), '--dropout', '0.3'];
    const whole = join(dir, 'resume-whole');
    await trained([...args, '--steps', '4', '--checkpoint-every', '2'], whole);
    await expectResumedAsWhole(
      base('cpu'),
      join(whole, 'checkpoint-2'),
      whole,
      join(dir, 'resume-rest'),
    );
    const other = await runCli([
      ...base('cpu'),
      '--dropout',
      '0.1',
      '--resume',
      join(whole, 'checkpoint-2'),
      '--out',
      join(dir, 'resume-other'),
    ]);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(
      /trainer_state\.json: error: --dropout gives 0\.1, the checkpoint's run 0\.3; leave the option out/,
    );
  });
});

describe('adapt train --dropout on WebGPU', () => {
  gpuIt('lands where the CPU reference lands with the same masks, within 1e-4', async () => {
    const args = (backend: string) => [...base(backend), '--steps', '3', '--dropout', '0.25'];
    const cpu = await trained(args('cpu'), join(dir, 'cpu-0.25'));
    const gpu = await trained(args('webgpu'), join(dir, 'webgpu-0.25'));
    expect(
      relativeError(
        gpu.state.log_history.map((entry) => entry.loss),
        cpu.state.log_history.map((entry) => entry.loss),
      ),
    ).toBeLessThan(1e-5);
    for (const [name, tensor] of cpu.tensors)
      expect(
        relativeError(gpu.tensors.get(name)!.data as Float32Array, tensor.data as Float32Array),
        name,
      ).toBeLessThan(1e-4);
  });

  gpuIt('resumes to the very weights of the whole run', async () => {
    const whole = join(dir, 'gpu-resume-whole');
    await trained(
      [...base('webgpu'), '--dropout', '0.3', '--steps', '4', '--checkpoint-every', '2'],
      whole,
    );
    await expectResumedAsWhole(
      base('webgpu'),
      join(whole, 'checkpoint-2'),
      whole,
      join(dir, 'gpu-resume-rest'),
    );
  });
});
