import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compiler/index.js';
import { GraphBuilder } from '../../src/compiler/ir/builder.js';
import { planTraining, plannedBytes } from '../../src/compiler/training/index.js';
import { BackwardError } from '../../src/runtime/cpu/backward/index.js';
import type { Program } from '../../src/runtime/program.js';
import { programOf } from '../helpers/small-training-models.js';

const init = { kind: 'normal', std: 1 } as const;

/** logits = gelu(x·Wᵀ + b)·Vᵀ, W [3, 4] trained, b and V frozen. */
function smallProgram(): Program {
  const g = new GraphBuilder();
  const x = g.input('hidden_states', 'f32', ['B', 'T', 4]);
  const h = g.op('matmul', [x, g.weight('w', [3, 4], init)], {});
  const biased = g.op('add', [h, g.weight('b', [3], init)], {});
  const activated = g.op('gelu', [biased], {});
  g.output('logits', g.op('matmul', [activated, g.weight('v', [2, 3], init)], {}));
  return programOf(g.finish(), 4);
}

const idOf = (program: Program, op: string, nth = 0) =>
  program.nodes.filter((n) => n.op === op)[nth]!.id;

describe('the training plan of a hand-built graph', () => {
  const program = smallProgram();
  const plan = planTraining(program, { trained: ['w'], output: 'logits' });

  it('carries gradients through the nodes a trained weight reaches, output first', () => {
    expect(plan.gradientNodes).toEqual([
      idOf(program, 'matmul', 1),
      idOf(program, 'gelu'),
      idOf(program, 'add'),
      idOf(program, 'matmul', 0),
    ]);
  });

  it("keeps only what the gradient kernels read: gelu's input (x is a graph input, V a weight)", () => {
    expect(plan.kept).toEqual([idOf(program, 'add')]);
  });

  it('computes weight gradients only for the trained weight, no gradient for the input', () => {
    const labels = plan.backward.map((d) => d.label);
    expect(labels.filter((l) => l.includes('matmul_dw'))).toEqual([
      `%${idOf(program, 'matmul', 0)} matmul matmul_dw_4x3_token`,
    ]);
    expect(labels.some((l) => l.includes('add_db'))).toBe(false);
    expect(labels.filter((l) => l.includes('matmul_dx'))).toHaveLength(1);
    const dw = plan.backward.find((d) => d.label.includes('matmul_dw'))!;
    expect(dw.bindings.at(-1)).toEqual({ space: 'trained', tensor: 0, part: 'grad' });
  });

  it('reuses gradient buffers by liveness: two of 3 floats per token', () => {
    expect(plan.gradients).toEqual([
      { perToken: 3, perSequence: 0, fixed: 0, divide: 1 },
      { perToken: 3, perSequence: 0, fixed: 0, divide: 1 },
    ]);
  });

  it('updates W with AdamW and refreshes the transposed upload the forward matmul reads', () => {
    expect(plan.update.map((d) => d.label)).toEqual([
      'w AdamW moments',
      'w AdamW',
      expect.stringMatching(/^w into weights \d+$/),
    ]);
    const refresh = plan.update[2]!;
    const upload = plan.uploads[(refresh.bindings[1] as { upload: number }).upload]!;
    expect(upload.parts).toEqual([{ weight: 'w', transpose: true }]);
  });

  it('plans the bytes it takes', () => {
    const memory = plannedBytes(plan, 2, 3);
    // 6 tokens: two gradient buffers of 18 floats (72 bytes, 80 rounded up to 16).
    expect(memory.gradients).toBe(2 * 80);
    // w, its gradient (12 floats, 48 bytes each), its moments (96) and AdamW's 8 floats (32).
    expect(memory.optimizer).toBe(48 + 48 + 96 + 32);
    expect(memory.weights).toBe(
      plan.uploadElements.reduce((n, e) => n + Math.max(16, Math.ceil((4 * e) / 16) * 16), 0),
    );
    expect(memory.total).toBe(
      memory.activations + memory.gradients + memory.weights + memory.optimizer + memory.io,
    );
  });
});

describe('accumulated gradients', () => {
  it('adds the second use of a weight to the first', () => {
    const g = new GraphBuilder();
    const x = g.input('hidden_states', 'f32', ['B', 'T', 4]);
    const w = g.weight('w', [4, 4], init);
    const h = g.op('matmul', [x, w], {});
    g.output('logits', g.op('matmul', [h, w], {}));
    const plan = planTraining(programOf(g.finish(), 4), { trained: ['w'], output: 'logits' });
    expect(plan.backward.map((d) => d.label.split(' ')[2])).toEqual([
      'matmul_dx_vec4_4x4_token',
      'matmul_dw_4x4_token',
      'matmul_dw_4x4_token_acc',
    ]);
  });
});

describe('what the training plan refuses', () => {
  it('an embedding table to train', () => {
    const g = new GraphBuilder();
    const ids = g.input('input_ids', 'i32', ['B', 'T']);
    const rows = g.op('gather', [g.weight('table', [10, 4], init), ids], {});
    g.output('logits', g.op('matmul', [rows, g.weight('v', [2, 4], init)], {}));
    expect(() =>
      planTraining(programOf(g.finish(), 4), { trained: ['table'], output: 'logits' }),
    ).toThrow(/embedding table, which training keeps frozen/);
  });

  it('a fused program, an unknown weight, an unknown output', () => {
    const fused = compile(
      'model m { hidden 8 heads 2 ffn 16 layers 1 }\nadapter a { bottleneck 4 at ffn }',
    ).program!;
    expect(() => planTraining(fused, { trained: [], output: 'hidden_states' })).toThrow(
      BackwardError,
    );
    const program = smallProgram();
    expect(() => planTraining(program, { trained: ['nope'], output: 'logits' })).toThrow(
      "no weight 'nope' in this program to train",
    );
    expect(() => planTraining(program, { trained: ['w'], output: 'scores' })).toThrow(
      "no output 'scores'; the outputs are 'logits'",
    );
  });
});
