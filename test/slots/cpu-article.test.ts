import { describe, expect, it } from 'vitest';
import { Runtime } from '../../src/runtime/runtime.js';
import { randomInputs } from '../../src/runtime/inputs.js';
import {
  ARTICLE_SPEC,
  compiled,
  maxDifference,
  randomWeights,
  row,
  stackSlots,
} from './helpers.js';

const SCALES = { a: 0.5, b: 2, c: 1 };

describe('adapter slots on the CPU reference, article adapters', () => {
  it('each row equals the plain graph of the adapter in its slot', async () => {
    const runtime = await Runtime.create({ backend: 'cpu' });
    const program = compiled(ARTICLE_SPEC, { slots: { adapter: 'a', count: 4 }, gpu: false });
    expect(program.graph).toBe('slots(a)');
    expect(program.branches).toBe(4);
    const members = (['a', 'b', 'c'] as const).map((name, i) => {
      const plain = compiled(ARTICLE_SPEC, { graph: `g${name}`, gpu: false });
      return { name, plain, weights: randomWeights(plain, 11 + i), scale: SCALES[name] };
    });
    const slotted = await runtime.load(program, stackSlots(program, members[0]!.weights, members));
    const index = [2, 0, 1, 0];
    const inputs = randomInputs(program, 4, 5, 3);
    const hidden = inputs.hidden_states!;
    const out = await slotted.run({
      hidden_states: hidden,
      adapter_index: { data: Int32Array.from(index), shape: [4] },
    });
    // The plain graphs share the base: a's weights, with each member's adapter tensors.
    const plainOutputs = await Promise.all(
      members.map(async (member) => {
        const weights = new Map(members[0]!.weights);
        for (const [name, tensor] of member.weights)
          if (name.includes(`.${member.name}.`)) weights.set(name, tensor);
        const plain = await runtime.load(member.plain, weights);
        return (await plain.run({ hidden_states: hidden })).hidden_states.data;
      }),
    );
    const { data, shape } = out.hidden_states;
    for (const [b, slot] of index.entries()) {
      plainOutputs.forEach((expected, i) => {
        const difference = maxDifference(row(data, shape, b), row(expected, shape, b));
        if (i === slot) expect(difference).toBeLessThan(1e-6);
        else expect(difference).toBeGreaterThan(1e-4);
      });
    }
    runtime.dispose();
  });
});
