import { describe, expect, it } from 'vitest';
import { fuseEpilogues } from '../../src/compiler/passes/epilogue.js';
import { checkPass, HIDDEN, opsOf, TestGraph } from './graphs.js';

const linearsOf = (graph: ReturnType<typeof fuseEpilogues>) =>
  graph.nodes.flatMap((node) => (node.op === 'linear' ? [node.attrs] : []));

describe('epilogue fusion', () => {
  it('fuses matmul, bias, activation, scale and residual add into one linear', () => {
    const g = new TestGraph();
    const b = g.builder;
    const h = b.op('matmul', [g.x, g.weight([HIDDEN, HIDDEN])], {});
    const biased = b.op('add', [h, g.weight([HIDDEN])], {});
    const scaled = b.op('scale', [b.op('gelu', [biased], {})], { factor: 0.5 });
    const fused = checkPass(fuseEpilogues, g.finish(b.op('add', [g.x, scaled], {})));
    expect(opsOf(fused)).toEqual(['linear']);
    expect(linearsOf(fused)).toEqual([
      { activation: 'gelu', scale: 0.5, bias: true, residual: true, transposeWeight: false },
    ]);
    expect(fused.nodes.at(-1)!.inputs).toHaveLength(4);
  });

  it('takes each step only if present, in order', () => {
    const g = new TestGraph();
    const b = g.builder;
    const h = b.op('matmul', [g.x, g.weight([HIDDEN, HIDDEN])], {});
    const fused = checkPass(fuseEpilogues, g.finish(b.op('add', [b.op('relu', [h], {}), g.x], {})));
    expect(opsOf(fused)).toEqual(['linear']);
    expect(linearsOf(fused)).toEqual([
      { activation: 'relu', scale: 1, bias: false, residual: true, transposeWeight: false },
    ]);
  });

  it('makes a lone matmul a linear, and leaves an activation after the scale alone', () => {
    const g = new TestGraph();
    const b = g.builder;
    const h = b.op('matmul', [g.x, g.weight([HIDDEN, HIDDEN])], {});
    const late = b.op('tanh', [b.op('scale', [h], { factor: 2 })], {});
    const fused = checkPass(fuseEpilogues, g.finish(late));
    expect(opsOf(fused)).toEqual(['linear', 'tanh']);
    expect(linearsOf(fused)).toEqual([
      { activation: 'none', scale: 2, bias: false, residual: false, transposeWeight: false },
    ]);
  });

  it('stops before a step whose input has a second reader', () => {
    const g = new TestGraph();
    const b = g.builder;
    const h = b.op('matmul', [g.x, g.weight([HIDDEN, HIDDEN])], {});
    const biased = b.op('add', [h, g.weight([HIDDEN])], {});
    const both = b.op(
      'add',
      [b.op('relu', [biased], {}), b.op('scale', [biased], { factor: 3 })],
      {},
    );
    const fused = checkPass(fuseEpilogues, g.finish(both));
    expect(opsOf(fused)).toEqual(['linear', 'relu', 'scale', 'add']);
    expect(linearsOf(fused)).toEqual([
      { activation: 'none', scale: 1, bias: true, residual: false, transposeWeight: false },
    ]);
  });

  it('stops before a step whose input is a graph output', () => {
    const g = new TestGraph();
    const b = g.builder;
    const h = b.op('matmul', [g.x, g.weight([HIDDEN, HIDDEN])], {});
    const biased = b.op('add', [h, g.weight([HIDDEN])], {});
    const fused = checkPass(fuseEpilogues, g.finish(b.op('relu', [biased], {}), biased));
    expect(opsOf(fused)).toEqual(['linear', 'relu']);
  });

  it('gives an add that two chains reach to the first, with the other as its residual', () => {
    const g = new TestGraph();
    const b = g.builder;
    const first = b.op('matmul', [g.x, g.weight([HIDDEN, HIDDEN])], {});
    const second = b.op('matmul', [g.x, g.weight([HIDDEN, HIDDEN])], {});
    const fused = checkPass(fuseEpilogues, g.finish(b.op('add', [first, second], {})));
    expect(opsOf(fused)).toEqual(['linear', 'linear']);
    expect(linearsOf(fused).map((attrs) => attrs.residual)).toEqual([false, true]);
  });

  it('leaves an add that broadcasts something other than a bias weight', () => {
    const g = new TestGraph();
    const b = g.builder;
    const h = b.op('matmul', [g.x, g.weight([HIDDEN, HIDDEN])], {});
    const fused = checkPass(fuseEpilogues, g.finish(b.op('add', [h, g.input('v', [HIDDEN])], {})));
    expect(opsOf(fused)).toEqual(['linear', 'add']);
  });
});
