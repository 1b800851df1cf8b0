import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compiler/index.js';
import { exportOnnx } from '../../src/compiler/onnx/index.js';
import { randomInputs } from '../../src/runtime/inputs.js';
import { Runtime } from '../../src/runtime/runtime.js';
import type { RunOutputs } from '../../src/runtime/runtime.js';
import {
  ARTICLE_SPEC,
  compiled,
  maxDifference,
  randomWeights,
  stackSlots,
  worst,
} from './helpers.js';
import { compileHub, hubWeights, textInputs } from './hub-fixture.js';

describe('adapter slots exported to ONNX', () => {
  it('article adapters: onnxruntime-web equals the CPU reference', async () => {
    const result = compile(ARTICLE_SPEC, { slots: { adapter: 'a', count: 3 }, gpu: false });
    const program = result.program!;
    const members = ['a', 'b', 'c'].map((name, i) => ({
      name,
      weights: randomWeights(compiled(ARTICLE_SPEC, { graph: `g${name}`, gpu: false }), 21 + i),
      scale: [0.5, 2, 1][i]!,
    }));
    const weights = stackSlots(program, members[0]!.weights, members);
    const inputs = randomInputs(program, 3, 4, 8);
    const run = {
      hidden_states: inputs.hidden_states!,
      adapter_index: { data: Int32Array.of(2, 0, 1), shape: [3] },
    };
    const cpu = await Runtime.create({ backend: 'cpu' });
    const reference = (await (await cpu.load(program, weights)).run(run)) as RunOutputs;
    const ort = await Runtime.create({ backend: 'onnx' });
    const onnx = (bound: ReadonlyMap<string, Float32Array>) =>
      exportOnnx(result.ir!, bound, { fileName: 'slots.adapt', graph: program.graph });
    const model = await ort.load(program, weights, { onnx });
    const got = await model.run(run);
    expect(maxDifference(got.hidden_states.data, reference.hidden_states.data)).toBeLessThan(1e-5);
    // This export made the slot weights initializers: the session cannot change them.
    await expect(model.writeWeights(program.slots!.scale, 0, Float32Array.of(1))).rejects.toThrow(
      /the onnx backend holds weight 'slots.scale' in its session/,
    );
    // One that makes them inputs, as the runtime asks: a write is seen by the next run.
    const fed = await ort.load(program, weights, {
      onnx: (bound, form) =>
        exportOnnx(result.ir!, bound, {
          fileName: 'slots.adapt',
          graph: program.graph,
          weightInputs: form.weightInputs,
        }),
    });
    const reference2 = await cpu.load(program, weights);
    for (const m of [fed, reference2])
      await m.writeWeights(program.slots!.scale, 2, Float32Array.of(0.25));
    const written = (await fed.run(run)) as RunOutputs;
    const expected = (await reference2.run(run)) as RunOutputs;
    expect(maxDifference(written.hidden_states.data, expected.hidden_states.data)).toBeLessThan(
      1e-5,
    );
    expect(maxDifference(written.hidden_states.data, got.hidden_states.data)).toBeGreaterThan(1e-3);
    cpu.dispose();
    ort.dispose();
  });

  it('AdapterHub adapter with its head: logits and last_hidden_state', async () => {
    const slots = { adapter: 'sentiment', count: 2 };
    const { program, model, ir } = compileHub({ slots, gpu: false });
    const slotNames = new Set([...program.slots!.weights.map((w) => w.name), program.slots!.scale]);
    const random = randomWeights(program, 3);
    const files = [
      hubWeights(model, 'gs')[0]!,
      new Map([...random].filter(([name]) => slotNames.has(name))),
    ];
    const inputs = {
      ...textInputs(program, 2, 5, 6),
      adapter_index: { data: Int32Array.of(1, 0), shape: [2] },
    };
    const cpu = await Runtime.create({ backend: 'cpu' });
    const reference = await (await cpu.load(program, files)).run(inputs);
    const ort = await Runtime.create({ backend: 'onnx' });
    const onnx = (bound: ReadonlyMap<string, Float32Array>) =>
      exportOnnx(ir, bound, { fileName: 'slots.adapt', graph: program.graph });
    const got = await (await ort.load(program, files, { onnx })).run(inputs);
    expect(Object.keys(got).sort()).toEqual(['last_hidden_state', 'logits']);
    expect(worst(got, reference)).toBeLessThan(1e-5);
    cpu.dispose();
    ort.dispose();
  });
});
