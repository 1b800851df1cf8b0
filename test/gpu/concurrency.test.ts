import { afterAll, describe, expect, it } from 'vitest';
import { AdaptRuntimeError } from '../../src/runtime/errors.js';
import { Runtime } from '../../src/runtime/runtime.js';
import type { GpuDevice } from '../../src/runtime/webgpu/device.js';
import { describeInputs, testInputs, type TestInputs } from '../helpers/gpu-cases.js';
import { gpuIt, gpuRuntime } from '../helpers/gpu.js';
import { gpuModelFixture } from '../helpers/gpu-model.js';
import { relativeError } from '../helpers/numerics.js';

/**
 * Runs that overlap: several runs of one model and of two models on one device, a profile among
 * them, dispose() while runs are in flight, and runs past the runtime's timeout.
 */

const SOURCE = `
model small {
  hidden 32
  heads 4
  ffn 64
  layers 2
}
adapter a { bottleneck 8 at attn, ffn }
adapter b { bottleneck 4 activation gelu parallel ffn }
graph main = stack(a, b)
graph routed = batch(a, b)
`;
const D = 32;

const fixture = gpuModelFixture(SOURCE, 'main', 5);
const { program, gpu, reference } = fixture;
const WEIGHTS = fixture.weights;
afterAll(() => fixture.dispose());

const sameBits = (a: Float32Array, b: Float32Array) =>
  a.length === b.length &&
  new Uint32Array(a.buffer, a.byteOffset, a.length).every(
    (word, i) => word === new Uint32Array(b.buffer, b.byteOffset, b.length)[i],
  );

/** The runtime's GpuDevice (src/runtime/webgpu/device.ts). */
const deviceOf = (rt: Runtime) => (rt as unknown as { device: GpuDevice }).device;

/** Resolves once the next forward pass has been submitted, so a run is on the GPU. */
function nextSubmit(rt: Runtime): Promise<void> {
  const queue = deviceOf(rt).device.queue;
  const submit = queue.submit.bind(queue);
  return new Promise((resolve) => {
    queue.submit = (buffers) => {
      submit(buffers);
      queue.submit = submit;
      resolve();
    };
  });
}

const SEQS = [3, 8, 1, 16, 5];
const inputsFor = (seq: number, seed: number, branches?: number): TestInputs =>
  testInputs(D, 2, seq, seed, branches === undefined ? { mask: true } : { branches });

async function expectCloseToReference(graph: string, inputs: TestInputs, out: Float32Array) {
  const error = relativeError(out, await reference(graph, inputs));
  expect(error, `graph ${graph}, ${describeInputs(inputs)}`).toBeLessThanOrEqual(1e-4);
}

describe('concurrent runs', () => {
  gpuIt('five runs of one model started together equal the same runs one at a time', async () => {
    const model = await (await gpu()).load(program('main'), WEIGHTS);
    try {
      const inputs = SEQS.map((seq, i) => inputsFor(seq, 700 + i));
      const alone: Float32Array[] = [];
      for (const input of inputs) alone.push((await model.run(input)).hidden_states.data);
      const buffers = model.stats!().liveBuffers;

      const together = await Promise.all(inputs.map((input) => model.run(input)));
      together.forEach((out, i) => {
        expect(out.hidden_states.shape).toEqual([2, SEQS[i], D]);
        expect(sameBits(out.hidden_states.data, alone[i]!), `T=${SEQS[i]}`).toBe(true);
      });
      for (const [i, input] of inputs.entries()) {
        await expectCloseToReference('main', input, together[i]!.hidden_states.data);
      }
      expect(model.stats!().liveBuffers).toBe(buffers);
    } finally {
      model.dispose();
    }
  });

  gpuIt('runs of two models on one device, and a profile among them, interleave', async () => {
    const rt = await gpu();
    const main = await rt.load(program('main'), WEIGHTS);
    const routed = await rt.load(program('routed'), WEIGHTS);
    try {
      const mainInputs = SEQS.map((seq, i) => inputsFor(seq, 800 + i));
      const routedInputs = SEQS.map((seq, i) => inputsFor(seq, 900 + i, 2));
      const calls = SEQS.flatMap((_, i) => [
        main.run(mainInputs[i]!),
        routed.run(routedInputs[i]!),
      ]);
      const profile = main.profile!(mainInputs[1]!);
      const outs = await Promise.all(calls);
      expect((await profile).ms).toHaveLength(main.stats!().dispatchesPerRun);
      for (let i = 0; i < SEQS.length; i++) {
        const alone = (await main.run(mainInputs[i]!)).hidden_states.data;
        expect(sameBits(outs[2 * i]!.hidden_states.data, alone), `main T=${SEQS[i]}`).toBe(true);
        await expectCloseToReference('main', mainInputs[i]!, alone);
        const routedAlone = (await routed.run(routedInputs[i]!)).hidden_states.data;
        expect(sameBits(outs[2 * i + 1]!.hidden_states.data, routedAlone)).toBe(true);
        await expectCloseToReference('routed', routedInputs[i]!, routedAlone);
      }
    } finally {
      main.dispose();
      routed.dispose();
    }
  });
});

