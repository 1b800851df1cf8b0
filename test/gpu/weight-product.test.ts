import { afterAll, describe, expect } from 'vitest';
import { GraphBuilder } from '../../src/compiler/ir/builder.js';
import { planGpu } from '../../src/compiler/codegen/plan.js';
import {
  PROGRAM_FORMAT,
  PROGRAM_VERSION,
  type IoSpec,
  type Program,
  type Target,
} from '../../src/runtime/program.js';
import { normalArray } from '../../src/runtime/random.js';
import { Runtime } from '../../src/runtime/runtime.js';
import type { TensorMap } from '../../src/runtime/safetensors.js';
import { gpuIt, gpuRuntime } from '../helpers/gpu.js';
import { relativeError } from '../helpers/numerics.js';

/**
 * The load-time kernel alone, at sizes the fixtures do not reach: m ≠ n ≠ p, widths that are and
 * are not multiples of 4, a product of a product. y = x·Mᵀ + c with M = Aᵀ·B, c = Aᵀ·b, then
 * z = y·Wᵀ back to the input width (a hidden-state program's output is its input's shape).
 */
function program(m: number, n: number, p: number, target: Target): Program {
  const g = new GraphBuilder();
  const x = g.input('hidden_states', 'f32', ['B', 'T', p]);
  const init = { kind: 'normal', std: 1 } as const;
  const a = g.weight('a', [m, n], init);
  const product = g.op('weight_product', [a, g.weight('b', [m, p], init)], {});
  const bias = g.op('weight_product', [a, g.weight('bias', [m], init)], {});
  // Aᵀ·(Aᵀ·B) needs m = n: a load-time node that reads another one.
  const twice = m === n ? g.op('weight_product', [a, product], {}) : product;
  const linear = {
    activation: 'none',
    scale: 1,
    residual: false,
    transposeWeight: false,
  } as const;
  const y = g.op('linear', [x, twice, bias], { ...linear, bias: true });
  const z = g.op('linear', [y, g.weight('w', [p, n], init)], { ...linear, bias: false });
  g.output('hidden_states', z);
  const graph = g.finish();
  const io = ({ name, node }: { name: string; node: number }): IoSpec => ({
    name,
    node,
    dtype: 'f32',
    shape: graph.nodes[node]!.shape,
  });
  return {
    format: PROGRAM_FORMAT,
    version: PROGRAM_VERSION,
    source: 'test',
    graph: 'default',
    model: {
      name: 'test',
      hidden: p,
      heads: 1,
      ffn: p,
      layers: 1,
      norm: 'post',
      attention: 'bidirectional',
    },
    inputs: graph.inputs.map(io),
    outputs: graph.outputs.map(io),
    weights: graph.weights,
    nodes: graph.nodes,
    gpu: planGpu(graph, target, true),
  };
}

/** Bytes of the weight buffers the forward dispatches bind, each rounded up to 16 bytes. */
function boundBytes(compiled: Program): number {
  const plan = compiled.gpu!;
  const shapes = new Map(compiled.weights.map((w) => [w.name, w.shape]));
  const bound = new Set(
    plan.dispatches.flatMap((d) => d.args.flatMap((a) => (a.kind === 'weights' ? [a.upload] : []))),
  );
  let bytes = 0;
  for (const upload of bound) {
    const { parts, elements } = plan.uploads[upload]!;
    const count =
      elements ??
      parts.reduce((n, part) => n + shapes.get(part.weight)!.reduce((s, d) => s * d, 1), 0);
    bytes += Math.max(16, Math.ceil((4 * count) / 16) * 16);
  }
  return bytes;
}

const SIZES: readonly [number, number, number][] = [
  [20, 12, 8],
  [12, 12, 16],
  [7, 6, 5],
  [9, 9, 3],
  [33, 20, 4],
];

describe('weight_product on WebGPU', () => {
  const cpu = Runtime.create({ backend: 'cpu' });
  afterAll(async () => (await cpu).dispose());

  gpuIt('computes Aᵀ·B at load as the CPU reference does, at every size and profile', async () => {
    const gpu = await gpuRuntime();
    try {
      for (const [i, [m, n, p]] of SIZES.entries()) {
        for (const target of ['software', 'gpu'] as const) {
          const compiled = program(m, n, p, target);
          expect(compiled.gpu!.loadDispatches!.length).toBeGreaterThanOrEqual(2);
          const weights: TensorMap = new Map(
            compiled.weights.map((w, j) => [
              w.name,
              {
                dtype: 'F32',
                data: normalArray(
                  w.shape.reduce((s, d) => s * d, 1),
                  100 * i + j,
                ),
                shape: w.shape,
              },
            ]),
          );
          const [batch, seq] = [2, 3];
          const inputs = {
            hidden_states: { data: normalArray(batch * seq * p, 7 + i), shape: [batch, seq, p] },
          };
          const model = await gpu.load(compiled, weights);
          // Only what forward passes bind stays on the GPU: the uploads of B and b are freed.
          expect(model.stats!().weightBytes, `m=${m} n=${n} p=${p}`).toBe(boundBytes(compiled));
          const out = await model.run(inputs);
          model.dispose();
          const ref = await (await (await cpu).load(compiled, weights)).run(inputs);
          const label = `m=${m} n=${n} p=${p} ${target}`;
          expect(relativeError(out.hidden_states.data, ref.hidden_states.data), label).toBeLessThan(
            1e-4,
          );
        }
      }
    } finally {
      gpu.dispose();
    }
  });
});
