import { describe, expect, it } from 'vitest';
import { followChain, previous, step } from '../../src/compiler/passes/match/chain.js';
import {
  any,
  constrain,
  either,
  group,
  match,
  matchContext,
  op,
  same,
} from '../../src/compiler/passes/match/pattern.js';
import { hasOneReader, inputsOfSameShape } from '../../src/compiler/passes/match/predicates.js';
import { TestGraph } from './graphs.js';

/** x → scale(0.5) → relu → add(·, x), and an output. */
function smallChain() {
  const g = new TestGraph();
  const b = g.builder;
  const scaled = b.op('scale', [g.x], { factor: 0.5 });
  const relu = b.op('relu', [scaled], {});
  const sum = b.op('add', [relu, g.x], {});
  const graph = g.finish(sum);
  return { graph, context: matchContext(graph), scaled, relu, sum, x: g.x };
}

describe('pattern matcher', () => {
  it('binds a node of an op, its attributes typed by the op', () => {
    const { context, scaled } = smallChain();
    const bound = match(context, op('scale', { bind: 'scale' }), scaled.id);
    expect(bound?.scale.attrs.factor).toBe(0.5);
    expect(match(context, op('relu'), scaled.id)).toBeUndefined();
  });

  it('matches any op of a registry group', () => {
    const { context, scaled, relu } = smallChain();
    const activation = group('activation', { bind: 'activation' });
    expect(match(context, activation, relu.id)?.activation.op).toBe('relu');
    expect(match(context, activation, scaled.id)).toBeUndefined();
  });

  it('matches inputs by position and binds through them', () => {
    const { context, sum, relu, x } = smallChain();
    const pattern = op('add', {
      bind: 'sum',
      inputs: [op('relu', { inputs: [op('scale', { bind: 'scale' })] }), any('residual')],
    });
    const bound = match(context, pattern, sum.id)!;
    expect([bound.sum.id, bound.scale.attrs.factor, bound.residual.id]).toEqual([
      sum.id,
      0.5,
      x.id,
    ]);
    const swapped = op('add', { inputs: [any(), op('relu')] });
    expect(match(context, swapped, sum.id)).toBeUndefined();
    expect(match(context, op('relu', { inputs: [any(), any()] }), relu.id)).toBeUndefined();
  });

  it('lists the bindings of every remaining input with each, and fails if one does not match', () => {
    const g = new TestGraph();
    const b = g.builder;
    const q = g.input('q');
    const o = [g.input('o1'), g.input('o2'), g.input('o3')];
    const dots = o.map((value) => b.op('row_dot', [q, value], {}));
    const concat = b.op('concat', dots, {});
    const mixed = b.op('concat', [dots[0]!, b.op('scale', [dots[1]!], { factor: 2 })], {});
    const graph = g.finish(concat, mixed);
    const context = matchContext(graph);
    const scores = op('concat', { each: op('row_dot', { bind: 'dots', inputs: [any('query')] }) });
    const bound = match(context, scores, concat.id)!;
    expect(bound.dots.map((dot) => dot.id)).toEqual(dots.map((dot) => dot.id));
    expect(bound.query.map((node) => node.id)).toEqual([q.id, q.id, q.id]);
    expect(match(context, scores, mixed.id)).toBeUndefined();
    const afterFirst = op('concat', { inputs: [any('first')], each: any('rest') });
    const split = match(context, afterFirst, concat.id)!;
    expect([split.first.id, split.rest.map((node) => node.id)]).toEqual([
      dots[0]!.id,
      [dots[1]!.id, dots[2]!.id],
    ]);
  });

  it('holds a node to a predicate: one reader, inputs of one shape', () => {
    const g = new TestGraph();
    const b = g.builder;
    const once = b.op('relu', [g.x], {});
    const twice = b.op('tanh', [g.x], {});
    const sum = b.op(
      'add',
      [b.op('scale', [once], { factor: 2 }), b.op('add', [twice, twice], {})],
      {},
    );
    const bias = b.op('add', [sum, g.weight([8])], {});
    const graph = g.finish(bias);
    const context = matchContext(graph);
    const readOnce = group('activation', { where: hasOneReader });
    expect(match(context, readOnce, once.id)).toBeDefined();
    expect(match(context, readOnce, twice.id)).toBeUndefined();
    const plain = op('add', { where: inputsOfSameShape });
    expect(match(context, plain, sum.id)).toBeDefined();
    expect(match(context, plain, bias.id)).toBeUndefined();
  });

  it('requires a name bound twice to be one node, and same(name) to be the node bound or seeded', () => {
    const g = new TestGraph();
    const b = g.builder;
    const y = g.input('y');
    const double = b.op('add', [g.x, g.x], {});
    const sum = b.op('add', [g.x, y], {});
    const graph = g.finish(double, sum);
    const context = matchContext(graph);
    const self = op('add', { inputs: [any('v'), any('v')] });
    expect(match(context, self, double.id)).toBeDefined();
    expect(match(context, self, sum.id)).toBeUndefined();
    const fromX = op('add', { inputs: [same('start'), any('other')] });
    const x = graph.nodes[g.x.id]!;
    expect(match(context, fromX, sum.id, { start: x })?.other.id).toBe(y.id);
    expect(match(context, fromX, sum.id, { start: graph.nodes[y.id]! })).toBeUndefined();
    expect(match(context, fromX, sum.id)).toBeUndefined();
  });

  it('takes the first alternative that matches, without the bindings of one that failed', () => {
    const { context, sum, relu, x } = smallChain();
    const seed = { start: context.graph.nodes[x.id]! };
    const pattern = either(
      op('add', { inputs: [same('start'), any('other')] }),
      op('add', { inputs: [any('other'), same('start')] }),
    );
    const bound = match(context, pattern, sum.id, seed)!;
    expect(bound.other.id).toBe(relu.id);
  });

  it('constrains the bindings together', () => {
    const { context, sum } = smallChain();
    const pair = op('add', { inputs: [any('a'), any('b')] });
    const equalShapes = constrain(pair, ({ a, b }) => a.shape.join() === b.shape.join());
    expect(match(context, equalShapes, sum.id)).toBeDefined();
    const distinct = constrain(pair, ({ a, b }) => a.id === b.id);
    expect(match(context, distinct, sum.id)).toBeUndefined();
  });
});

