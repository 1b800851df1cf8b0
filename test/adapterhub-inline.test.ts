import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../src/compiler/index.js';
import { readCheckpoint } from '../src/cli/checkpoint-files.js';
import { readTensorFile } from '../src/cli/weights-files.js';
import { Runtime } from '../src/runtime/runtime.js';
import { loadSafetensors } from '../src/runtime/safetensors.js';

/**
 * "AdapterHub's Pfeiffer" and "the article's Pfeiffer" are both expressible inline: with the
 * same weights, `preset seq_bn` gives what the adapters library computes (the fixture's PyTorch
 * output), and the article's adapter something else.
 */
const ROOT = 'test/fixtures/adapterhub';
const SPEC = join(ROOT, 'inline.adapt');

async function lastHidden(spec: string, adapterFile: string, expectedFile: string) {
  const compiled = compile(spec, {
    fileName: SPEC,
    readFile: (file) => {
      const path = join(ROOT, file);
      return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
    },
  });
  expect(compiled.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  const checkpoint = readCheckpoint('.', SPEC, 'bert-tiny', { tokenizer: false });
  const runtime = await Runtime.create({ backend: 'cpu' });
  const model = await runtime.load(compiled.program!, [
    checkpoint.weights.tensors,
    readTensorFile('.', join(ROOT, adapterFile)),
  ]);
  const expected = loadSafetensors(readFileSync(join(ROOT, expectedFile)));
  const outputs = await model.run({
    input_ids: expected.get('input_ids')!,
    attention_mask: expected.get('attention_mask')!,
    token_type_ids: expected.get('token_type_ids')!,
  });
  const want = expected.get('last_hidden_state')!.data;
  return outputs.last_hidden_state.data.reduce((m, v, i) => Math.max(m, Math.abs(v - want[i]!)), 0);
}

describe('inline adapters with the weights an AdapterHub directory holds', () => {
  const model = 'model bert-tiny from "bert-tiny" { head none }\n';

  it("preset seq_bn computes as the library's Pfeiffer adapter", async () => {
    const error = await lastHidden(
      `${model}adapter sentiment { preset seq_bn reduction 8 }`,
      'seq-bn-head/sentiment/adapter.safetensors',
      'seq-bn-head.expected.safetensors',
    );
    expect(error).toBeLessThan(1e-4);
  });

  it('the fields written out are the preset', async () => {
    const error = await lastHidden(
      `${model}adapter sentiment { reduction 8 at ffn original_ln_before true }`,
      'seq-bn-head/sentiment/adapter.safetensors',
      'seq-bn-head.expected.safetensors',
    );
    expect(error).toBeLessThan(1e-4);
  });

  it("the article's adapter on the same weights computes something else", async () => {
    const error = await lastHidden(
      `${model}adapter sentiment { reduction 8 at ffn }`,
      'seq-bn-head/sentiment/adapter.safetensors',
      'seq-bn-head.expected.safetensors',
    );
    expect(error).toBeGreaterThan(0.1);
  });

  it("preset double_seq_bn is the article's Houlsby adapter with swish", async () => {
    const houlsby = 'adapter houlsby { preset double_seq_bn reduction 8 }';
    const article = 'adapter houlsby { reduction 8 at attn, ffn activation silu }';
    for (const spec of [houlsby, article]) {
      const error = await lastHidden(
        `${model}${spec}`,
        'double-seq-bn-bin/houlsby/pytorch_adapter.bin',
        'double-seq-bn-bin.expected.safetensors',
      );
      expect(error, spec).toBeLessThan(1e-4);
    }
  });
});
