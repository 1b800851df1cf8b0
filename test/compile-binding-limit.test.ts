import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compile } from '../src/compiler/index.js';
import { ResourceError } from '../src/runtime/errors.js';

const config = readFileSync('test/fixtures/hf/bert-seq-cls/config.json', 'utf8');
const readFile = (path: string) => (path === 'ckpt/config.json' ? config : undefined);
const source = 'model tiny from "ckpt"\n';

describe('weights one storage binding cannot hold', () => {
  it('are a ResourceError naming the table when it is read by rows, not split', () => {
    // The word table is 44 x 32 f32: 5,632 bytes.
    expect(() => compile(source, { readFile, maxBindingBytes: 4096 })).toThrow(ResourceError);
    expect(() => compile(source, { readFile, maxBindingBytes: 4096 })).toThrow(
      /^embeddings\.word_embeddings\.weight takes 5\.5 KiB, past the 4\.0 KiB one storage binding holds for this compile/,
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