describe('chains of optional steps', () => {
  const steps = [
    step(
      op('scale', { bind: 'scale', inputs: [previous] }),
      ({ scale }) => `scale ${scale.attrs.factor}`,
    ),
    step(group('activation', { bind: 'f' }), ({ f }) => f.op),
    step(op('add', { bind: 'sum', inputs: [previous, any()] }), () => 'add'),
  ];

  it('takes the steps in order from the sole reader of each node', () => {
    const { context, x, scaled, relu, sum } = smallChain();
    const readOnlyScale = (id: number) => id !== x.id;
    // x is read by the scale and by the add, so nothing follows it.
    expect(followChain(context, x.id, steps, readOnlyScale).members).toEqual([x.id]);
    const chain = followChain(context, scaled.id, steps, () => true);
    expect(chain.members).toEqual([scaled.id, relu.id, sum.id]);
    expect(chain.contributions).toEqual(['relu', 'add']);
  });

  it('never goes back to an earlier step, and stops at a node that is not free', () => {
    const g = new TestGraph();
    const b = g.builder;
    const relu = b.op('relu', [g.x], {});
    const tanh = b.op('tanh', [relu], {});
    const scaled = b.op('scale', [tanh], { factor: 3 });
    const graph = g.finish(b.op('add', [scaled, g.x], {}));
    const context = matchContext(graph);
    const chain = followChain(context, relu.id, steps, () => true);
    expect(chain.members).toEqual([relu.id, tanh.id]);
    expect(chain.contributions).toEqual(['tanh']);
    expect(followChain(context, relu.id, steps, (id) => id !== tanh.id).members).toEqual([relu.id]);
  });

  it('stops before a node read by a graph output', () => {
    const g = new TestGraph();
    const b = g.builder;
    const scaled = b.op('scale', [g.x], { factor: 3 });
    const graph = g.finish(b.op('relu', [scaled], {}), scaled);
    const chain = followChain(matchContext(graph), g.x.id, steps, () => true);
    expect(chain.members).toEqual([g.x.id, scaled.id]);
  });
});
