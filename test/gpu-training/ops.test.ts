import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/compiler/ir/builder.js';
import { planTraining } from '../../src/compiler/training/index.js';
import type { PreparedInputs } from '../../src/runtime/inputs.js';
import type { Program } from '../../src/runtime/program.js';
import { normals } from '../backward/finite-differences.js';
import { gpuIt } from '../helpers/gpu.js';
import { programOf } from '../helpers/small-training-models.js';
import { checkAgainstReference, tokenLabels } from './check.js';
import { disposeSharedDevice } from './device.js';

const init = { kind: 'normal', std: 1 } as const;

/**
 * The ops no spec reaches in the model cases (leaky_relu, sigmoid, relu beside them, token_mean,
 * mul broadcast from [B, 1, C], [B, T, 1] and [1], a scale), each with a trained weight below it.
 */
function opsProgram(): Program {
  const g = new GraphBuilder();
  const x = g.input('hidden_states', 'f32', ['B', 'T', 8]);
  const h = g.op('matmul', [x, g.weight('w', [8, 8], init)], {});
  const mixed = g.op(
    'mul',
    [
      g.op('sigmoid', [g.op('leaky_relu', [h], {})], {}),
      // relu of another projection, plus x: the leaky slope must not be multiplied by a zero.
      g.op(
        'add',
        [g.op('relu', [g.op('matmul', [x, g.weight('w2', [8, 8], init)], {})], {}), x],
        {},
      ),
    ],
    {},
  );
  const gate = g.op('matmul', [mixed, g.weight('gate', [1, 8], init)], {});
  const gated = g.op('mul', [mixed, gate], {});
  const pooled = g.op('token_mean', [gated], {});
  const spread = g.op('mul', [g.op('scale', [gated], { factor: 1.5 }), pooled], {});
  const scaled = g.op('mul', [spread, g.weight('scaling', [1], init)], {});
  const logits = g.op(
    'add',
    [g.op('matmul', [scaled, g.weight('out', [5, 8], init)], {}), g.weight('bias', [5], init)],
    {},
  );
  g.output('logits', logits);
  return programOf(g.finish(), 8);
}

describe('WebGPU gradients of single ops against the CPU reference', () => {
  afterAll(disposeSharedDevice);

  gpuIt('leaky_relu, sigmoid, relu, token_mean, broadcast products and a scale', async () => {
    const program = opsProgram();
    // Built by hand, as prepareInputs checks a hidden-state program for a hidden_states output.
    const inputs: PreparedInputs = {
      batch: 3,
      seq: 4,
      values: new Map([['hidden_states', Float32Array.from(normals(3 * 4 * 8, 41))]]),
    };
    const labels = tokenLabels(inputs, 5, 42);
    await checkAgainstReference(
      program,
      ['w', 'w2', 'gate', 'scaling', 'out', 'bias'],
      inputs,
      labels,
      'logits',
      43,
    );
  });
});

describe('a matmul whose weight is split over its columns', () => {
  afterAll(disposeSharedDevice);

  /** x·W1ᵀ (trained) then ·W2ᵀ, W2 [12, 8] past a binding of 200 bytes: three windows of 4. */
  function splitProgram(): Program {
    const g = new GraphBuilder();
    const x = g.input('hidden_states', 'f32', ['B', 'T', 4]);
    const h = g.op('matmul', [x, g.weight('w1', [8, 4], init)], {});
    g.output('logits', g.op('matmul', [g.op('tanh', [h], {}), g.weight('w2', [12, 8], init)], {}));
    return programOf(g.finish(), 8);
  }

  it('gets dx from every window, the first written and the others added', () => {
    const plan = planTraining(splitProgram(), {
      trained: ['w1'],
      output: 'logits',
      maxBindingBytes: 200,
    });
    expect(
      plan.backward.map((d) => d.label.split(' ')[2]).filter((n) => n!.startsWith('matmul_dx')),
    ).toEqual([
      'matmul_dx_vec4_8x12_cols0-4_token',
      'matmul_dx_vec4_8x12_cols4-8_token_acc',
      'matmul_dx_vec4_8x12_cols8-12_token_acc',
    ]);
  });

  it('refuses to train a split weight', () => {
    expect(() =>
      planTraining(splitProgram(), { trained: ['w2'], output: 'logits', maxBindingBytes: 200 }),
    ).toThrow("trained weight 'w2' takes 384 bytes, past the 200 one storage binding holds");
  });

  gpuIt('gives the gradients and updates of the unsplit weight', async () => {
    const program = splitProgram();
    const inputs: PreparedInputs = {
      batch: 2,
      seq: 3,
      values: new Map([['hidden_states', Float32Array.from(normals(2 * 3 * 4, 51))]]),
    };
    const labels = tokenLabels(inputs, 12, 52);
    await checkAgainstReference(program, ['w1'], inputs, labels, 'logits', 53, {
      maxBindingBytes: 200,
    });
  });
});
