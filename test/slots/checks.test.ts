import { describe, expect, it } from 'vitest';
import { checkSource, compile, slotSignature, type Model } from '../../src/compiler/index.js';
import { requireLoweredProgram } from '../../src/runtime/cpu/backward/differentiable-ops.js';
import { randomInputs } from '../../src/runtime/inputs.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { validateProgram } from '../../src/runtime/validate-program.js';
import { ARTICLE_SPEC, compiled, randomWeights } from './helpers.js';
import { compileHub } from './hub-fixture.js';

const articleModel = (): Model => checkSource(ARTICLE_SPEC, 'slots.adapt').model!;
const signature = (model: Model, name: string) => {
  const result = slotSignature(model, name);
  if (!('signature' in result)) throw new Error(result.reason);
  return result.signature;
};

describe('the slot plan', () => {
  for (const count of [2, 16]) {
    it(`one slot_bottleneck dispatch per adapter site, ${count} slots`, () => {
      const program = compiled(ARTICLE_SPEC, { slots: { adapter: 'a', count } });
      const plan = program.gpu!;
      const slotDispatches = plan.dispatches.filter(
        (d) => program.nodes[d.node]!.op === 'slot_bottleneck',
      );
      // a sits at attn (parallel) and ffn of both layers.
      expect(slotDispatches).toHaveLength(4);
      expect(new Set(slotDispatches.map((d) => d.node)).size).toBe(4);
      expect(plan.dispatches.some((d) => program.nodes[d.node]!.op === 'select')).toBe(false);
      expect(program.nodes.filter((n) => n.op === 'bottleneck')).toHaveLength(0);
      // Every other op is still fused: the base's matmuls are linears.
      expect(program.nodes.some((n) => n.op === 'matmul')).toBe(false);
      for (const weight of program.slots!.weights) expect(weight.shape[0]).toBe(count);
    });
  }

  it('AdapterHub heads: one slot_linear dispatch per head Linear', () => {
    const { program } = compileHub({ slots: { adapter: 'sentiment', count: 8 } });
    const ops = program.gpu!.dispatches.map((d) => program.nodes[d.node]!.op);
    expect(ops.filter((op) => op === 'slot_linear')).toHaveLength(2);
    expect(ops.filter((op) => op === 'slot_bottleneck')).toHaveLength(2);
    expect(program.slots!.weights.map((w) => w.perAdapter)).toContain('heads.{adapter}.4.bias');
    expect(program.slots!.weights.map((w) => w.perAdapter)).toContain(
      'encoder.layer.1.output.adapters.{adapter}.adapter_up.weight',
    );
  });
});

describe('which adapters take a slot', () => {
  it('equal signatures for adapters of one shape, whatever their scale', () => {
    const model = articleModel();
    expect(signature(model, 'a')).toBe(signature(model, 'b'));
    expect(signature(model, 'a')).toBe(signature(model, 'c'));
    expect(signature(model, 'a')).not.toBe(signature(model, 'wide'));
    const hub = compileHub({ graph: 'gs', gpu: false }).model;
    expect(signature(hub, 'sentiment')).toBe(signature(hub, 'other'));
    // Two labels instead of three.
    expect(signature(hub, 'sentiment')).not.toBe(signature(hub, 'two'));
  });

  it('a gate, own LayerNorms or a fusion give E0411 naming the adapter and why', () => {
    const hub = compileHub({ graph: 'gs', gpu: false }).model;
    expect(slotSignature(hub, 'gated')).toEqual({
      reason: expect.stringMatching(/^adapter 'gated' cannot take a slot: it has a gate/) as string,
    });
    const source = `${ARTICLE_SPEC}adapter n { preset seq_bn bottleneck 4 ln_before true }
adapter s { preset seq_bn bottleneck 4 scale learned }
fusion f { adapters a, b }
`;
    const reasons = (adapter: string) =>
      compile(source, { slots: { adapter, count: 2 } }).diagnostics.map(
        (d) => `${d.code} ${d.message}`,
      );
    expect(reasons('n')).toEqual([
      "E0411 adapter 'n' cannot take a slot: it has LayerNorms of its own (ln_before, ln_after); a slot holds down and up projections with their biases only",
    ]);
    expect(reasons('s')[0]).toMatch(
      /^E0411 adapter 's' cannot take a slot: its scaling is learned/,
    );
    expect(reasons('f')).toEqual(["E0411 'f' is a fusion; a slot holds one adapter"]);
  });

  it('the option is checked', () => {
    expect(() => compile(ARTICLE_SPEC, { slots: { adapter: 'a', count: 0 } })).toThrow(
      /option 'slots.count' must be an integer from 1 to 1024, got 0/,
    );
    expect(() =>
      compile(ARTICLE_SPEC, {
        slots: { adapter: 3, count: 2 } as unknown as { adapter: string; count: number },
      }),
    ).toThrow(/option 'slots.adapter' must be a string/);
    expect(() =>
      compile(ARTICLE_SPEC, {
        slots: { adapter: 'a' } as unknown as { adapter: string; count: number },
      }),
    ).toThrow(/option 'slots' must be an object with 'count'/);
  });
});

