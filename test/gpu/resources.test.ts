import { afterAll, describe, expect } from 'vitest';
import { InputError } from '../../src/runtime/errors.js';
import { Runtime, type LoadedModel } from '../../src/runtime/runtime.js';
import type { RunInputs } from '../../src/runtime/inputs.js';
import { describeInputs, testInputs, type TestInputs } from '../helpers/gpu-cases.js';
import { gpuIt, gpuRuntime } from '../helpers/gpu.js';
import { gpuModelFixture } from '../helpers/gpu-model.js';
import { relativeError } from '../helpers/numerics.js';

/**
 * GPU resources over a model's life: buffers stay put across runs, dispose frees them, inputs
 * that grow reallocate, a lost device is recovered, and bad inputs fail as clearly as on the CPU.
 */

const SOURCE = `
model small {
  hidden 8
  heads 2
  ffn 19
  layers 2
  norm pre
  attention causal
}
adapter a { bottleneck 3 at attn, ffn scale 2 }
adapter b { bottleneck 5 activation gelu parallel ffn }
graph main = stack(a, b)
graph routed = batch(a, b)
`;
const D = 8;

const fixture = gpuModelFixture(SOURCE, 'main', 11);
const { program, gpu, reference } = fixture;
const WEIGHTS = fixture.weights;
afterAll(() => fixture.dispose());

async function expectMatchesReference(
  model: LoadedModel,
  graph: string,
  inputs: TestInputs,
): Promise<Float32Array> {
  const out = (await model.run(inputs)).hidden_states.data;
  const error = relativeError(out, await reference(graph, inputs));
  expect(error, `graph ${graph}, ${describeInputs(inputs)}`).toBeLessThanOrEqual(1e-4);
  return out;
}

const sameBits = (a: Float32Array, b: Float32Array) =>
  a.length === b.length &&
  new Uint32Array(a.buffer, a.byteOffset, a.length).every(
    (word, i) => word === new Uint32Array(b.buffer, b.byteOffset, b.length)[i],
  );

const live = (model: LoadedModel) => model.stats!().liveBuffers;

describe('one loaded model over many runs', () => {
  gpuIt('200 runs keep the buffer count and give bitwise identical outputs', async () => {
    const model = await (await gpu()).load(program('main'), WEIGHTS);
    try {
      // Warm each size once (7 grows the buffers that 5 and 3 made), then count the buffers.
      const sizes = [5, 3, 7, 1];
      const inputs = new Map(
        sizes.map((seq) => [seq, testInputs(D, 2, seq, 100 + seq, { mask: true })]),
      );
      const first = new Map<number, Float32Array>();
      for (const seq of sizes) {
        first.set(seq, await expectMatchesReference(model, 'main', inputs.get(seq)!));
      }
      const snapshot = inputs.get(5)!.hidden_states.data.slice();
      const buffers = live(model);
      const dispatches = model.stats!().dispatchesPerRun;
      expect(buffers).toBeGreaterThan(0);

      for (let run = 0; run < 200; run++) {
        // The first half repeats B=2, T=5; the second half cycles through the warmed sizes.
        const seq = run < 100 ? 5 : sizes[run % sizes.length]!;
        const out = await model.run(inputs.get(seq)!);
        expect(out.hidden_states.shape).toEqual([2, seq, D]);
        if (!sameBits(out.hidden_states.data, first.get(seq)!)) {
          throw new Error(`run ${run} (T=${seq}) differs from the first run at that size`);
        }
        if (live(model) !== buffers) {
          throw new Error(`run ${run} (T=${seq}): ${live(model)} live buffers, was ${buffers}`);
        }
      }
      expect(model.stats!().dispatchesPerRun).toBe(dispatches);
      expect(inputs.get(5)!.hidden_states.data, 'run() must not write to its inputs').toEqual(
        snapshot,
      );
    } finally {
      model.dispose();
    }
  });

  gpuIt(
    'growing B and T reallocates activations, keeps the buffer count and stays exact',
    async () => {
      const model = await (await gpu()).load(program('main'), WEIGHTS);
      try {
        const small = testInputs(D, 1, 4, 7, { mask: true });
        const before = await expectMatchesReference(model, 'main', small);
        const buffers = live(model);
        const bytes = model.stats!().activationBytes;

        await expectMatchesReference(model, 'main', testInputs(D, 2, 64, 8, { mask: true }));
        expect(model.stats!().activationBytes).toBeGreaterThan(bytes);
        expect(live(model)).toBe(buffers);

        await expectMatchesReference(model, 'main', testInputs(D, 3, 9, 9));
        expect(live(model)).toBe(buffers);

        // Back to the first size: the larger buffers serve it, with the same result.
        const again = await expectMatchesReference(model, 'main', small);
        expect(sameBits(again, before), 'T=4 after growing differs from T=4 before').toBe(true);
        expect(live(model)).toBe(buffers);
        expect(model.stats!().activationBytes).toBe(bytes);
      } finally {
        model.dispose();
      }
    },
  );
});

