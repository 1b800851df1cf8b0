import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSafetensors, saveSafetensors } from '../src/runtime/safetensors.js';
import { repoRoot, runCli, spawnCli } from './helpers/cli.js';
import { relativeError } from './helpers/numerics.js';

const dir = mkdtempSync(join(tmpdir(), 'adapt-run-'));
const fixtures = 'test/fixtures/torch';

describe('adapt run', () => {
  it('runs with seeded weights and random input, and prints the summary', async () => {
    const result = await runCli([
      'run',
      'examples/worked-example.adapt',
      '--batch',
      '2',
      '--seq',
      '3',
      '--backend',
      'cpu',
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("examples/worked-example.adapt, graph 'default'");
    expect(result.stdout).toContain('backend   cpu (the reference: unfused graph, f64 sums)');
    expect(result.stdout).toContain('seeded init (seed 0), 194 parameters');
    expect(result.stdout).toMatch(
      /output {4}hidden_states \[2, 3, 4\] {2}mean -?\d\.\d{6} {2}std \d\.\d{6}/,
    );
  });

  it('reproduces a PyTorch fixture through files: --weights, --input, --output', async () => {
    const output = join(dir, 'out.safetensors');
    const result = await runCli([
      'run',
      `${fixtures}/batch.adapt`,
      '--weights',
      `${fixtures}/batch.weights.safetensors`,
      '--input',
      `${fixtures}/batch.input.safetensors`,
      '--output',
      output,
      '--json',
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as { output: string; written: string };
    expect(summary.written).toBe(output);
    const out = loadSafetensors(readFileSync(output)).get('hidden_states')!;
    const expected = loadSafetensors(
      readFileSync(`${repoRoot}${fixtures}/batch.expected.safetensors`),
    ).get('hidden_states')!;
    expect(out.shape).toEqual(expected.shape);
    expect(relativeError(out.data, expected.data)).toBeLessThan(1e-6);
  });

  it('gives the same output from `weights --init` files as from seeded init', async () => {
    const weights = join(dir, 'init.safetensors');
    const init = await runCli([
      'weights',
      'examples/bert-base-parallel.adapt',
      '--init',
      '-o',
      weights,
      '--seed',
      '4',
    ]);
    expect(init.stdout).toBe(`wrote ${weights} (240 tensors, seed 4, graph 'default')\n`);
    const args = [
      'run',
      'examples/bert-base-parallel.adapt',
      '--seq',
      '2',
      '--json',
      '--seed',
      '4',
    ];
    const seeded = JSON.parse((await runCli(args)).stdout) as { mean: number; std: number };
    const fromFile = JSON.parse((await runCli([...args, '--weights', weights])).stdout) as {
      mean: number;
      std: number;
    };
    expect(fromFile.mean).toBe(seeded.mean);
    expect(fromFile.std).toBe(seeded.std);
  });

  it('a truncated weights file is one clear error, exit 1, no stack trace', () => {
    const bytes = readFileSync(`${repoRoot}${fixtures}/postln_pfeiffer.weights.safetensors`);
    const truncated = join(dir, 'truncated.safetensors');
    writeFileSync(truncated, bytes.subarray(0, 5000));
    const result = spawnCli(['run', `${fixtures}/postln_pfeiffer.adapt`, '--weights', truncated]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(
      new RegExp(
        `^${truncated}: error: tensor '[^']+': data_offsets \\[\\d+, \\d+\\] are out of range of the data buffer`,
      ),
    );
  });

  it('names every missing and mis-shaped tensor', async () => {
    const tensors = loadSafetensors(
      readFileSync(`${repoRoot}${fixtures}/stack.weights.safetensors`),
    );
    tensors.delete('encoder.layer.1.output.adapters.b.adapter_up.bias');
    const dense = tensors.get('encoder.layer.0.output.dense.weight')!;
    tensors.set('encoder.layer.0.output.dense.weight', {
      ...dense,
      shape: [...dense.shape].reverse(),
    });
    const path = join(dir, 'broken.safetensors');
    writeFileSync(
      path,
      saveSafetensors(
        [...tensors].map(([n, t]) => [n, { shape: t.shape, data: t.data as Float32Array }]),
      ),
    );
    const result = await runCli(['run', `${fixtures}/stack.adapt`, '--weights', path]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `${path}: error: the weights do not fit ${fixtures}/stack.adapt: 2 weight problems:`,
    );
    expect(result.stderr).toContain(
      "1 tensor is missing: 'encoder.layer.1.output.adapters.b.adapter_up.bias'",
    );
    expect(result.stderr).toMatch(
      /tensor 'encoder.layer.0.output.dense.weight' has shape \[\d+, \d+\], but the model needs/,
    );
  });

  it('refuses a tensor given in two weight files', async () => {
    const file = `${fixtures}/stack.weights.safetensors`;
    const result = await runCli([
      'run',
      `${fixtures}/stack.adapt`,
      '--weights',
      file,
      '--weights',
      file,
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `${file}: error: tensor 'encoder.layer.0.attention.output.LayerNorm.bias' is also in ${file}\n`,
    );
  });

  it('reports inputs that do not fit', async () => {
    const path = join(dir, 'input.safetensors');
    writeFileSync(
      path,
      saveSafetensors({ hidden_states: { shape: [1, 2, 5], data: new Float32Array(10) } }),
    );
    const result = await runCli(['run', 'examples/worked-example.adapt', '--input', path]);
    expect(result).toMatchObject({
      code: 1,
      stderr: `${path}: error: tensor 'hidden_states': shape must be [B, T, 4], got [1, 2, 5]\n`,
    });
  });

  it('checks its options', async () => {
    expect((await runCli(['run', 'examples/worked-example.adapt', '--seq', '0'])).code).toBe(2);
    expect((await runCli(['run', 'examples/worked-example.adapt', '--backend', 'tpu'])).code).toBe(
      2,
    );
    expect((await runCli(['weights', 'examples/worked-example.adapt'])).code).toBe(2);
    expect((await runCli(['weights', 'examples/worked-example.adapt', '--init'])).code).toBe(2);
  });
});

describe('adapt weights --list', () => {
  it('lists names, shapes, counts and initializers', async () => {
    const result = await runCli(['weights', 'examples/worked-example.adapt', '--list']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /encoder\.layer\.0\.output\.adapters\.example\.adapter_down\.0\.weight\s+\[2, 4\]\s+8\s+N\(0, 0\.01\)/,
    );
    expect(result.stdout).toContain("20 tensors, 194 parameters (graph 'default')");
  });
});