describe('slot programs at load and run', () => {
  it('validateProgram checks program.slots', () => {
    const program = compiled(ARTICLE_SPEC, { slots: { adapter: 'a', count: 2 }, gpu: false });
    const edited = (change: (p: Record<string, unknown>) => void) => {
      const copy = JSON.parse(JSON.stringify(program)) as Record<string, unknown>;
      change(copy);
      return () => validateProgram(copy);
    };
    expect(edited(() => {})).not.toThrow();
    expect(edited((p) => ((p.slots as { count: number }).count = 3))).toThrow(
      /program.slots.count: is 3; program.branches is 2/,
    );
    expect(edited((p) => ((p.slots as { scale: string }).scale = 'nope'))).toThrow(
      /program.slots.scale: 'nope' is not in the weight manifest/,
    );
    expect(edited((p) => delete p.slots)).toThrow(
      /slot_bottleneck runs only in a program with 'slots'/,
    );
  });

  it('a program with a GPU plan survives JSON', () => {
    const { program } = compileHub({ slots: { adapter: 'sentiment', count: 4 } });
    const copy = validateProgram(JSON.parse(JSON.stringify(program)));
    expect(copy.slots).toEqual(program.slots);
    expect(copy.gpu!.dispatches.length).toBe(program.gpu!.dispatches.length);
  });

  it('writeWeights refuses a bad name, range or value, naming the weight', async () => {
    const program = compiled(ARTICLE_SPEC, { slots: { adapter: 'a', count: 2 }, gpu: false });
    const runtime = await Runtime.create({ backend: 'cpu' });
    const model = await runtime.load(program, randomWeights(program, 1));
    const scale = program.slots!.scale;
    await expect(model.writeWeights('nope', 0, Float32Array.of(1))).rejects.toThrow(
      /no weight 'nope'/,
    );
    await expect(model.writeWeights(scale, 1, Float32Array.of(1, 2))).rejects.toThrow(
      /weight 'slots.scale' has 2 elements; cannot write 2 at offset 1/,
    );
    await expect(model.writeWeights(scale, 0, Float32Array.of(NaN))).rejects.toThrow(
      /weight 'slots.scale'/,
    );
    runtime.dispose();
  });

  it('adapter_index must name a slot', async () => {
    const program = compiled(ARTICLE_SPEC, { slots: { adapter: 'a', count: 2 }, gpu: false });
    const runtime = await Runtime.create({ backend: 'cpu' });
    const model = await runtime.load(program, randomWeights(program, 1));
    const inputs = randomInputs(program, 2, 3, 1);
    await expect(
      model.run({
        hidden_states: inputs.hidden_states!,
        adapter_index: { data: Int32Array.of(0, 2), shape: [2] },
      }),
    ).rejects.toThrow(/element 1 is 2; graph 'slots\(a\)' has 2 branches \(0..1\)/);
    runtime.dispose();
  });

  it('training refuses a slot program', () => {
    const program = compiled(ARTICLE_SPEC, {
      slots: { adapter: 'a', count: 2 },
      gpu: false,
      fuse: false,
    });
    expect(() => requireLoweredProgram(program)).toThrow(
      /slot_bottleneck node of an adapter-slots program/,
    );
  });
});
