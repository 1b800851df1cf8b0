import { describe, expect, it } from 'vitest';
import { Runtime } from '../../src/runtime/runtime.js';
import type { TensorMap } from '../../src/runtime/safetensors.js';
import { maxDifference, randomWeights, row } from './helpers.js';
import { compileHub, findTensor, hubWeights, otherWeights, textInputs } from './hub-fixture.js';

describe('adapter slots on the CPU reference, AdapterHub adapters with heads', () => {
  it('each row equals the plain graph of its slot, logits and last_hidden_state', async () => {
    const runtime = await Runtime.create({ backend: 'cpu' });
    const { program, model } = compileHub({
      slots: { adapter: 'sentiment', count: 3 },
      gpu: false,
    });
    const slots = program.slots!;
    expect(slots.weights.some((w) => w.perAdapter === 'heads.{adapter}.1.weight')).toBe(true);
    const plainS = compileHub({ graph: 'gs', gpu: false }).program;
    const plainO = compileHub({ graph: 'go', gpu: false }).program;
    const sWeights = hubWeights(model, 'gs');
    const oWeights = otherWeights(plainO, model);
    const members = [
      { name: 'sentiment', files: sWeights, scale: 1 },
      { name: 'other', files: oWeights, scale: 0.5 },
    ];
    const stacked: TensorMap = new Map();
    for (const weight of slots.weights) {
      const data = new Float32Array(weight.shape.reduce((n, d) => n * d, 1));
      const size = data.length / slots.count;
      members.forEach((m, i) =>
        data.set(findTensor(m.files, weight.perAdapter.replaceAll('{adapter}', m.name)), i * size),
      );
      stacked.set(weight.name, { dtype: 'F32', shape: weight.shape, data });
    }
    stacked.set(slots.scale, { dtype: 'F32', shape: [3], data: Float32Array.of(1, 0.5, 0) });
    const slotted = await runtime.load(program, [sWeights[0]!, stacked]);
    const inputs = textInputs(program, 4, 6, 9);
    const index = [1, 0, 1, 0];
    const out = await slotted.run({
      ...inputs,
      adapter_index: { data: Int32Array.from(index), shape: [4] },
    });
    const plainInputs = inputs;
    const expectS = await (await runtime.load(plainS, sWeights)).run(plainInputs);
    const expectO = await (await runtime.load(plainO, oWeights)).run(plainInputs);
    for (const [b, slot] of index.entries()) {
      const expected = slot === 0 ? expectS : expectO;
      const other = slot === 0 ? expectO : expectS;
      for (const name of ['logits', 'last_hidden_state'] as const) {
        const got = out[name]!;
        const want = expected[name]!;
        expect(
          maxDifference(row(got.data, got.shape, b), row(want.data, got.shape, b)),
        ).toBeLessThan(1e-6);
        const wrong = other[name]!;
        expect(
          maxDifference(row(got.data, got.shape, b), row(wrong.data, got.shape, b)),
        ).toBeGreaterThan(1e-4);
      }
    }
    runtime.dispose();
  });

  it.each([
    ['p1', 'p2', 4, 3],
    ['h1', 'h2', 1, 0.25],
  ])(
    '%s and %s (parallel, or at both sites): each row equals its plain graph',
    async (a, b, sa, sb) => {
      const runtime = await Runtime.create({ backend: 'cpu' });
      const { program, model } = compileHub({ slots: { adapter: a, count: 2 }, gpu: false });
      const base = hubWeights(model, `g${a}`)[0]!;
      const members = [a, b].map((name, i) => {
        const plain = compileHub({ graph: `g${name}`, gpu: false }).program;
        const own: TensorMap = new Map(
          [...randomWeights(plain, 30 + i)].filter(([n]) => n.includes(`.${name}.`)),
        );
        return { name, plain, files: [base, own], scale: [sa, sb][i]! };
      });
      const stacked: TensorMap = new Map();
      for (const weight of program.slots!.weights) {
        const data = new Float32Array(weight.shape.reduce((n, d) => n * d, 1));
        members.forEach((m, i) =>
          data.set(
            findTensor(m.files, weight.perAdapter.replaceAll('{adapter}', m.name)),
            (i * data.length) / 2,
          ),
        );
        stacked.set(weight.name, { dtype: 'F32', shape: weight.shape, data });
      }
      stacked.set(program.slots!.scale, {
        dtype: 'F32',
        shape: [2],
        data: Float32Array.of(sa, sb),
      });
      const inputs = textInputs(program, 3, 5, 2);
      const index = [1, 0, 1];
      const out = await (
        await runtime.load(program, [base, stacked])
      ).run({ ...inputs, adapter_index: { data: Int32Array.from(index), shape: [3] } });
      for (const [b, slot] of index.entries()) {
        const member = members[slot]!;
        const want = await (await runtime.load(member.plain, member.files)).run(inputs);
        const got = out.last_hidden_state;
        expect(
          maxDifference(
            row(got.data, got.shape, b),
            row(want.last_hidden_state.data, got.shape, b),
          ),
        ).toBeLessThan(1e-6);
      }
      runtime.dispose();
    },
  );
});