describe('dispose', () => {
  gpuIt('model.dispose() frees every buffer, and a disposed model refuses to run', async () => {
    const rt = await gpu();
    const model = await rt.load(program('main'), WEIGHTS);
    const other = await rt.load(program('routed'), WEIGHTS);
    const inputs = testInputs(D, 2, 5, 21, { mask: true });
    await model.run(inputs);
    expect(live(model)).toBeGreaterThan(0);
    model.dispose();
    expect(live(model)).toBe(0);
    model.dispose(); // twice is harmless
    await expect(model.run(inputs)).rejects.toThrow(/this model was disposed/);
    // The runtime and its other models carry on.
    const routed = testInputs(D, 2, 5, 22, { mask: true, branches: 2 });
    await expectMatchesReference(other, 'routed', routed);
    other.dispose();
    expect(live(other)).toBe(0);
  });

  gpuIt('rt.dispose() frees both models it loaded; they and it refuse further use', async () => {
    const rt = await gpuRuntime();
    const first = await rt.load(program('main'), WEIGHTS);
    const second = await rt.load(program('routed'), WEIGHTS);
    const inputs = testInputs(D, 2, 5, 31, { branches: 2 });
    await first.run({ hidden_states: inputs.hidden_states });
    await second.run(inputs);
    expect(live(first)).toBeGreaterThan(0);
    expect(live(second)).toBeGreaterThan(0);
    rt.dispose();
    expect(live(first)).toBe(0);
    expect(live(second)).toBe(0);
    await expect(first.run({ hidden_states: inputs.hidden_states })).rejects.toThrow(
      /this model was disposed/,
    );
    await expect(second.run(inputs)).rejects.toThrow(/this model was disposed/);
    await expect(rt.load(program('main'), WEIGHTS)).rejects.toThrow(/this runtime was disposed/);
    rt.dispose(); // twice is harmless
  });
});

describe('device loss', () => {
  const destroyDevice = (rt: Runtime): GPUDevice => {
    // The runtime's GpuDevice (src/runtime/webgpu/device.ts) holds the GPUDevice.
    const device = (rt as unknown as { device: { device: GPUDevice } }).device.device;
    device.destroy();
    return device;
  };

  gpuIt('is reported, and the next runs of every model rebuild and stay exact', async () => {
    const notices: string[] = [];
    const rt = await gpuRuntime(notices);
    try {
      const main = await rt.load(program('main'), WEIGHTS);
      const routed = await rt.load(program('routed'), WEIGHTS);
      const inputs = testInputs(D, 2, 5, 41, { mask: true });
      const routedInputs = testInputs(D, 3, 3, 42, { branches: 2 });
      await expectMatchesReference(main, 'main', inputs);
      await expectMatchesReference(routed, 'routed', routedInputs);
      const buffers = [live(main), live(routed)];

      const lost = destroyDevice(rt);
      await lost.lost; // the loss has been reported by the device
      // A model loaded after the loss, before anything noticed it, works too.
      const late = await rt.load(program('main'), WEIGHTS);

      await expectMatchesReference(main, 'main', inputs);
      await expectMatchesReference(routed, 'routed', routedInputs);
      await expectMatchesReference(late, 'main', inputs);
      expect(
        notices.filter((n) => /device was lost/.test(n)),
        notices.join('\n'),
      ).toHaveLength(1);
      expect([live(main), live(routed)]).toEqual(buffers);
    } finally {
      rt.dispose();
    }
  });

  gpuIt('the run right after the loss recovers too', async () => {
    const notices: string[] = [];
    const rt = await gpuRuntime(notices);
    try {
      const model = await rt.load(program('main'), WEIGHTS);
      const inputs = testInputs(D, 2, 5, 51, { mask: true });
      await expectMatchesReference(model, 'main', inputs);
      destroyDevice(rt);
      // No wait: the runtime learns of the loss while this run is under way.
      await expectMatchesReference(model, 'main', inputs).catch((error: unknown) => {
        const name = error instanceof Error ? error.name : typeof error;
        throw new Error(
          `the first run after the device loss rejected with ${name} '${(error as Error).message}'`,
          { cause: error },
        );
      });
      expect(
        notices.some((n) => /device was lost/.test(n)),
        notices.join('\n'),
      ).toBe(true);
    } finally {
      rt.dispose();
    }
  });
});

