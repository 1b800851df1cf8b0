import { describe, expect, it } from 'vitest';
import type { IrGraph } from '../../src/compiler/ir/types.js';
import { rewriteFusionAlgebra } from '../../src/compiler/passes/fusion-algebra.js';
import { fuseFusionMix } from '../../src/compiler/passes/fusion-mix.js';
import { eliminateDeadNodes } from '../../src/compiler/passes/rewrite.js';
import { checkPass, fusionOf, HIDDEN, opsOf, TestGraph } from './graphs.js';

/** A fusion after the algebraic rewrite: scores row_dot(q', o_i), the o_i mixed. */
function rewritten(count = 3) {
  const g = new TestGraph();
  const query = g.input('q');
  const outputs = Array.from({ length: count }, (_, i) => g.input(`o${i}`));
  return { g, query, outputs, ...fusionOf(g, query, outputs, outputs) };
}

/** The pass leaves the graph as it was. */
const unchanged = (graph: IrGraph) =>
  expect(checkPass(fuseFusionMix, graph)).toEqual(eliminateDeadNodes(graph));

describe('fusion mix', () => {
  it('fuses scores, softmax and mix into one fusion_mix with the score scale', () => {
    const { g, sum } = rewritten();
    const fused = checkPass(fuseFusionMix, g.finish(sum));
    expect(opsOf(fused)).toEqual(['fusion_mix']);
    expect(fused.nodes.at(-1)!.attrs).toEqual({ factor: 0.25 });
    expect(fused.nodes.at(-1)!.inputs).toHaveLength(4);
  });

  it('fuses a fusion as the algebra pass leaves it', () => {
    const g = new TestGraph();
    const outputs = ['o1', 'o2'].map((name) => g.input(name));
    const keyWeight = g.weight([HIDDEN, HIDDEN]);
    const keyBias = g.weight([HIDDEN]);
    const b = g.builder;
    const keys = outputs.map((o) => b.op('add', [b.op('matmul', [o, keyWeight], {}), keyBias], {}));
    const { sum } = fusionOf(g, g.projection(g.x), keys, outputs);
    const graph = checkPass(rewriteFusionAlgebra, g.finish(sum));
    expect(opsOf(checkPass(fuseFusionMix, graph))).toEqual([
      'matmul',
      'add',
      'linear',
      'fusion_mix',
    ]);
  });

  it('leaves a fusion whose softmax another node reads', () => {
    const { g, sum, softmax } = rewritten();
    unchanged(g.finish(sum, softmax));
  });

  it('leaves a fusion whose scores another node reads', () => {
    const { g, sum, concat } = rewritten();
    unchanged(g.finish(sum, g.builder.op('relu', [concat], {})));
  });

  it('leaves a fusion where one score reads a different query', () => {
    const g = new TestGraph();
    const query = g.input('q');
    const outputs = ['o1', 'o2'].map((name) => g.input(name));
    unchanged(g.finish(fusionOf(g, [query, g.input('other')], outputs, outputs).sum));
  });

  it('leaves a fusion that mixes other tensors than it scores, or in another order', () => {
    const g = new TestGraph();
    const query = g.input('q');
    const outputs = ['o1', 'o2'].map((name) => g.input(name));
    unchanged(g.finish(fusionOf(g, query, outputs, [outputs[1]!, outputs[0]!]).sum));
    unchanged(g.finish(fusionOf(g, query, outputs, [outputs[0]!, g.input('v')]).sum));
  });

  it('fuses up to six adapters, which with q and the output fill the storage bindings', () => {
    const six = rewritten(6);
    expect(opsOf(checkPass(fuseFusionMix, six.g.finish(six.sum)))).toEqual(['fusion_mix']);
    const seven = rewritten(7);
    unchanged(seven.g.finish(seven.sum));
  });
});
