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
 * parallel(a, b) as AdapterHub's Parallel: `compose_parallel` repeats the batch once per branch;
 * every channel takes the first branch's pre_forward and the last one's post_forward. Two seq_bn
 * adapters begin and end alike, so each channel is its adapter alone: sentiment's is the
 * fixture's PyTorch output with its head's logits, lang's the graph `lang` (the mixed case,
 * where the channels are not their adapters alone, is parallel-mixed in test/adapterhub-run).
 */
const ROOT = 'test/fixtures/adapterhub';
const SPEC = join(ROOT, 'specs/parallel.adapt');

function compileGraph(graph: string, fuse: boolean) {
  const compiled = compile(readFileSync(SPEC, 'utf8'), {
    fileName: SPEC,
    graph,
    fuse,
    target: 'software',
    readFile: (file) => {
      const path = join(ROOT, 'specs', file);
      return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
    },
  });
  expect(compiled.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return { program: compiled.program!, model: compiled.model! };
}

const BATCH = loadSafetensors(readFileSync(join(ROOT, 'seq-bn-head.expected.safetensors')));

async function runGraph(runtime: Runtime, graph: string, fuse: boolean) {
  const { program, model } = compileGraph(graph, fuse);
  const checkpoint = readCheckpoint('.', SPEC, '../bert-tiny', { tokenizer: false });
  const saved = readSavedWeights('.', SPEC, model, graph);
  const loaded = await runtime.load(program, [checkpoint.weights.tensors, ...saved.tensors]);
  const outputs = await loaded.run({
    input_ids: BATCH.get('input_ids')!,
    attention_mask: BATCH.get('attention_mask')!,
    token_type_ids: BATCH.get('token_type_ids')!,
  });
  loaded.dispose();
  return { program, outputs };
}

const worst = (got: ArrayLike<number>, want: ArrayLike<number>) => {
  expect(got.length).toBe(want.length);
  let error = 0;
  for (let i = 0; i < got.length; i++) error = Math.max(error, Math.abs(got[i]! - want[i]!));
  return error;
};

async function runParallel(runtime: Runtime, fuse: boolean) {
  const { program, outputs } = await runGraph(runtime, 'default', fuse);
  expect(program.parallel).toEqual(['sentiment', 'lang']);
  expect(program.outputs.map((o) => o.name)).toEqual([
    'last_hidden_state.sentiment',
    'logits.sentiment',
    'last_hidden_state.lang',
  ]);
  const lang = (await runGraph(runtime, 'lang', fuse)).outputs.last_hidden_state;
  return {
    sentiment: worst(
      outputs['last_hidden_state.sentiment']!.data,
      BATCH.get('last_hidden_state')!.data,
    ),
    logits: worst(outputs['logits.sentiment']!.data, BATCH.get('logits')!.data),
    lang: worst(outputs['last_hidden_state.lang']!.data, lang.data),
  };
}

describe('parallel(...) of AdapterHub adapters', () => {
  it('gives each channel its adapter alone where the branches begin and end alike, on the CPU reference', async () => {
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
