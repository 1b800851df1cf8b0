import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { compile, type CompileOptions, type Model } from '../../src/compiler/index.js';
import type { IrGraph } from '../../src/compiler/ir/types.js';
import { readCheckpoint } from '../../src/cli/checkpoint-files.js';
import { readSavedWeights } from '../../src/cli/saved-weights.js';
import type { Program } from '../../src/runtime/program.js';
import { randomInputs, type TextInputs } from '../../src/runtime/inputs.js';
import type { TensorMap } from '../../src/runtime/safetensors.js';
import { randomWeights } from './helpers.js';

/** The AdapterHub fixture's seq_bn adapter and head, and inline adapters of the same shape. */
const SPECS = 'test/fixtures/adapterhub/specs';
export const HUB_PATH = join(SPECS, 'slots.adapt');
export const HUB_SPEC = `model bert-tiny from "../bert-tiny"
adapter sentiment from "../seq-bn-head/sentiment"
head sentiment from "../seq-bn-head/sentiment-head"
adapter other { preset seq_bn reduction 8 scale 0.5 }
head other { type classification labels "x", "y", "z" }
adapter two { preset seq_bn reduction 8 }
head two { type classification labels "p", "q" }
adapter gated { preset seq_bn reduction 8 gating true }
adapter normed { preset seq_bn reduction 8 ln_before true }
adapter p1 { preset par_bn bottleneck 4 }
adapter p2 { preset par_bn bottleneck 4 scale 3 }
adapter h1 { preset houlsby bottleneck 4 }
adapter h2 { preset houlsby bottleneck 4 scale 0.25 }
adapter t1 { preset seq_bn reduction 8 }
head t1 { type tagging labels "O", "B", "I" layers 2 activation gelu }
adapter t2 { preset seq_bn reduction 8 scale 2 }
head t2 { type tagging labels "x", "y", "z" layers 2 activation gelu }
graph gs = sentiment
graph go = other
graph gp1 = p1
graph gp2 = p2
graph gh1 = h1
graph gh2 = h2
graph gt1 = t1
graph gt2 = t2
`;

export function compileHub(options: CompileOptions): {
  program: Program;
  model: Model;
  ir: IrGraph;
} {
  const result = compile(HUB_SPEC, {
    fileName: HUB_PATH,
    readFile: (file) => {
      const full = join(SPECS, file);
      return existsSync(full) ? readFileSync(full, 'utf8') : undefined;
    },
    ...options,
  });
  expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return { program: result.program!, model: result.model!, ir: result.ir! };
}

/** The checkpoint's tensors, and the saved adapter and head of graph `graph`. */
export function hubWeights(model: Model, graph: string): TensorMap[] {
  const checkpoint = readCheckpoint('.', HUB_PATH, model.base.checkpoint!.dir, {
    tokenizer: false,
  });
  return [checkpoint.weights.tensors, ...readSavedWeights('.', HUB_PATH, model, graph).tensors];
}

/** The weights of `other`'s plain graph: the checkpoint, and random adapter and head tensors. */
export function otherWeights(program: Program, model: Model): TensorMap[] {
  const random = randomWeights(program, 5);
  const own: TensorMap = new Map(
    [...random].filter(([name]) => name.includes('.other.') || name.startsWith('heads.other.')),
  );
  return [hubWeights(model, 'go')[0]!, own];
}

/** A tensor by name in files, with or without the checkpoint's `bert.` prefix. */
export function findTensor(files: readonly TensorMap[], name: string): Float32Array {
  for (const file of files) {
    const tensor = file.get(name) ?? file.get(`bert.${name}`);
    if (tensor) return tensor.data as Float32Array;
  }
  throw new Error(`no tensor '${name}'`);
}

/** Random token ids, mask and types of a checkpoint program, without adapter_index. */
export function textInputs(program: Program, batch: number, seq: number, seed: number): TextInputs {
  const inputs = randomInputs(program, batch, seq, seed) as TextInputs;
  return {
    input_ids: inputs.input_ids,
    attention_mask: inputs.attention_mask!,
    token_type_ids: inputs.token_type_ids!,
  };
}
