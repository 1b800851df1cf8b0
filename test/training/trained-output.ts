import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { loadSafetensors, type TensorMap } from '../../src/runtime/safetensors.js';
import { runCli } from '../helpers/cli.js';

/** The trained tensors `adapt train` wrote into `out` (trained_weights.safetensors). */
export function trainedTensors(out: string): TensorMap {
  return loadSafetensors(readFileSync(join(out, 'trained_weights.safetensors')));
}

/** Every tensor of `expected` in `got`, bit for bit (a resumed run against the whole one). */
export function expectSameTensors(got: TensorMap, expected: TensorMap): void {
  for (const [name, tensor] of expected)
    expect([...got.get(name)!.data], name).toEqual([...tensor.data]);
}

/**
 * `adapt train ARGS --resume CHECKPOINT --out OUT`, which must succeed and land on the very
 * tensors of the run the checkpoint was taken from, written in `whole`. Returns what it printed.
 */
export async function expectResumedAsWhole(
  args: readonly string[],
  checkpoint: string,
  whole: string,
  out: string,
): Promise<{ stdout: string; stderr: string }> {
  const result = await runCli([...args, '--resume', checkpoint, '--out', out]);
  expect(result.code, result.stderr).toBe(0);
  expectSameTensors(trainedTensors(out), trainedTensors(whole));
  return result;
}
