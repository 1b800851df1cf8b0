import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../src/compiler/index.js';
import { readCheckpoint } from '../src/cli/checkpoint-files.js';
import { readSavedWeights } from '../src/cli/saved-weights.js';
import { Runtime } from '../src/runtime/runtime.js';
import { loadSafetensors } from '../src/runtime/safetensors.js';
import { gpuIt, gpuRuntime } from './helpers/gpu.js';

/**
 * parallel(a, b) as AdapterHub's Parallel: `compose_parallel` repeats the batch once per branch
 * and gives each branch its own copy, so each branch's outputs are that branch run alone — the
 * fixtures' PyTorch outputs of the single-adapter cases.
 */
const ROOT = 'test/fixtures/adapterhub';
const SPEC = join(ROOT, 'specs/parallel.adapt');

async function runParallel(runtime: Runtime, fuse: boolean) {
  const compiled = compile(readFileSync(SPEC, 'utf8'), {
    fileName: SPEC,
    fuse,
    target: 'software',
    readFile: (file) => {
      const path = join(ROOT, 'specs', file);
      return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
    },
  });
  expect(compiled.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  const program = compiled.program!;
  expect(program.parallel).toEqual(['sentiment', 'houlsby']);
  expect(program.outputs.map((o) => o.name)).toEqual([
    'last_hidden_state.sentiment',
    'logits.sentiment',
    'last_hidden_state.houlsby',
  ]);
  const checkpoint = readCheckpoint('.', SPEC, '../bert-tiny', { tokenizer: false });
  const saved = readSavedWeights('.', SPEC, compiled.model!, 'default');
  const model = await runtime.load(program, [checkpoint.weights.tensors, ...saved.tensors]);
  const batch = loadSafetensors(readFileSync(join(ROOT, 'seq-bn-head.expected.safetensors')));
  const outputs = await model.run({
    input_ids: batch.get('input_ids')!,
    attention_mask: batch.get('attention_mask')!,
    token_type_ids: batch.get('token_type_ids')!,
  });
  model.dispose();
  const worst = (output: string, file: string, name: string) => {
    const want = loadSafetensors(readFileSync(join(ROOT, file))).get(name)!.data;
    const got = outputs[output]!.data;
    expect(got.length).toBe(want.length);
    return got.reduce((m, v, i) => Math.max(m, Math.abs(v - want[i]!)), 0);
  };
  return {
    sentiment: worst(
      'last_hidden_state.sentiment',
      'seq-bn-head.expected.safetensors',
      'last_hidden_state',
    ),
    logits: worst('logits.sentiment', 'seq-bn-head.expected.safetensors', 'logits'),
    houlsby: worst(
      'last_hidden_state.houlsby',
      'double-seq-bn-bin.expected.safetensors',
      'last_hidden_state',
    ),
  };
}

describe('parallel(...) of AdapterHub adapters', () => {
  it('gives each branch the outputs it has alone, on the CPU reference', async () => {
    const errors = await runParallel(await Runtime.create({ backend: 'cpu' }), false);
    for (const [name, error] of Object.entries(errors)) expect(error, name).toBeLessThan(1e-4);
  });

  gpuIt('and on WebGPU, fused', async () => {
    const runtime = await gpuRuntime();
    try {
      const errors = await runParallel(runtime, true);
      for (const [name, error] of Object.entries(errors)) expect(error, name).toBeLessThan(1e-4);
    } finally {
      runtime.dispose();
    }
  });
});
