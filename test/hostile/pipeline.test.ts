import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compiler/index.js';
import { MAX_STORAGE_BINDINGS } from '../../src/compiler/ir/limits.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { randomInputs, type RunInputs } from '../../src/runtime/inputs.js';
import { initWeights } from '../../src/runtime/weights.js';
import { gpuIt, gpuRuntime } from '../helpers/gpu.js';
import { relativeError } from '../helpers/numerics.js';

/** Specs that are valid but odd: many adapters in one fusion, many branches in one batch. */
function adapters(count: number, site: (i: number) => string): string {
  return Array.from(
    { length: count },
    (_, i) => `adapter a${i} { bottleneck ${1 + (i % 3)} at ${site(i)} }`,
  ).join('\n');
}
const names = (count: number) => Array.from({ length: count }, (_, i) => `a${i}`).join(', ');
const MODEL = 'model m { hidden 5 heads 1 ffn 3 layers 2 }';
const SPECS: Readonly<Record<string, string>> = {
  'a fusion of 16 adapters': `${MODEL}\n${adapters(16, () => 'ffn')}\nfusion f { adapters ${names(16)} }`,
  'a fusion of 7 adapters at both sites': `${MODEL}\n${adapters(7, () => 'attn, ffn')}\nfusion f { adapters ${names(7)} at attn, ffn }`,
  'a batch of 15 branches': `${MODEL}\n${adapters(15, (i) => (i % 2 ? 'ffn' : 'attn'))}\ngraph default = batch(${names(15)})`,
  'a batch of fusions of 7': `${MODEL}\n${adapters(7, () => 'ffn')}\nfusion f { adapters ${names(7)} }\nfusion g { adapters ${names(
    7,
  )
    .split(', ')
    .reverse()
    .join(', ')} }\ngraph default = batch(f, g, a0, a1, a2, a3, a4, a5)`,
};

function programs(source: string) {
  return [true, false].map((fuse) => {
    const result = compile(source, { fileName: 'odd.adapt', fuse });
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    return result.program!;
  });
}

describe('kernels bind no more storage buffers than every WebGPU device allows', () => {
  for (const [name, source] of Object.entries(SPECS)) {
    it(`${name}: at most ${MAX_STORAGE_BINDINGS} per kernel, fused and unfused`, () => {
      for (const program of programs(source)) {
        const most = Math.max(...program.gpu!.kernels.map((k) => k.storageBindings));
        expect(most).toBeLessThanOrEqual(MAX_STORAGE_BINDINGS);
      }
    });

    gpuIt(`${name}: WebGPU agrees with the CPU reference`, async () => {
      const gpu = await gpuRuntime();
      const cpu = await Runtime.create({ backend: 'cpu' });
      try {
        for (const program of programs(source)) {
          const weights = initWeights(program, 1);
          // 16 sequences: every branch of a batch is taken, and an index past them gives zeros.
          const inputs = randomInputs(program, 16, 3, 2) as RunInputs;
          const expected = (await (await cpu.load(program, weights)).run(inputs)).hidden_states;
          const got = (await (await gpu.load(program, weights)).run(inputs)).hidden_states;
          expect(relativeError(got.data, expected.data)).toBeLessThanOrEqual(1e-4);
        }
      } finally {
        cpu.dispose();
      }
    });
  }
});
