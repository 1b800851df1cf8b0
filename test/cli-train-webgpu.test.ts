import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { runCli } from './helpers/cli.js';
import { gpuIt } from './helpers/gpu.js';
import { relativeError } from './helpers/numerics.js';
import { loadTrainingCase } from './helpers/training-cases.js';
import { tinyTraining } from './training/tiny-cli.js';
import { expectResumedAsWhole, trainedTensors } from './training/trained-output.js';

const { dir, spec, data } = tinyTraining('adapt-train-gpu-');

describe('adapt train --backend webgpu', () => {
  gpuIt('lands where the CPU reference lands, within 1e-4', async () => {
    const run = async (backend: string) => {
      const out = join(dir, backend);
      const result = await runCli([
        'train',
        spec,
        '--adapter',
        'a',
        '--data',
        data,
        '--steps',
        '3',
        '--batch',
        '2',
        '--lr',
        '1e-2',
        '--no-shuffle',
        '--backend',
        backend,
        '--out',
        out,
      ]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain(`on ${backend}: 3 steps`);
      return trainedTensors(out);
    };
    const cpu = await run('cpu');
    const gpu = await run('webgpu');
    expect([...gpu.keys()].sort()).toEqual([...cpu.keys()].sort());
    for (const [name, tensor] of cpu)
      expect(
        relativeError(gpu.get(name)!.data as Float32Array, tensor.data as Float32Array),
        name,
      ).toBeLessThan(1e-4);
  });
});

describe('adapt train --backend webgpu --resume', () => {
  gpuIt('continues a checkpoint to the very weights of the run it continues', async () => {
    const fixture = loadTrainingCase('seq-bn');
    const args = [
      'train',
      fixture.specPath,
      '--adapter',
      'sentiment',
      '--data',
      join(fixture.dir, 'data.jsonl'),
      '--backend',
      'webgpu',
    ];
    const whole = join(dir, 'resume-whole');
    const first = await runCli([
      ...args,
      '--steps',
      '4',
      '--batch',
      '2',
      '--lr',
      '1e-2',
      '--checkpoint-every',
      '2',
      '--out',
      whole,
    ]);
    expect(first.code, first.stderr).toBe(0);
    await expectResumedAsWhole(args, join(whole, 'checkpoint-2'), whole, join(dir, 'resume-rest'));
  });
});
