import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compile } from '../src/compiler/index.js';
import type { Program } from '../src/runtime/program.js';
import { CPU_KERNELS } from '../src/runtime/cpu/all-kernels.js';
import { erf } from '../src/runtime/cpu/math.js';
import { InputError, ProgramError, WeightError } from '../src/runtime/errors.js';
import { Runtime } from '../src/runtime/runtime.js';
import type { TensorMap } from '../src/runtime/safetensors.js';
import { initWeights } from '../src/runtime/weights.js';
import { normalArray } from '../src/runtime/random.js';
import { relativeError } from './helpers/numerics.js';

const SPEC = `model m { hidden 16 heads 2 ffn 32 layers 2 }
adapter a { bottleneck 4 at attn, ffn }
adapter b { bottleneck 6 activation gelu at ffn }
adapter c { bottleneck 3 activation silu at attn }
graph default = stack(a, b)
graph routed = batch(a, stack(b, c), c)
graph only_a = a
graph only_bc = stack(b, c)
graph only_c = c
`;

function program(graph: string): Program {
  const result = compile(SPEC, { fileName: 'spec.adapt', graph });
  expect(result.diagnostics).toEqual([]);
  return result.program!;
}

/**
 * Seeded weights (a function of each tensor's name, so every graph gets the same values) with
 * adapter weights scaled from std 0.01 to 0.3, so each adapter changes the output visibly.
 */
function weights(p: Program): TensorMap {
  const tensors = initWeights(p, 7);
  for (const [name, tensor] of tensors) {
    if (name.includes('adapters.')) tensor.data.set(tensor.data.map((v) => v * 30));
  }
  return tensors;
}

