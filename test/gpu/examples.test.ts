import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect } from 'vitest';
import { compile } from '../../src/compiler/index.js';
import { normalArray } from '../../src/runtime/random.js';
import { Runtime } from '../../src/runtime/runtime.js';
import type { TensorMap } from '../../src/runtime/safetensors.js';
import { initWeights } from '../../src/runtime/weights.js';
import { gpuIt, gpuRuntime } from '../helpers/gpu.js';
import { relativeError } from '../helpers/numerics.js';

const examplesDir = new URL('../../examples/', import.meta.url);
const examples = readdirSync(examplesDir).filter((f) => f.endsWith('.adapt'));

/**
 * One set of weights for every graph of a file (each tensor's values depend on its name only).
 * Adapters start near identity (std 0.01), so they are scaled up to matter. Fusion weights stay
 * as initialized: scaled up, the fusion softmax saturates and a 12-layer result turns chaotic,
 * so that even two f64 CPU evaluations in different orders disagree by percents.
 */
function weightsFor(source: string, file: string, graphs: Iterable<string>): TensorMap {
  const weights: TensorMap = new Map();
  for (const graph of graphs) {
    const program = compile(source, { fileName: file, graph, fuse: false }).program!;
    for (const [name, tensor] of initWeights(program, 17)) weights.set(name, tensor);
  }
  for (const [name, tensor] of weights) {
    if (name.includes('adapters.')) tensor.data.set(tensor.data.map((v) => v * 20));
  }
  return weights;
}

describe('every example on WebGPU against the CPU reference', () => {
  for (const file of examples) {
    gpuIt(
      `${file}: every graph, fused and unfused, within 1e-4`,
      async () => {
        const source = readFileSync(new URL(file, examplesDir), 'utf8');
        const graphs = [...compile(source, { fileName: file }).model!.graphs.keys()];
        const weights = weightsFor(source, file, graphs);
        const gpu = await gpuRuntime();
        const cpu = await Runtime.create({ backend: 'cpu' });
        try {
          for (const graph of graphs) {
            const reference = compile(source, { fileName: file, graph, fuse: false }).program!;
            const d = reference.model.hidden;
            const [batch, seq] = [2, 3];
            const inputs = {
              hidden_states: { data: normalArray(batch * seq * d, 5), shape: [batch, seq, d] },
              attention_mask: { data: Int32Array.from([1, 1, 1, 1, 1, 0]), shape: [batch, seq] },
              ...(reference.branches
                ? { adapter_index: { data: Int32Array.from([1, 0]), shape: [batch] } }
                : {}),
            };
            const expected = (await (await cpu.load(reference, weights)).run(inputs)).hidden_states;
            for (const fuse of [true, false]) {
              const program = compile(source, { fileName: file, graph, fuse }).program!;
              const model = await gpu.load(program, weights);
              const out = (await model.run(inputs)).hidden_states;
              model.dispose();
              expect(relativeError(out.data, expected.data), `${graph}, fuse ${fuse}`).toBeLessThan(
                1e-4,
              );
            }
          }
        } finally {
          gpu.dispose();
          cpu.dispose();
        }
      },
      300_000,
    );
  }
});