const DISPOSED = /^the model was disposed while a run was in progress$/;

describe('dispose while runs are in flight', () => {
  gpuIt('model.dispose() rejects the run on the GPU and those waiting behind it', async () => {
    const rt = await gpu();
    const model = await rt.load(program('main'), WEIGHTS);
    const other = await rt.load(program('main'), WEIGHTS);
    const submitted = nextSubmit(rt);
    const runs = SEQS.map((seq, i) => model.run(inputsFor(seq, 1000 + i)));
    const settled = Promise.allSettled(runs);
    await submitted;
    model.dispose();
    for (const outcome of await settled) {
      expect(outcome.status).toBe('rejected');
      const reason = (outcome as PromiseRejectedResult).reason as Error;
      expect(reason).toBeInstanceOf(AdaptRuntimeError);
      expect(reason.message).toMatch(DISPOSED);
    }
    expect(model.stats!().liveBuffers).toBe(0);
    await expect(model.run(inputsFor(3, 1))).rejects.toThrow(/^this model was disposed$/);
    // The device and the other model on it carry on.
    const inputs = inputsFor(4, 1010);
    await expectCloseToReference('main', inputs, (await other.run(inputs)).hidden_states.data);
    other.dispose();
  });

  gpuIt('rt.dispose() rejects every run of every model it loaded', async () => {
    const rt = await gpuRuntime();
    const main = await rt.load(program('main'), WEIGHTS);
    const routed = await rt.load(program('routed'), WEIGHTS);
    const submitted = nextSubmit(rt);
    const runs = SEQS.flatMap((seq, i) => [
      main.run(inputsFor(seq, 1100 + i)),
      routed.run(inputsFor(seq, 1200 + i, 2)),
    ]);
    const settled = Promise.allSettled(runs);
    await submitted;
    rt.dispose();
    for (const outcome of await settled) {
      expect(outcome.status).toBe('rejected');
      expect(((outcome as PromiseRejectedResult).reason as Error).message).toMatch(DISPOSED);
    }
    expect([main.stats!().liveBuffers, routed.stats!().liveBuffers]).toEqual([0, 0]);
  });
});

describe('runTimeoutMs', () => {
  gpuIt('a run past the timeout is reported, and the model stays usable', async () => {
    const rt = await Runtime.create({ backend: 'webgpu', runTimeoutMs: 1 });
    try {
      const model = await rt.load(program('main'), WEIGHTS);
      const big = testInputs(D, 4, 128, 1300, { mask: true });
      const late = model.run(big);
      await expect(late).rejects.toThrow(AdaptRuntimeError);
      await expect(late).rejects.toThrow(/^the GPU run did not finish within 1 ms$/);
      const buffers = model.stats!().liveBuffers;

      deviceOf(rt).runTimeoutMs = undefined;
      // This run starts after the abandoned pass has finished with the buffers.
      await expectCloseToReference('main', big, (await model.run(big)).hidden_states.data);
      expect(model.stats!().liveBuffers).toBe(buffers);
    } finally {
      rt.dispose();
    }
  });

  gpuIt('a run past the timeout on a lost device says the device was lost', async () => {
    const notices: string[] = [];
    const rt = await Runtime.create({
      backend: 'webgpu',
      runTimeoutMs: 1,
      onNotice: (n) => notices.push(n),
    });
    try {
      const model = await rt.load(program('main'), WEIGHTS);
      const device = deviceOf(rt).device;
      device.destroy();
      await device.lost;
      const inputs = inputsFor(5, 1400);
      // Opening a new device and rebuilding the pipelines takes far longer than 1 ms.
      await expect(model.run(inputs)).rejects.toThrow(
        /^the GPU run did not finish within 1 ms; the device was lost meanwhile \(destroyed/,
      );
      deviceOf(rt).runTimeoutMs = undefined;
      await expectCloseToReference('main', inputs, (await model.run(inputs)).hidden_states.data);
      expect(notices.filter((n) => /device was lost/.test(n))).toHaveLength(1);
    } finally {
      rt.dispose();
    }
  });

  it('a timeout that is not a positive number is refused', async () => {
    for (const bad of [0, -5, Number.NaN, '5' as unknown as number]) {
      await expect(Runtime.create({ backend: 'cpu', runTimeoutMs: bad })).rejects.toThrow(
        /^runTimeoutMs must be a positive number of milliseconds, got /,
      );
    }
  });
});
