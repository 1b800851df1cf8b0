import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compiler/index.js';
import { ArgumentError } from '../../src/runtime/errors.js';
import { randomInputs } from '../../src/runtime/inputs.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { initWeights } from '../../src/runtime/weights.js';
import { gpuIt, gpuRuntime } from '../helpers/gpu.js';

/** `load(…, { warmup: true })`: one pass on one token at load, so the first request is warm. */
const SPEC = `model m { hidden 32 heads 2 ffn 64 layers 2 }
adapter a { bottleneck 8 at ffn }
adapter b { bottleneck 4 at attn, ffn }
graph default = batch(a, b)`;

describe('warm-up at load', () => {
  gpuIt('gives the same outputs as a model loaded without it', async () => {
    const runtime = await gpuRuntime();
    try {
      const { program } = compile(SPEC, {
        fileName: 'warm.adapt',
        target: runtime.adapter!.profile,
      });
      const weights = initWeights(program!, 3);
      const inputs = randomInputs(program!, 3, 9, 5);
      const warm = await runtime.load(program!, weights, { warmup: true });
      const cold = await runtime.load(program!, weights);
      const [a, b] = [await warm.run(inputs), await cold.run(inputs)];
      expect(a.hidden_states!.shape).toEqual([3, 9, 32]);
      expect([...a.hidden_states!.data]).toEqual([...b.hidden_states!.data]);
    } finally {
      runtime.dispose();
    }
  });

  it('is a flag, and the CPU reference takes it as nothing to do', async () => {
    const runtime = await Runtime.create({ backend: 'cpu' });
    const { program } = compile(SPEC, { fileName: 'warm.adapt', gpu: false });
    const weights = initWeights(program!, 3);
    await expect(runtime.load(program!, weights, { warmup: 'yes' as never })).rejects.toThrow(
      new ArgumentError('load options: \'warmup\' must be true or false, got the string "yes"'),
    );
    const model = await runtime.load(program!, weights, { warmup: true });
    expect((await model.run(randomInputs(program!, 1, 2, 0))).hidden_states!.shape).toEqual([
      1, 2, 32,
    ]);
  });
});