describe('wrong inputs on WebGPU fail as on the CPU', () => {
  const hidden = (batch: number, seq: number, d = D) => ({
    data: new Float32Array(batch * seq * d).fill(0.5),
    shape: [batch, seq, d],
  });
  const bad: [string, string, RunInputs][] = [
    ['main', 'wrong hidden size', { hidden_states: hidden(2, 5, D + 1) }],
    [
      'main',
      'hidden_states of rank 2',
      { hidden_states: { data: new Float32Array(16), shape: [2, 8] } },
    ],
    ['main', 'an empty sequence', { hidden_states: hidden(2, 0) }],
    [
      'main',
      'data that does not fill the shape',
      { hidden_states: { data: new Float32Array(7), shape: [1, 1, D] } },
    ],
    [
      'main',
      'a mask of the wrong shape',
      { hidden_states: hidden(2, 5), attention_mask: { data: new Int32Array(10), shape: [5, 2] } },
    ],
    [
      'main',
      'an unknown input',
      {
        hidden_states: hidden(1, 2),
        adapter_index: { data: new Int32Array([0]), shape: [1] },
      },
    ],
    ['routed', 'adapter_index missing', { hidden_states: hidden(2, 3) }],
    [
      'routed',
      'adapter_index out of range',
      { hidden_states: hidden(2, 3), adapter_index: { data: new Int32Array([0, 2]), shape: [2] } },
    ],
    [
      'routed',
      'a negative adapter_index',
      { hidden_states: hidden(2, 3), adapter_index: { data: new Int32Array([-1, 0]), shape: [2] } },
    ],
    [
      'routed',
      'a fractional adapter_index',
      {
        hidden_states: hidden(2, 3),
        adapter_index: { data: new Float32Array([0, 0.5]), shape: [2] },
      },
    ],
    [
      'routed',
      'adapter_index of the wrong shape',
      { hidden_states: hidden(2, 3), adapter_index: { data: new Int32Array([0]), shape: [1] } },
    ],
  ];

  gpuIt('the same InputError message for each, and the model works afterwards', async () => {
    const rt = await gpu();
    for (const graph of ['main', 'routed']) {
      const onCpu = await (await fixture.cpu()).load(program(graph, false), WEIGHTS);
      const onGpu = await rt.load(program(graph), WEIGHTS);
      const good = testInputs(D, 2, 3, 61, graph === 'routed' ? { branches: 2 } : {});
      await onGpu.run(good);
      const buffers = live(onGpu);
      for (const [which, what, inputs] of bad) {
        if (which !== graph) continue;
        const expected = await onCpu.run(inputs).then(
          () => undefined,
          (error: unknown) => error,
        );
        expect(expected, `${what}: the CPU should reject it with an InputError`).toBeInstanceOf(
          InputError,
        );
        const message = (expected as InputError).message;
        const actual = await onGpu.run(inputs).then(
          () => undefined,
          (error: unknown) => error,
        );
        expect(actual, `${what}: WebGPU should reject it like the CPU (${message})`).toBeInstanceOf(
          InputError,
        );
        expect((actual as InputError).message, what).toBe(message);
      }
      expect(live(onGpu)).toBe(buffers);
      await expectMatchesReference(onGpu, graph, good);
      onCpu.dispose();
      onGpu.dispose();
    }
  });
});
