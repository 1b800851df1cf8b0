import { describe, expect, it } from 'vitest';
import type { Value } from '../../src/compiler/ir/builder.js';
import type { IrGraph } from '../../src/compiler/ir/types.js';
import { rewriteFusionAlgebra } from '../../src/compiler/passes/fusion-algebra.js';
import { eliminateDeadNodes } from '../../src/compiler/passes/rewrite.js';
import { checkPass, fusionOf, HIDDEN, opsOf, TestGraph } from './graphs.js';

/** x·Wᵀ + b with the given W and b. */
function project(g: TestGraph, x: Value, w: Value, bias: Value): Value {
  return g.builder.op('add', [g.builder.op('matmul', [x, w], {}), bias], {});
}

/** Three adapter outputs o_i, the query projection and the key weights shared by every key. */
function members(g: TestGraph) {
  const outputs = ['o1', 'o2', 'o3'].map((name) => g.input(name));
  const query = g.projection(g.x);
  const keyWeight = g.weight([HIDDEN, HIDDEN]);
  const keyBias = g.weight([HIDDEN]);
  const keys = outputs.map((o) => project(g, o, keyWeight, keyBias));
  return { outputs, query, keys };
}

function projectedValues(g: TestGraph, outputs: Value[]): Value[] {
  const w = g.weight([HIDDEN, HIDDEN]);
  const bias = g.weight([HIDDEN]);
  return outputs.map((o) => project(g, o, w, bias));
}

const QUERY = ['matmul', 'add'];

describe('fusion algebra', () => {
  it('applies W_Kᵀ once to the query and W_V once to the mix', () => {
    const g = new TestGraph();
    const { outputs, query, keys } = members(g);
    const { sum } = fusionOf(g, query, keys, projectedValues(g, outputs));
    const rewritten = checkPass(rewriteFusionAlgebra, g.finish(sum));
    expect(opsOf(rewritten)).toEqual([
      ...QUERY,
      'linear',
      'row_dot',
      'row_dot',
      'row_dot',
      'concat',
      'scale',
      'softmax',
      'weighted_sum',
      'matmul',
      'add',
    ]);
    const linear = rewritten.nodes.find((node) => node.op === 'linear')!;
    expect(linear.attrs).toEqual({
      activation: 'none',
      scale: 1,
      bias: false,
      residual: false,
      transposeWeight: true,
    });
  });

  it("applies AdapterHub's value matrix, which has no bias, once to the mix", () => {
    const g = new TestGraph();
    const { outputs, query, keys } = members(g);
    const w = g.weight([HIDDEN, HIDDEN]);
    const values = outputs.map((o) => g.builder.op('matmul', [o, w], {}));
    const { sum } = fusionOf(g, query, keys, values);
    const rewritten = checkPass(rewriteFusionAlgebra, g.finish(sum));
    expect(opsOf(rewritten)).toEqual([
      ...QUERY,
      'linear',
      'row_dot',
      'row_dot',
      'row_dot',
      'concat',
      'scale',
      'softmax',
      'weighted_sum',
      'matmul',
    ]);
  });

  it('leaves values without bias that do not share their matrix', () => {
    const g = new TestGraph();
    const { outputs, query, keys } = members(g);
    const values = outputs.map((o) => g.builder.op('matmul', [o, g.weight([HIDDEN, HIDDEN])], {}));
    const { sum } = fusionOf(g, query, keys, values);
    const graph = g.finish(sum);
    expect(opsOf(checkPass(rewriteFusionAlgebra, graph))).toEqual(opsOf(graph));
  });

  it('keeps the mix of the outputs themselves (value identity)', () => {
    const g = new TestGraph();
    const { outputs, query, keys } = members(g);
    const { sum } = fusionOf(g, query, keys, outputs);
    const rewritten = checkPass(rewriteFusionAlgebra, g.finish(sum));
    expect(opsOf(rewritten)).toEqual([
      ...QUERY,
      'linear',
      'row_dot',
      'row_dot',
      'row_dot',
      'concat',
      'scale',
      'softmax',
      'weighted_sum',
    ]);
  });

  it('rewrites where the softmax has another reader, which sees the same α', () => {
    const g = new TestGraph();
    const { outputs, query, keys } = members(g);
    const { sum, softmax } = fusionOf(g, query, keys, outputs);
    const rewritten = checkPass(rewriteFusionAlgebra, g.finish(sum, softmax));
    expect(opsOf(rewritten)).toContain('linear');
  });

  /** The pass leaves the graph as it was (but for nodes no output reads). */
  const unchanged = (graph: IrGraph) =>
    expect(checkPass(rewriteFusionAlgebra, graph)).toEqual(eliminateDeadNodes(graph));

  it('leaves a fusion whose scores another node reads: they would change by q·b_K', () => {
    const g = new TestGraph();
    const { outputs, query, keys } = members(g);
    const { sum, rowDots } = fusionOf(g, query, keys, outputs);
    unchanged(g.finish(sum, rowDots[1]!));
  });

  it('leaves a fusion where one score reads a different query', () => {
    const g = new TestGraph();
    const { outputs, query, keys } = members(g);
    const { sum } = fusionOf(g, [query, query, g.input('other')], keys, outputs);
    unchanged(g.finish(sum));
  });

  it('leaves a fusion whose keys do not share W_K', () => {
    const g = new TestGraph();
    const { outputs, query, keys } = members(g);
    const { sum } = fusionOf(g, query, [...keys.slice(0, 2), g.projection(outputs[2]!)], outputs);
    unchanged(g.finish(sum));
  });

  it('leaves a fusion whose values are neither the outputs nor one projection of each', () => {
    const g = new TestGraph();
    const { outputs, query, keys } = members(g);
    const shifted = projectedValues(g, [outputs[1]!, outputs[2]!, outputs[0]!]);
    unchanged(g.finish(fusionOf(g, query, keys, shifted).sum));
    const h = new TestGraph();
    const other = members(h);
    const values = [
      ...projectedValues(h, other.outputs).slice(0, 2),
      h.projection(other.outputs[2]!),
    ];
    unchanged(h.finish(fusionOf(h, other.query, other.keys, values).sum));
  });
});
