import { describe, expect, it } from 'vitest';
import type { Value } from '../../src/compiler/ir/builder.js';
import type { IrGraph } from '../../src/compiler/ir/types.js';
import { fuseBottlenecks } from '../../src/compiler/passes/bottleneck.js';
import type { LinearActivation } from '../../src/runtime/ops/registry.js';
import { checkPass, HIDDEN, opsOf, TestGraph } from './graphs.js';

interface AdapterOptions {
  readonly r?: number;
  readonly activation?: LinearActivation;
  readonly scale?: number;
  /** What the up-projection adds its output to; none for a parallel adapter's delta. */
  readonly residual?: Value;
}

/** An adapter as epilogue fusion leaves it: a down- and an up-projection linear. */
function adapterLinears(g: TestGraph, z: Value, options: AdapterOptions = {}) {
  const { r = 2, activation = 'relu', scale = 1, residual } = options;
  const b = g.builder;
  const down = b.op('linear', [z, g.weight([r, HIDDEN]), g.weight([r])], {
    activation,
    scale: 1,
    bias: true,
    residual: false,
    transposeWeight: false,
  });
  const inputs = [down, g.weight([HIDDEN, r]), g.weight([HIDDEN])];
  const up = b.op('linear', residual === undefined ? inputs : [...inputs, residual], {
    activation: 'none',
    scale,
    bias: true,
    residual: residual !== undefined,
    transposeWeight: false,
  });
  return { down, up };
}

const adapter = (g: TestGraph, z: Value, options: AdapterOptions = {}) =>
  adapterLinears(g, z, options).up;

const bottlenecksOf = (graph: IrGraph) =>
  graph.nodes.flatMap((node) => (node.op === 'bottleneck' ? [node.attrs] : []));

describe('bottleneck fusion', () => {
  it('fuses a down- and up-projection with its residual into one bottleneck', () => {
    const g = new TestGraph();
    const y = adapter(g, g.x, { activation: 'gelu', scale: 2, residual: g.x });
    const fused = checkPass(fuseBottlenecks, g.finish(y));
    expect(opsOf(fused)).toEqual(['bottleneck']);
    expect(bottlenecksOf(fused)).toEqual([
      { activations: ['gelu'], scales: [2], reads: ['y'], residual: true },
    ]);
  });

  it("fuses a parallel adapter's delta, without residual", () => {
    const g = new TestGraph();
    const fused = checkPass(fuseBottlenecks, g.finish(adapter(g, g.x)));
    expect(opsOf(fused)).toEqual(['bottleneck']);
    expect(bottlenecksOf(fused)).toEqual([
      { activations: ['relu'], scales: [1], reads: ['y'], residual: false },
    ]);
  });

  it('keeps two linears where r >= d', () => {
    for (const r of [HIDDEN, 2 * HIDDEN]) {
      const g = new TestGraph();
      const fused = checkPass(fuseBottlenecks, g.finish(adapter(g, g.x, { r, residual: g.x })));
      expect(opsOf(fused)).toEqual(['linear', 'linear']);
    }
  });

  it('keeps two linears where the down-projection has another reader', () => {
    const g = new TestGraph();
    const { down, up } = adapterLinears(g, g.x, { residual: g.x });
    const graph = g.finish(up, down);
    expect(opsOf(checkPass(fuseBottlenecks, graph))).toEqual(['linear', 'linear']);
  });

  it('stacks adapters applied one after another at a site into one kernel', () => {
    const g = new TestGraph();
    const u = g.input('u');
    const first = adapter(g, g.x, { residual: g.x, scale: 2 });
    const second = adapter(g, first, { residual: first, activation: 'tanh' });
    // A parallel adapter reading the sublayer input u, added to the stack.
    const third = adapter(g, u, { residual: second, activation: 'silu', scale: 0.5 });
    const fused = checkPass(fuseBottlenecks, g.finish(third));
    expect(opsOf(fused)).toEqual(['bottleneck']);
    expect(bottlenecksOf(fused)).toEqual([
      {
        activations: ['relu', 'tanh', 'silu'],
        scales: [2, 1, 0.5],
        reads: ['y', 'y', 'u'],
        residual: true,
      },
    ]);
  });

  it('does not stack adapters that read two different sublayer inputs', () => {
    const g = new TestGraph();
    const first = adapter(g, g.input('u'), { residual: g.x });
    const graph = g.finish(adapter(g, g.input('v'), { residual: first }));
    const fused = checkPass(fuseBottlenecks, graph);
    expect(bottlenecksOf(fused).map((attrs) => attrs.reads)).toEqual([['u'], ['u']]);
  });

  it('starts a new kernel after four adapters', () => {
    const g = new TestGraph();
    let y = g.x;
    for (let i = 0; i < 5; i++) y = adapter(g, y, { residual: y });
    const fused = checkPass(fuseBottlenecks, g.finish(y));
    expect(opsOf(fused)).toEqual(['bottleneck', 'bottleneck']);
    expect(bottlenecksOf(fused).map((attrs) => attrs.scales.length)).toEqual([4, 1]);
  });

  it('does not extend a kernel across a residual that a third node reads', () => {
    const g = new TestGraph();
    const first = adapter(g, g.x, { residual: g.x });
    const second = adapter(g, first, { residual: first });
    const graph = g.finish(g.builder.op('add', [second, first], {}));
    expect(opsOf(checkPass(fuseBottlenecks, graph))).toEqual(['bottleneck', 'bottleneck', 'add']);
  });

  it('does not stack an adapter onto a kernel without residual', () => {
    const g = new TestGraph();
    const delta = adapter(g, g.x);
    const graph = g.finish(adapter(g, delta, { residual: delta }));
    expect(opsOf(checkPass(fuseBottlenecks, graph))).toEqual(['bottleneck', 'bottleneck']);
  });
});
