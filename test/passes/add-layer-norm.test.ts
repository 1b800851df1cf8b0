import { describe, expect, it } from 'vitest';
import type { Value } from '../../src/compiler/ir/builder.js';
import { fuseAddLayerNorm } from '../../src/compiler/passes/add-layer-norm.js';
import { checkPass, HIDDEN, opsOf, TestGraph } from './graphs.js';

function norm(g: TestGraph, x: Value) {
  return g.builder.op('layer_norm', [x, g.weight([HIDDEN]), g.weight([HIDDEN])], { eps: 1e-5 });
}

describe('add & LayerNorm fusion', () => {
  it('fuses layer_norm(add(x, y)) into one add_layer_norm with the same eps', () => {
    const g = new TestGraph();
    const sum = g.builder.op('add', [g.x, g.input('y')], {});
    const fused = checkPass(fuseAddLayerNorm, g.finish(norm(g, sum)));
    expect(opsOf(fused)).toEqual(['add_layer_norm']);
    expect(fused.nodes.at(-1)!.attrs).toEqual({ eps: 1e-5 });
  });

  it('leaves an add that something else reads too', () => {
    const g = new TestGraph();
    const b = g.builder;
    const sum = b.op('add', [g.x, g.input('y')], {});
    const fused = checkPass(fuseAddLayerNorm, g.finish(b.op('add', [norm(g, sum), sum], {})));
    expect(opsOf(fused)).toEqual(['add', 'layer_norm', 'add']);
  });

  it('leaves an add that is a graph output', () => {
    const g = new TestGraph();
    const sum = g.builder.op('add', [g.x, g.input('y')], {});
    const fused = checkPass(fuseAddLayerNorm, g.finish(norm(g, sum), sum));
    expect(opsOf(fused)).toEqual(['add', 'layer_norm']);
  });

  it('leaves an add that broadcasts', () => {
    const g = new TestGraph();
    const sum = g.builder.op('add', [g.x, g.weight([HIDDEN])], {});
    const fused = checkPass(fuseAddLayerNorm, g.finish(norm(g, sum)));
    expect(opsOf(fused)).toEqual(['add', 'layer_norm']);
  });
});
