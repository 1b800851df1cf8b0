import { readFileSync } from 'node:fs';
import { describe, expect } from 'vitest';
import { compile } from '../../src/compiler/index.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { loadSafetensors } from '../../src/runtime/safetensors.js';
import { gpuIt, gpuRuntime } from '../helpers/gpu.js';
import { relativeError } from '../helpers/numerics.js';

const dir = new URL('../fixtures/torch/', import.meta.url);
const cases = (
  JSON.parse(readFileSync(new URL('cases.json', dir), 'utf8')) as { name: string }[]
).map((c) => c.name);
const load = (name: string, part: string) =>
  loadSafetensors(readFileSync(new URL(`${name}.${part}.safetensors`, dir)));

describe('WebGPU against the CPU reference, on the PyTorch fixtures', () => {
  for (const target of ['software', 'gpu'] as const) {
    for (const fuse of [true, false]) {
      gpuIt(
        `${target} kernels, ${fuse ? 'fused' : 'unfused'}: every fixture within 1e-4`,
        async () => {
          const gpu = await gpuRuntime();
          const cpu = await Runtime.create({ backend: 'cpu' });
          try {
            for (const name of cases) {
              const source = readFileSync(new URL(`${name}.adapt`, dir), 'utf8');
              const weights = load(name, 'weights');
              const input = load(name, 'input');
              const inputs = {
                hidden_states: input.get('hidden_states')!,
                attention_mask: input.get('attention_mask'),
                adapter_index: input.get('adapter_index'),
              };
              const onGpu = compile(source, { fileName: name, fuse, target }).program!;
              const reference = compile(source, { fileName: name, fuse: false }).program!;
              const out = await (await gpu.load(onGpu, weights)).run(inputs);
              const ref = await (await cpu.load(reference, weights)).run(inputs);
              const expected = load(name, 'expected').get('hidden_states')!.data;
              expect(
                relativeError(out.hidden_states.data, ref.hidden_states.data),
                name,
              ).toBeLessThan(1e-4);
              expect(relativeError(out.hidden_states.data, expected), name).toBeLessThan(1e-4);
            }
          } finally {
            gpu.dispose();
            cpu.dispose();
          }
        },
      );
    }
  }
});
