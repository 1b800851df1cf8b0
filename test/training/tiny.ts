import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { compile } from '../../src/compiler/index.js';
import type { Program } from '../../src/runtime/program.js';
import { loadSafetensors } from '../../src/runtime/safetensors.js';
import { loadTokenizer, type TextTokenizer } from '../../src/runtime/text/tokenizer.js';
import { bindWeights, initTensor } from '../../src/runtime/weights.js';

/** The tiny BERT checkpoint of test/fixtures/hf (hidden 32, 2 layers, 3 labels). */
export const HF_FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'hf');

export const TINY_SPEC = `model tiny from "bert-seq-cls"
adapter a { bottleneck 4 activation gelu at ffn }
adapter b { bottleneck 2 activation relu at ffn }
fusion f { adapters a, b }
graph default = a
graph fused = f
`;

/** A spec on a fixture checkpoint, compiled as training takes it: { fuse: false }, CPU only. */
export function tinyProgram(source = TINY_SPEC, graph = 'default'): Program {
  const result = compile(source, {
    fuse: false,
    gpu: false,
    graph,
    readFile: (path) => {
      const file = join(HF_FIXTURES, path);
      return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    },
  });
  expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return result.program!;
}

export function tinyTokenizer(checkpoint = 'bert-seq-cls'): TextTokenizer {
  return loadTokenizer(readFileSync(join(HF_FIXTURES, checkpoint, 'tokenizer.json'), 'utf8'));
}

/** The checkpoint's weights, and seeded ones for what it lacks (the adapters, the fusion). */
export function tinyWeights(
  program: Program,
  checkpoint = 'bert-seq-cls',
): Map<string, Float32Array> {
  const file = loadSafetensors(readFileSync(join(HF_FIXTURES, checkpoint, 'model.safetensors')));
  const seeded = new Map(
    program.weights
      .filter((w) => /\.(adapters|adapter_fusion_layer)\./.test(w.name))
      .map((w) => [w.name, { dtype: 'F32' as const, shape: w.shape, data: initTensor(w, 1) }]),
  );
  return new Map(bindWeights(program, [file, seeded]).tensors);
}
