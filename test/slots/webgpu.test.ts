import { afterAll, describe, expect } from 'vitest';
import type { LoadedModel } from '../../src/runtime/runtime.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { GPU_TOLERANCE } from '../../src/runtime/compare.js';
import { randomInputs } from '../../src/runtime/inputs.js';
import type { Program } from '../../src/runtime/program.js';
import type { TensorMap } from '../../src/runtime/safetensors.js';
import { gpuIt, gpuRuntime } from '../helpers/gpu.js';
import {
  ARTICLE_SPEC,
  compiled,
  maxDifference,
  randomWeights,
  row,
  stackSlots,
  worst,
} from './helpers.js';
import { compileHub, findTensor, hubWeights, otherWeights, textInputs } from './hub-fixture.js';

let gpu: Runtime | undefined;
afterAll(() => gpu?.dispose());

/** Writes adapter `name`'s tensors (from `files`) and scale into slot `slot` of a loaded model. */
async function writeSlot(
  model: LoadedModel,
  program: Program,
  files: readonly TensorMap[],
  name: string,
  scale: number,
  slot: number,
): Promise<void> {
  const slots = program.slots!;
  for (const weight of slots.weights) {
    const data = findTensor(files, weight.perAdapter.replaceAll('{adapter}', name));
    await model.writeWeights(weight.name, slot * data.length, data);
  }
  await model.writeWeights(slots.scale, slot, Float32Array.of(scale));
}

