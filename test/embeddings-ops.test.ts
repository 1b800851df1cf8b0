import { describe, expect, it } from 'vitest';
import { KERNEL_TEMPLATES } from '../src/compiler/codegen/templates.js';
import { planGpu } from '../src/compiler/codegen/plan.js';
import { GraphBuilder } from '../src/compiler/ir/builder.js';
import { forwardFlops } from '../src/compiler/ir/flops.js';
import { CPU_KERNELS } from '../src/runtime/cpu/all-kernels.js';
import type { CpuTensor } from '../src/runtime/cpu/kernels.js';
import { inputDtype, OPS } from '../src/runtime/ops/registry.js';

const f32 = (values: number[], shape: number[]): CpuTensor => ({
  data: Float32Array.from(values),
  shape,
});
const i32 = (values: number[], shape: number[]): CpuTensor => ({
  data: Int32Array.from(values),
  shape,
});
const list = (data: Float32Array | Int32Array) => [...data].map((v) => Math.round(v * 1e6) / 1e6);

describe('the ops of token inputs and heads on the CPU reference', () => {
  const table = f32([0, 1, 10, 11, 20, 21], [3, 2]);

  it('gathers rows by id, clamping an id outside 0..V-1 to the nearest row', () => {
    const out = CPU_KERNELS.gather([table, i32([2, 0, 1, -4, 9, 1], [2, 3])], {}, [2, 3, 2]);
    expect(list(out)).toEqual([20, 21, 0, 1, 10, 11, 0, 1, 20, 21, 10, 11]);
    expect(
      OPS.gather.shape!(
        [
          [3, 2],
          ['B', 'T'],
        ],
        {},
      ),
    ).toEqual(['B', 'T', 2]);
    expect(
      OPS.gather.shape!(
        [
          ['B', 2],
          ['B', 'T'],
        ],
        {},
      ),
    ).toMatch(/fixed \[V, d\]/);
  });

  it('takes row 0 of each sequence: [B, T, d] → [B, d]', () => {
    const x = f32([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [2, 3, 2]);
    expect(list(CPU_KERNELS.first_token([x], {}, [2, 2]))).toEqual([1, 2, 7, 8]);
    expect(OPS.first_token.shape!([['B', 'T', 4]], {})).toEqual(['B', 4]);
    expect(OPS.first_token.shape!([['B', 4]], {})).toMatch(/takes \[B, T/);
  });

  it('computes the sigmoid', () => {
    const out = CPU_KERNELS.sigmoid([f32([0, 2, -2], [3])], {}, [3]);
    expect(list(out)).toEqual([0.5, 0.880797, 0.119203]);
  });

  it('sums word, position and type rows, then normalizes them (BERT)', () => {
    const word = f32([1, 3, 5, 9], [2, 2]);
    const position = f32([0, 2, 4, 4], [2, 2]);
    const type = f32([1, 1, 0, -10], [2, 2]);
    const gamma = f32([2, 1], [2]);
    const beta = f32([0, 0.5], [2]);
    const ids = i32([1, 0], [1, 2]);
    const positions = i32([0, 1], [1, 2]);
    const types = i32([0, 1], [1, 2]);
    const sum = CPU_KERNELS.embeddings(
      [ids, word, positions, position, types, type],
      { tokenTypes: true, layerNorm: false, eps: 0 },
      [1, 2, 2],
    );
    // Row 0: [5, 9] + [0, 2] + [1, 1]; row 1: [1, 3] + [4, 4] + [0, -10].
    expect(list(sum)).toEqual([6, 12, 5, -3]);
    const normed = CPU_KERNELS.embeddings(
      [ids, word, positions, position, types, type, gamma, beta],
      { tokenTypes: true, layerNorm: true, eps: 0 },
      [1, 2, 2],
    );
    // LN of [a, b] with a < b is [-1, 1], so γ·[-1, 1] + β = [-2, 1.5]; [5, -3] gives [2, -0.5].
    expect(list(normed)).toEqual([-2, 1.5, 2, -0.5]);
  });

  it('knows which inputs hold ids from the attributes', () => {
    const b = new GraphBuilder();
    const ids = b.input('input_ids', 'i32', ['B', 'T']);
    const table = b.weight('t', [4, 2], { kind: 'zeros' });
    const withTypes = b.op('embeddings', [ids, table, ids, table, ids, table], {
      tokenTypes: true,
      layerNorm: false,
      eps: 0,
    });
    const norm = b.weight('g', [2], { kind: 'ones' });
    const without = b.op('embeddings', [ids, table, ids, table, norm, norm], {
      tokenTypes: false,
      layerNorm: true,
      eps: 1e-5,
    });
    const graph = b.finish();
    const dtypes = (id: number) =>
      graph.nodes[id]!.inputs.map((_, i) => inputDtype(graph.nodes[id]!, i));
    expect(dtypes(withTypes.id)).toEqual(['i32', 'f32', 'i32', 'f32', 'i32', 'f32']);
    expect(dtypes(without.id)).toEqual(['i32', 'f32', 'i32', 'f32', 'f32', 'f32']);
  });
});

describe('kernels on a head’s [B, n] values', () => {
  const b = new GraphBuilder();
  const x = b.input('x', 'f32', ['B', 'T', 8]);
  const first = b.op('first_token', [x], {});
  const w = b.weight('w', [3, 8], { kind: 'zeros' });
  const logits = b.op(
    'add',
    [b.op('matmul', [first, w], {}), b.weight('c', [3], { kind: 'zeros' })],
    {},
  );
  b.output('logits', b.op('tanh', [logits], {}));
  const graph = b.finish();

  it('counts B rows in WGSL and workgroups, and B·n·k FLOPs', () => {
    for (const target of ['software', 'gpu'] as const) {
      const plan = planGpu(graph, target, false);
      for (const dispatch of plan.dispatches.slice(1)) {
        expect(dispatch.groups.perToken, dispatch.label).toBe(0);
        expect(dispatch.groups.perSequence, dispatch.label).toBeGreaterThan(0);
        const wgsl = plan.kernels[dispatch.kernel]!.wgsl;
        expect(wgsl).toContain('params.batch');
        expect(wgsl).not.toContain('params.rows');
      }
      expect(plan.buffers.every((size) => size.perToken === 0 || size.perSequence === 0)).toBe(
        true,
      );
    }
    expect(forwardFlops(graph.nodes, 2, 5)).toBe(2 * 2 * 8 * 3);
  });

  it('names the per-sequence kernels apart from the per-token ones they resemble', () => {
    const names = planGpu(graph, 'software', false).kernels.map((k) => k.name);
    expect(names).toEqual([
      'first_token_8',
      'linear_scalar_8x3_seq',
      'add_3_row_seq',
      'tanh_3_seq',
    ]);
    expect(Object.keys(KERNEL_TEMPLATES)).toContain('embeddings');
  });
});
