import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compile } from '../src/compiler/index.js';
import { ResourceError } from '../src/runtime/errors.js';
import type { TextInputs } from '../src/runtime/inputs.js';
import type { TextOutputs } from '../src/runtime/runtime.js';
import { loadSafetensors } from '../src/runtime/safetensors.js';
import { gpuIt, gpuRuntime } from './helpers/gpu.js';
import { relativeError } from './helpers/numerics.js';

const config = readFileSync('test/fixtures/hf/bert-seq-cls/config.json', 'utf8');
const readFile = (path: string) => (path === 'ckpt/config.json' ? config : undefined);
const source = 'model tiny from "ckpt"\n';

describe('weights one storage binding cannot hold, even split', () => {
  it('are a ResourceError naming them where they cannot be split', () => {
    // The position and type tables, gamma and beta share one binding: 4,608 bytes.
    expect(() => compile(source, { readFile, maxBindingBytes: 4096 })).toThrow(ResourceError);
    expect(() => compile(source, { readFile, maxBindingBytes: 4096 })).toThrow(
      /^embeddings\.position_embeddings\.weight, embeddings\.token_type_embeddings\.weight, embeddings\.LayerNorm\.weight, embeddings\.LayerNorm\.bias take 4\.5 KiB, past the 4\.0 KiB one storage binding holds for this compile/,
    );
  });

  it('do not stop a compile for the CPU reference alone, which has no WebGPU plan', () => {
    const { program } = compile(source, { readFile, maxBindingBytes: 4096, gpu: false });
    expect(program!.gpu).toBeUndefined();
    expect(program!.model.text!.vocab).toBe(44);
    expect(() => compile(source, { readFile, gpu: 'no' as unknown as boolean })).toThrow(
      "compile: option 'gpu' must be a boolean",
    );
  });
});

describe('a word table past one storage binding', () => {
  const expected = loadSafetensors(
    readFileSync('test/fixtures/hf/bert-seq-cls.expected.safetensors'),
  );
  const tensors = loadSafetensors(readFileSync('test/fixtures/hf/bert-seq-cls/model.safetensors'));
  // 44 x 32 f32 is 5,632 bytes: two windows of 39 and 5 rows; the 4,608 bytes of the position
  // and type tables, gamma and beta still share one binding.
  const limit = 5000;

  it('is gathered in windows of rows, the embeddings normalized in a last part', () => {
    for (const fuse of [true, false]) {
      const plan = compile(source, { readFile, maxBindingBytes: limit, fuse }).program!.gpu!;
      const kernel = (d: { kernel: number }) => plan.kernels[d.kernel]!.name;
      const first = plan.dispatches.filter((d) => d.node === plan.dispatches[0]!.node);
      expect(first.map(kernel)).toEqual(
        fuse
          ? [
              'gather_44x32_rows0+39_ids-first',
              'gather_44x32_rows39+5_ids-first',
              expect.stringMatching(/^embeddings_rest_44x32_p32_t2_ln/),
            ]
          : ['gather_44x32_rows0+39_table-first', 'gather_44x32_rows39+5_table-first'],
      );
    }
  });

  gpuIt('gives PyTorch’s outputs within 1e-4 on WebGPU, fused and not', async () => {
    const runtime = await gpuRuntime();
    try {
      for (const fuse of [true, false]) {
        const target = runtime.adapter!.profile;
        const { program } = compile(source, { readFile, maxBindingBytes: limit, fuse, target });
        const model = await runtime.load(program!, tensors);
        const outputs = await model.run({
          input_ids: expected.get('input_ids')!,
          attention_mask: expected.get('attention_mask')!,
          token_type_ids: expected.get('token_type_ids')!,
        } as TextInputs);
        for (const name of ['last_hidden_state', 'logits'] as const) {
          const got = (outputs as TextOutputs)[name]!.data;
          expect(relativeError(got, expected.get(name)!.data as Float32Array)).toBeLessThan(1e-4);
        }
        model.dispose();
      }
    } finally {
      runtime.dispose();
    }
  });
});