describe('adapter slots on WebGPU', () => {
  gpuIt(
    'article adapters: the CPU reference within GPU_TOLERANCE; writeWeights fills a free slot',
    async () => {
      gpu ??= await gpuRuntime();
      const cpu = await Runtime.create({ backend: 'cpu' });
      const program = compiled(ARTICLE_SPEC, { slots: { adapter: 'a', count: 4 } });
      const members = (['a', 'b', 'c'] as const).map((name, i) => {
        const plain = compiled(ARTICLE_SPEC, { graph: `g${name}`, gpu: false });
        return { name, weights: randomWeights(plain, 11 + i), scale: [0.5, 2, 1][i]! };
      });
      const weights = stackSlots(program, members[0]!.weights, members.slice(0, 2));
      const onGpu = await gpu.load(program, weights);
      const onCpu = await cpu.load(program, weights);
      const inputs = randomInputs(program, 4, 5, 3);
      const index = { data: Int32Array.from([2, 0, 1, 0]), shape: [4] };
      const run = async (model: LoadedModel) =>
        model.run({ hidden_states: inputs.hidden_states!, adapter_index: index });
      expect(worst(await run(onGpu), await run(onCpu))).toBeLessThan(GPU_TOLERANCE);

      // Slot 2 was empty (zeros: row 0 is the base model's); c goes there after load.
      const before = await run(onGpu);
      for (const model of [onGpu, onCpu])
        await writeSlot(model, program, [members[2]!.weights], 'c', 1, 2);
      const after = await run(onGpu);
      const plainC = compiled(ARTICLE_SPEC, { graph: 'gc', gpu: false });
      const cWeights = new Map(members[0]!.weights);
      for (const [name, tensor] of members[2]!.weights)
        if (name.includes('.c.')) cWeights.set(name, tensor);
      const expected = await (
        await cpu.load(plainC, cWeights)
      ).run({ hidden_states: inputs.hidden_states! });
      const shape = after.hidden_states.shape;
      expect(
        maxDifference(
          row(after.hidden_states.data, shape, 0),
          row(expected.hidden_states.data, shape, 0),
        ),
      ).toBeLessThan(GPU_TOLERANCE);
      expect(
        maxDifference(
          row(before.hidden_states.data, shape, 0),
          row(after.hidden_states.data, shape, 0),
        ),
      ).toBeGreaterThan(1e-3);
      // The other rows kept their slots.
      expect(
        maxDifference(
          row(before.hidden_states.data, shape, 1),
          row(after.hidden_states.data, shape, 1),
        ),
      ).toBe(0);
      expect(worst(after, await run(onCpu))).toBeLessThan(GPU_TOLERANCE);
      // The caller's arrays are not changed by writes.
      expect(weights.get(program.slots!.scale)!.data[2]).toBe(0);
      cpu.dispose();
    },
  );

  gpuIt(
    'AdapterHub adapters with heads: the CPU reference within GPU_TOLERANCE; writeWeights',
    async () => {
      gpu ??= await gpuRuntime();
      const cpu = await Runtime.create({ backend: 'cpu' });
      const { program, model } = compileHub({ slots: { adapter: 'sentiment', count: 2 } });
      const plainO = compileHub({ graph: 'go', gpu: false }).program;
      const sWeights = hubWeights(model, 'gs');
      const oWeights = otherWeights(plainO, model);
      // Both slots start as sentiment; other replaces slot 1 after load.
      const stacked: TensorMap = new Map();
      const slots = program.slots!;
      for (const weight of slots.weights) {
        const one = findTensor(sWeights, weight.perAdapter.replaceAll('{adapter}', 'sentiment'));
        const data = new Float32Array(2 * one.length);
        data.set(one, 0);
        data.set(one, one.length);
        stacked.set(weight.name, { dtype: 'F32', shape: weight.shape, data });
      }
      stacked.set(slots.scale, { dtype: 'F32', shape: [2], data: Float32Array.of(1, 1) });
      const onGpu = await gpu.load(program, [sWeights[0]!, stacked]);
      const onCpu = await cpu.load(program, [sWeights[0]!, stacked]);
      const inputs = textInputs(program, 3, 6, 4);
      const run = (m: LoadedModel) =>
        m.run({ ...inputs, adapter_index: { data: Int32Array.from([1, 0, 1]), shape: [3] } });
      const before = await run(onGpu);
      expect(worst(before, await run(onCpu))).toBeLessThan(GPU_TOLERANCE);
      for (const m of [onGpu, onCpu]) await writeSlot(m, program, oWeights, 'other', 0.5, 1);
      const after = await run(onGpu);
      expect(worst(after, await run(onCpu))).toBeLessThan(GPU_TOLERANCE);
      const plainInputs = inputs;
      const expected = await (await cpu.load(plainO, oWeights)).run(plainInputs);
      for (const name of ['logits', 'last_hidden_state'] as const) {
        const got = after[name]!;
        expect(
          maxDifference(row(got.data, got.shape, 0), row(expected[name]!.data, got.shape, 0)),
        ).toBeLessThan(GPU_TOLERANCE);
        expect(
          maxDifference(row(got.data, got.shape, 1), row(before[name]!.data, got.shape, 1)),
        ).toBe(0);
      }
      cpu.dispose();
    },
  );

  gpuIt(
    'a tagging head per token, unfused: the CPU reference; base weights cannot be written',
    async () => {
      gpu ??= await gpuRuntime();
      const cpu = await Runtime.create({ backend: 'cpu' });
      for (const fuse of [true, false]) {
        const { program, model } = compileHub({ slots: { adapter: 't1', count: 3 }, fuse });
        const base = hubWeights(model, 'gt1')[0]!;
        const slotNames = new Set([
          ...program.slots!.weights.map((w) => w.name),
          program.slots!.scale,
        ]);
        const files = [
          base,
          new Map([...randomWeights(program, 8)].filter(([n]) => slotNames.has(n))),
        ];
        const inputs = {
          ...textInputs(program, 3, 5, 1),
          adapter_index: { data: Int32Array.of(2, 0, 1), shape: [3] },
        };
        const onGpu = await gpu.load(program, files);
        const got = await onGpu.run(inputs);
        expect(got.logits!.shape).toEqual([3, 5, 3]);
        expect(worst(got, await (await cpu.load(program, files)).run(inputs))).toBeLessThan(
          GPU_TOLERANCE,
        );
        if (fuse) {
          const baseWeight = program.weights.find((w) => w.name.endsWith('output.dense.weight'))!;
          await expect(onGpu.writeWeights(baseWeight.name, 0, Float32Array.of(1))).rejects.toThrow(
            /holds weight '.*output.dense.weight' transposed; it cannot be written in place/,
          );
        }
        onGpu.dispose();
      }
      cpu.dispose();
    },
  );

  gpuIt('scalar and vec4 lanes, sequences of 1 to 9 tokens: the CPU reference', async () => {
    gpu ??= await gpuRuntime();
    const cpu = await Runtime.create({ backend: 'cpu' });
    const source = `model m { hidden 12 heads 2 ffn 24 layers 1 }
adapter odd { bottleneck 3 at ffn parallel attn activation silu }
adapter four { bottleneck 4 at ffn activation relu }
`;
    for (const adapter of ['odd', 'four']) {
      const program = compiled(source, { slots: { adapter, count: 5 } });
      const kernels = program.gpu!.kernels.map((k) => k.name).filter((n) => n.startsWith('slot_'));
      expect(kernels.some((n) => n.endsWith('_v4'))).toBe(adapter === 'four');
      const weights = randomWeights(program, 2);
      const onGpu = await gpu.load(program, weights);
      const onCpu = await cpu.load(program, weights);
      for (const seq of [1, 5, 9]) {
        const inputs = randomInputs(program, 3, seq, seq);
        const run = {
          hidden_states: inputs.hidden_states!,
          adapter_index: { data: Int32Array.of(4, 1, 3), shape: [3] },
        };
        expect(worst(await onGpu.run(run), await onCpu.run(run))).toBeLessThan(GPU_TOLERANCE);
      }
      onGpu.dispose();
    }
    cpu.dispose();
  });
});
