import { describe, expect, it } from 'vitest';
import type { Value } from '../../src/compiler/ir/builder.js';
import type { IrGraph } from '../../src/compiler/ir/types.js';
import { foldQueryProjections } from '../../src/compiler/passes/fold-query.js';
import { rewriteFusionAlgebra } from '../../src/compiler/passes/fusion-algebra.js';
import { optimize, PASSES } from '../../src/compiler/passes/pipeline.js';
import { checkPass, fusionOf, HIDDEN, opsOf, TestGraph } from './graphs.js';

/** A fusion of three outputs with keys W_K o_i + b_K and the given query; values the outputs. */
function fusion(g: TestGraph, query: Value): Value {
  const outputs = ['o1', 'o2', 'o3'].map((name) => g.input(name));
  const keyWeight = g.weight([HIDDEN, HIDDEN]);
  const keyBias = g.weight([HIDDEN]);
  const b = g.builder;
  const keys = outputs.map((o) => b.op('add', [b.op('matmul', [o, keyWeight], {}), keyBias], {}));
  return fusionOf(g, query, keys, outputs).sum;
}

const algebraThenFold = (graph: IrGraph) => foldQueryProjections(rewriteFusionAlgebra(graph));
const SCORES = ['row_dot', 'row_dot', 'row_dot', 'concat', 'scale', 'softmax', 'weighted_sum'];

describe('the query fold', () => {
  it('folds W_Kᵀ·(x·W_Qᵀ + b_Q) into x·Mᵀ + c with M and c computed at load', () => {
    const g = new TestGraph();
    const folded = checkPass(algebraThenFold, g.finish(fusion(g, g.projection(g.x))));
    expect(opsOf(folded)).toEqual(['weight_product', 'weight_product', 'linear', ...SCORES]);
    const linear = folded.nodes.find((node) => node.op === 'linear')!;
    expect(linear.attrs).toEqual({
      activation: 'none',
      scale: 1,
      bias: true,
      residual: false,
      transposeWeight: false,
    });
    const [m, c] = folded.nodes.filter((node) => node.op === 'weight_product');
    expect(linear.inputs.slice(1)).toEqual([m!.id, c!.id]);
    expect(m!.shape).toEqual([HIDDEN, HIDDEN]);
    expect(c!.shape).toEqual([HIDDEN]);
    // Both read W_K first: M = W_Kᵀ·W_Q, c = W_Kᵀ·b_Q.
    expect(m!.inputs[0]).toBe(c!.inputs[0]);
  });

  it('folds a query without bias into one product and a linear without bias', () => {
    const g = new TestGraph();
    const query = g.builder.op('matmul', [g.x, g.weight([HIDDEN, HIDDEN])], {});
    const folded = checkPass(algebraThenFold, g.finish(fusion(g, query)));
    expect(opsOf(folded)).toEqual(['weight_product', 'linear', ...SCORES]);
    expect(folded.nodes.find((node) => node.op === 'linear')!.attrs.bias).toBe(false);
  });

  it('leaves a query that another node reads', () => {
    const g = new TestGraph();
    const query = g.projection(g.x);
    const folded = checkPass(algebraThenFold, g.finish(fusion(g, query), query));
    expect(opsOf(folded)).not.toContain('weight_product');
    expect(opsOf(folded)).toEqual(['matmul', 'add', 'linear', ...SCORES]);
  });

  it('leaves a query that is no projection (the hidden state itself)', () => {
    const g = new TestGraph();
    const folded = checkPass(algebraThenFold, g.finish(fusion(g, g.x)));
    expect(opsOf(folded)).toEqual(['linear', ...SCORES]);
  });

  it('leaves the optimized fusion one linear fewer than without the fold', () => {
    const g = new TestGraph();
    const graph = g.finish(fusion(g, g.projection(g.x)));
    const linears = (result: IrGraph) => opsOf(result).filter((op) => op === 'linear').length;
    const unfolded = PASSES.filter((pass) => pass.name !== 'fold-query').reduce(
      (current, pass) => pass.run(current),
      graph,
    );
    const folded = checkPass(optimize, graph);
    expect(linears(unfolded)).toBe(2);
    expect(linears(folded)).toBe(1);
  });
});