describe('CPU reference', () => {
  it('computes erf to 1e-14', () => {
    const known: [number, number][] = [
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [1.5, 0.9661051464753108],
      [2, 0.9953222650189527],
      [2.5, 0.999593047982555],
      [3, 0.9999779095030014],
      [-1, -0.8427007929497149],
      [0, 0],
    ];
    for (const [x, value] of known) expect(Math.abs(erf(x) - value)).toBeLessThan(1e-14);
  });

  it('masks padded keys and future keys in attention', () => {
    // One head, d=1: output is the softmax-weighted mean of the visible values.
    const q = { data: Float32Array.from([0, 0, 0]), shape: [1, 3, 1] };
    const v = { data: Float32Array.from([1, 2, 30]), shape: [1, 3, 1] };
    const mask = { data: Int32Array.from([1, 1, 0]), shape: [1, 3] };
    const bidirectional = CPU_KERNELS.attention!(
      [q, q, v, mask],
      { heads: 1, causal: false },
      [1, 3, 1],
    );
    expect([...bidirectional]).toEqual([1.5, 1.5, 1.5]);
    const causal = CPU_KERNELS.attention!([q, q, v, mask], { heads: 1, causal: true }, [1, 3, 1]);
    expect([...causal]).toEqual([1, 1.5, 1.5]);
  });

  it('batch(...) equals running each branch on its own rows', async () => {
    const rt = await Runtime.create();
    const routed = program('routed');
    const [batch, seq, d] = [3, 5, 16];
    const hidden = normalArray(batch * seq * d, 5);
    const mask = Int32Array.from({ length: batch * seq }, (_, i) =>
      i % seq < seq - (i < seq ? 0 : 2) ? 1 : 0,
    );
    const index = Int32Array.from([2, 0, 1]);
    const all = await (
      await rt.load(routed, weights(routed))
    ).run({
      hidden_states: { data: hidden, shape: [batch, seq, d] },
      attention_mask: { data: mask, shape: [batch, seq] },
      adapter_index: { data: index, shape: [batch] },
    });
    const branchGraphs = ['only_a', 'only_bc', 'only_c'];
    for (let b = 0; b < batch; b++) {
      const single = program(branchGraphs[index[b]!]!);
      const rows = (data: Float32Array | Int32Array, size: number) =>
        data.slice(b * size, (b + 1) * size);
      const alone = await (
        await rt.load(single, weights(single))
      ).run({
        hidden_states: { data: rows(hidden, seq * d) as Float32Array, shape: [1, seq, d] },
        attention_mask: { data: rows(mask, seq), shape: [1, seq] },
      });
      const mine = rows(all.hidden_states.data, seq * d);
      expect(relativeError(mine, alone.hidden_states.data)).toBe(0);
      // and the branches really differ from each other
      const other = program(branchGraphs[(index[b]! + 1) % 3]!);
      const different = await (
        await rt.load(other, weights(other))
      ).run({
        hidden_states: { data: rows(hidden, seq * d) as Float32Array, shape: [1, seq, d] },
        attention_mask: { data: rows(mask, seq), shape: [1, seq] },
      });
      expect(relativeError(mine, different.hidden_states.data)).toBeGreaterThan(1e-3);
    }
  });

  it('reports bad inputs clearly', async () => {
    const rt = await Runtime.create();
    const routed = program('routed');
    const model = await rt.load(routed, weights(routed));
    const hidden = { data: new Float32Array(2 * 3 * 16).fill(0.5), shape: [2, 3, 16] };
    await expect(model.run({ hidden_states: hidden })).rejects.toThrow(
      "the input 'adapter_index' [2] is required by this graph",
    );
    await expect(
      model.run({
        hidden_states: hidden,
        adapter_index: { data: Int32Array.from([0, 3]), shape: [2] },
      }),
    ).rejects.toThrow(
      "tensor 'adapter_index': element 1 is 3; graph 'routed' has 3 branches (0..2)",
    );
    await expect(
      model.run({ hidden_states: { data: new Float32Array(8), shape: [1, 1, 8] } }),
    ).rejects.toThrow(InputError);
    await expect(
      model.run({
        hidden_states: hidden,
        adapter_index: { data: Int32Array.from([0, 1]), shape: [2] },
        attention_mask: { data: new Int32Array(5), shape: [5] },
      }),
    ).rejects.toThrow("tensor 'attention_mask': shape must be [2, 3], got [5]");
  });

  it('reports every missing and mis-shaped weight at once, and accepts a bert. prefix', async () => {
    const rt = await Runtime.create();
    const p = program('default');
    const full = weights(p);
    const broken: TensorMap = new Map();
    for (const [name, tensor] of full) {
      if (name.endsWith('query.bias') || name.endsWith('adapter_up.bias')) continue;
      if (name === 'encoder.layer.1.output.dense.weight') {
        broken.set(`bert.${name}`, { ...tensor, shape: [32, 16] });
        continue;
      }
      broken.set(`bert.${name}`, tensor);
    }
    const error = await rt.load(p, broken).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WeightError);
    const problems = (error as WeightError).problems;
    expect(problems[0]).toMatch(
      /^8 tensors are missing: 'encoder.layer.0.attention.self.query.bias', /,
    );
    expect(problems[1]).toBe(
      "tensor 'bert.encoder.layer.1.output.dense.weight' has shape [32, 16], but the model needs [16, 32]",
    );
    expect(problems).toHaveLength(2);
  });

  it('mentions tensors it ignores, once', async () => {
    const notices: string[] = [];
    const rt = await Runtime.create({ onNotice: (n) => notices.push(n) });
    const p = program('only_a');
    const extra = weights(program('default'));
    await rt.load(p, extra);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(
      /^ignored 8 tensors that graph 'only_a' does not read: encoder\.layer\.0\.output\.adapters\.b/,
    );
  });

  it('runs the fusion example end to end', async () => {
    const source = readFileSync(
      new URL('../examples/bert-base-fusion.adapt', import.meta.url),
      'utf8',
    );
    const text = source
      .replace('layers 12', 'layers 2')
      .replace('layers 0..5, 8, 10..11', 'layers 1');
    const { program: p } = compile(text, { fileName: 'fusion.adapt' });
    const model = await (await Runtime.create()).load(p, initWeights(p!, 3));
    const { hidden_states } = await model.run({
      hidden_states: { data: normalArray(2 * 4 * 768, 11), shape: [2, 4, 768] },
    });
    expect(hidden_states.shape).toEqual([2, 4, 768]);
    expect(hidden_states.data.every(Number.isFinite)).toBe(true);
  });
});

describe('loading a program', () => {
  it('rejects programs that are not valid, saying why', async () => {
    const rt = await Runtime.create({ backend: 'cpu' });
    const p = program('only_a');
    const w = weights(p);
    await expect(rt.load({ ...p, version: 99 }, w)).rejects.toThrow(
      'program.version: is 99; this runtime reads version 1',
    );
    await expect(rt.load({ format: 'something' }, w)).rejects.toThrow(ProgramError);
    const nodes = p.nodes.map((n, i) => (i === 5 ? { ...n, op: 'mystery' } : n));
    await expect(rt.load({ ...p, nodes }, w)).rejects.toThrow(
      "program.nodes[5].op: 'mystery' is not an op this runtime runs",
    );
    const dispatches = p.gpu!.dispatches.map((d, i) => (i === 0 ? { ...d, kernel: 999 } : d));
    await expect(rt.load({ ...p, gpu: { ...p.gpu!, dispatches } }, w)).rejects.toThrow(
      `program.gpu.dispatches[0].kernel: refers to kernel 999; there are ${p.gpu!.kernels.length}`,
    );
  });
});
