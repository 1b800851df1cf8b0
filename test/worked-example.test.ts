import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { compile } from '../src/compiler/index.js';
import { Runtime } from '../src/runtime/runtime.js';
import { initWeights } from '../src/runtime/weights.js';

/**
 * The adapter chapter's worked example (d=4, r=2, relu): h = [0.5, -0.3, 0.8, -0.1] becomes
 * h' = h + W_up relu(W_down h + b_down) + b_up = [0.533, -0.289, 0.778, -0.045].
 * The example is pre-LN, so the layer's output is x + y. The attention and FFN output weights
 * are zero and the FFN output bias is h, so the FFN site hands the adapter y = h exactly.
 */
it("reproduces the adapter article's worked example to 1e-6", async () => {
  const source = readFileSync(new URL('../examples/worked-example.adapt', import.meta.url), 'utf8');
  const { program } = compile(source, { fileName: 'worked-example.adapt' });
  const weights = initWeights(program!, 1);
  const set = (name: string, values: number[]) => {
    const tensor = weights.get(name)!;
    expect(tensor.data.length).toBe(values.length);
    tensor.data.set(values);
  };
  const h = [0.5, -0.3, 0.8, -0.1];
  set('encoder.layer.0.attention.output.dense.weight', new Array(16).fill(0));
  set('encoder.layer.0.output.dense.weight', new Array(32).fill(0));
  set('encoder.layer.0.output.dense.bias', h);
  const adapter = 'encoder.layer.0.output.adapters.example';
  set(`${adapter}.adapter_down.0.weight`, [0.4, 0.2, -0.1, 0.5, -0.2, 0.5, 0.3, 0.1]);
  set(`${adapter}.adapter_down.0.bias`, [0.1, -0.1]);
  set(`${adapter}.adapter_up.weight`, [0.3, -0.2, 0.1, 0.4, -0.2, 0.2, 0.5, -0.1]);
  set(`${adapter}.adapter_up.bias`, [0, 0, 0, 0]);

  const rt = await Runtime.create({ backend: 'cpu' });
  const model = await rt.load(program, weights);
  // Two tokens with different inputs x: the output minus x is h' for both.
  const x = [0.25, -1, 2, 0.5, -0.75, 0.1, 0, 1.5];
  const { hidden_states } = await model.run({
    hidden_states: { data: Float32Array.from(x), shape: [1, 2, 4] },
  });
  const expected = [0.533, -0.289, 0.778, -0.045];
  for (let token = 0; token < 2; token++) {
    for (let i = 0; i < 4; i++) {
      const value = hidden_states.data[token * 4 + i]! - x[token * 4 + i]!;
      expect(Math.abs(value - expected[i]!)).toBeLessThan(1e-6);
    }
  }
});
