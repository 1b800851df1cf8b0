import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { broadcastIndex } from '../src/compiler/codegen/kernels/elementwise.js';
import { planGpu } from '../src/compiler/codegen/plan.js';
import { GraphBuilder, type Value } from '../src/compiler/ir/builder.js';
import { forwardFlops } from '../src/compiler/ir/flops.js';
import type { IrGraph } from '../src/compiler/ir/types.js';
import { verifyGraph } from '../src/compiler/ir/verify.js';
import { exportOnnx } from '../src/compiler/onnx/export.js';
import { decodeModel } from '../src/compiler/onnx/proto.js';
import { optimize } from '../src/compiler/passes/pipeline.js';
import { interpret } from '../src/runtime/cpu/interpreter.js';
import { inGroup, OPS } from '../src/runtime/ops/registry.js';
import {
  PROGRAM_FORMAT,
  PROGRAM_VERSION,
  type IoSpec,
  type Program,
} from '../src/runtime/program.js';
import { normalArray } from '../src/runtime/random.js';
import type { TensorMap } from '../src/runtime/safetensors.js';
import { gpuIt, gpuRuntime } from './helpers/gpu.js';

/**
 * `mul` (b broadcast onto a: the channel [d] and single [1] scalings and the [B, 1, 1] gate of
 * AdapterHub's bottleneck adapters) and `token_mean` (the gate's mean over all T positions) on
 * every backend: the CPU reference against sums written out here, WebGPU and ONNX Runtime against
 * the CPU reference.
 */

const D = 6;
const BATCH = 3;
const SEQ = 5;
const TOLERANCE = 1e-5;

ort.env.wasm.numThreads = 1;

const WEIGHT_SHAPES: Readonly<Record<string, readonly number[]>> = {
  w_channel: [D],
  w_single: [1],
  w_gate_weight: [1, D],
  w_gate_bias: [1],
  w_down: [2, D],
  w_up: [D, 2],
};

/** Every output, by name: a mul of each broadcast form, token means, and an adapter's delta. */
function buildGraph(): IrGraph {
  const b = new GraphBuilder();
  const x = b.input('hidden_states', 'f32', ['B', 'T', D]);
  const w = (name: string) => b.weight(name, WEIGHT_SHAPES[name]!, { kind: 'normal', std: 0.5 });
  const out = (name: string, value: Value) => b.output(name, value);
  // A scaled bottleneck delta and its residual add, where the passes look for linears; the
  // runtime takes hidden_states as the first output.
  const up = b.op(
    'matmul',
    [b.op('relu', [b.op('matmul', [x, w('w_down')], {})], {}), w('w_up')],
    {},
  );
  out('hidden_states', b.op('add', [x, b.op('mul', [up, w('w_channel')], {})], {}));
  out('channel', b.op('mul', [x, w('w_channel')], {}));
  out('single', b.op('mul', [x, w('w_single')], {}));
  out('squared', b.op('mul', [x, x], {}));
  const logits = b.op('add', [b.op('matmul', [x, w('w_gate_weight')], {}), w('w_gate_bias')], {});
  const gate = b.op('token_mean', [b.op('sigmoid', [logits], {})], {});
  out('gate', gate);
  out('gated', b.op('mul', [x, gate], {}));
  const mean = b.op('token_mean', [x], {});
  out('mean', mean);
  out('mean_channel', b.op('mul', [mean, w('w_channel')], {}));
  return b.finish();
}

interface Case {
  readonly x: Float32Array;
  readonly weights: ReadonlyMap<string, Float32Array>;
}

function randomCase(seed: number): Case {
  const weights = new Map(
    Object.entries(WEIGHT_SHAPES).map(([name, shape], i) => [
      name,
      normalArray(
        shape.reduce((n, d) => n * d, 1),
        seed * 31 + i + 1,
        0.5,
      ),
    ]),
  );
  return { x: normalArray(BATCH * SEQ * D, seed), weights };
}

/** The graph as a program; with `plan`, planned for WebGPU (fused or not, as the graph is). */
function program(graph: IrGraph, plan?: { fuse: boolean }): Program {
  const io = ({ name, node }: { name: string; node: number }): IoSpec => ({
    name,
    node,
    dtype: graph.nodes[node]!.dtype,
    shape: graph.nodes[node]!.shape,
  });
  return {
    format: PROGRAM_FORMAT,
    version: PROGRAM_VERSION,
    source: 'mul-token-mean',
    graph: 'default',
    model: {
      name: 'test',
      hidden: D,
      heads: 1,
      ffn: D,
      layers: 1,
      norm: 'post',
      attention: 'bidirectional',
    },
    inputs: graph.inputs.map(io),
    outputs: graph.outputs.map(io),
    weights: graph.weights,
    nodes: graph.nodes,
    ...(plan ? { gpu: planGpu(graph, 'software', plan.fuse) } : {}),
  };
}

const GRAPH = buildGraph();

function onCpu(graph: IrGraph, c: Case): Record<string, Float32Array> {
  const values = new Map([['hidden_states', c.x]]);
  const outputs = interpret(program(graph), c.weights, {
    batch: BATCH,
    seq: SEQ,
    values,
  });
  return Object.fromEntries(
    Object.entries(outputs).map(([name, tensor]) => [name, tensor.data as Float32Array]),
  );
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** What each output must be, from the inputs by plain loops over b, t and c. */
function byHand({ x, weights }: Case): Record<string, number[]> {
  const at = (b: number, t: number, c: number) => x[(b * SEQ + t) * D + c]!;
  const channel = weights.get('w_channel')!;
  const single = weights.get('w_single')![0]!;
  const gateWeight = weights.get('w_gate_weight')!;
  const gateBias = weights.get('w_gate_bias')![0]!;
  const down = weights.get('w_down')!;
  const up = weights.get('w_up')!;
  const expected: Record<string, number[]> = {
    channel: [],
    single: [],
    squared: [],
    gate: [],
    gated: [],
    mean: [],
    mean_channel: [],
    hidden_states: [],
  };
  for (let b = 0; b < BATCH; b++) {
    let gate = 0;
    for (let t = 0; t < SEQ; t++) {
      let logit = gateBias;
      for (let c = 0; c < D; c++) logit += at(b, t, c) * gateWeight[c]!;
      gate += sigmoid(logit) / SEQ;
    }
    expected.gate!.push(gate);
    for (let t = 0; t < SEQ; t++) {
      const hidden = [0, 1].map((r) => {
        let sum = 0;
        for (let c = 0; c < D; c++) sum += at(b, t, c) * down[r * D + c]!;
        return Math.max(sum, 0);
      });
      for (let c = 0; c < D; c++) {
        const v = at(b, t, c);
        expected.channel!.push(v * channel[c]!);
        expected.single!.push(v * single);
        expected.squared!.push(v * v);
        expected.gated!.push(v * gate);
        const delta = hidden[0]! * up[c * 2]! + hidden[1]! * up[c * 2 + 1]!;
        expected.hidden_states!.push(v + delta * channel[c]!);
      }
    }
    for (let c = 0; c < D; c++) {
      let mean = 0;
      for (let t = 0; t < SEQ; t++) mean += at(b, t, c);
      expected.mean!.push(mean / SEQ);
      expected.mean_channel!.push((mean / SEQ) * channel[c]!);
    }
  }
  return expected;
}

function maxDifference(out: ArrayLike<number>, ref: ArrayLike<number>): number {
  expect(out.length).toBe(ref.length);
  let max = 0;
  for (let i = 0; i < ref.length; i++) max = Math.max(max, Math.abs(out[i]! - ref[i]!));
  return max;
}

function expectClose(
  outputs: Readonly<Record<string, ArrayLike<number>>>,
  reference: Readonly<Record<string, ArrayLike<number>>>,
): void {
  expect(Object.keys(outputs).sort()).toEqual(Object.keys(reference).sort());
  for (const [name, values] of Object.entries(reference))
    expect(maxDifference(outputs[name]!, values), name).toBeLessThan(TOLERANCE);
}

const opsOf = (graph: IrGraph) =>
  graph.nodes.filter((node) => !inGroup(node.op, 'source')).map((node) => node.op);

describe('the shape rules of mul and token_mean', () => {
  const x = ['B', 'T', 8] as const;

  it('broadcasts b onto a from the right: [B, T, d] by [B, T, d], [d], [1] and [B, 1, 1]', () => {
    for (const b of [x, [8], [1], ['B', 1, 1], ['B', 'T', 1], [1, 8]] as const)
      expect(OPS.mul.shape!([x, b], {})).toEqual(x);
    expect(OPS.mul.shape!([['B', 1, 8], [8]], {})).toEqual(['B', 1, 8]);
    expect(OPS.mul.shape!([x, [4]], {})).toBe('cannot broadcast [4] onto [B, T, 8]');
    expect(OPS.mul.shape!([x, ['B', 'T', 2]], {})).toMatch(/^cannot broadcast/);
    expect(OPS.mul.shape!([[8], x], {})).toMatch(/^cannot broadcast/);
  });

  it('takes the mean over T: [B, T, C] → [B, 1, C]', () => {
    expect(OPS.token_mean.shape!([x], {})).toEqual(['B', 1, 8]);
    expect(OPS.token_mean.shape!([['B', 'T', 1]], {})).toEqual(['B', 1, 1]);
    expect(OPS.token_mean.shape!([['B', 8]], {})).toBe('takes [B, T, C], got [B, 8]');
    expect(OPS.token_mean.shape!([['B', 1, 8]], {})).toMatch(/^takes \[B, T, C\]/);
  });

  it('has no attributes, f32 outputs and no FLOP formula (elementwise work)', () => {
    for (const op of [OPS.mul, OPS.token_mean]) {
      expect(op.attrs).toEqual({});
      expect(op.dtype).toBe('f32');
      expect(op.groups).toEqual([]);
    }
    expect(OPS.mul.arity).toBe(2);
    expect(OPS.token_mean.arity).toBe(1);
    // Only the three matmuls count: gate [1, D], down [2, D] and up [D, 2].
    expect(forwardFlops(GRAPH.nodes, BATCH, SEQ)).toBe(2 * BATCH * SEQ * D * (1 + 2 + 2));
  });
});

describe('mul and token_mean on the CPU reference', () => {
  it('compute the sums written out by hand, on fresh random inputs', () => {
    expect(verifyGraph(GRAPH)).toEqual([]);
    for (const seed of [11, 12, 13]) {
      const c = randomCase(seed);
      expectClose(onCpu(GRAPH, c), byHand(c));
    }
  });

  it('are left alone by the passes, which compute the same', () => {
    const optimized = optimize(GRAPH);
    expect(verifyGraph(optimized)).toEqual([]);
    const ops = opsOf(optimized);
    expect(ops.filter((op) => op === 'mul')).toHaveLength(
      opsOf(GRAPH).filter((op) => op === 'mul').length,
    );
    expect(ops.filter((op) => op === 'token_mean')).toHaveLength(2);
    // The gate's matmul, bias and sigmoid become one linear; the mul after `up` is not a scale.
    expect(ops).toContain('linear');
    expect(ops).not.toContain('sigmoid');
    for (const node of optimized.nodes) {
      if (node.op === 'linear') expect(node.attrs.scale).toBe(1);
    }
    const c = randomCase(21);
    expectClose(onCpu(optimized, c), onCpu(GRAPH, c));
  });
});

describe('the WGSL of mul and token_mean', () => {
  it('reads b at the element a broadcast gives', () => {
    const x = ['B', 'T', 8] as const;
    expect(broadcastIndex(x, x)).toBe('i');
    expect(broadcastIndex(x, [8])).toBe('(i % (8u))');
    expect(broadcastIndex(x, [1])).toBe('0u');
    expect(broadcastIndex(x, ['B', 1, 1])).toBe('(i / (8u * params.seq))');
    expect(broadcastIndex(x, ['B', 'T', 1])).toBe('(i / (8u))');
    expect(broadcastIndex(x, ['T', 8])).toBe('(i % (8u * params.seq))');
    expect(broadcastIndex(x, ['B', 1, 8])).toBe('(i % (8u)) + (i / (8u * params.seq)) * 8u');
    expect(broadcastIndex(['B', 1, 8], [8])).toBe('(i % (8u))');
  });

  it('names each kernel by both shapes, so equal names mean equal WGSL', () => {
    const plan = planGpu(GRAPH, 'software', false);
    const names = plan.kernels.map((k) => k.name).filter((n) => /^(mul|token_mean)/.test(n));
    expect(names.sort()).toEqual([
      'mul_Bx1x6_by_6',
      'mul_BxTx6_by_1',
      'mul_BxTx6_by_6',
      'mul_BxTx6_by_Bx1x1',
      'mul_BxTx6_by_BxTx6',
      'token_mean_1',
      'token_mean_6',
    ]);
    const perSequence = plan.kernels.find((k) => k.name === 'mul_Bx1x6_by_6')!.wgsl;
    expect(perSequence).toContain('params.batch * COLUMNS');
  });
});

describe('mul and token_mean on WebGPU', () => {
  gpuIt('match the CPU reference, unfused and after the passes', async () => {
    const rt = await gpuRuntime();
    try {
      for (const [graph, fuse, seed] of [
        [GRAPH, false, 31],
        [optimize(GRAPH), true, 32],
      ] as const) {
        const c = randomCase(seed);
        const weights: TensorMap = new Map(
          [...c.weights].map(([name, data]) => [
            name,
            { dtype: 'F32', shape: WEIGHT_SHAPES[name]!, data },
          ]),
        );
        const model = await rt.load(program(graph, { fuse }), weights);
        try {
          const outputs = (await model.run({
            hidden_states: { data: c.x, shape: [BATCH, SEQ, D] },
          })) as unknown as Record<string, { data: Float32Array }>;
          const values = Object.fromEntries(
            Object.entries(outputs).map(([name, tensor]) => [name, tensor.data]),
          );
          expectClose(values, onCpu(GRAPH, c));
        } finally {
          model.dispose();
        }
      }
    } finally {
      rt.dispose();
    }
  });
});

describe('mul and token_mean in ONNX export', () => {
  it('become Mul and ReduceMean over axis 1, and match the CPU reference in ONNX Runtime', async () => {
    const c = randomCase(41);
    const bytes = exportOnnx(GRAPH, c.weights, { fileName: 'mul-token-mean', graph: 'default' });
    const nodes = decodeModel(bytes).graph!.node!;
    const means = nodes.filter((node) => node.opType === 'ReduceMean');
    expect(means).toHaveLength(2);
    for (const node of means) {
      expect(node.input).toHaveLength(1);
      const attrs = node.attribute!.map((a) => [a.name, a.ints!.map(Number), Number(a.i)]);
      expect(attrs).toEqual([
        ['axes', [1], 0],
        ['keepdims', [], 1],
      ]);
    }
    expect(nodes.filter((node) => node.opType === 'Mul')).toHaveLength(6);
    const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
    try {
      const results = await session.run({
        hidden_states: new ort.Tensor('float32', c.x, [BATCH, SEQ, D]),
      });
      expect(results.gate!.dims).toEqual([BATCH, 1, 1]);
      expect(results.mean!.dims).toEqual([BATCH, 1, D]);
      const values = Object.fromEntries(
        Object.entries(results).map(([name, tensor]) => [
          name === 'last_hidden_state' ? 'hidden_states' : name,
          tensor.data as Float32Array,
        ]),
      );
      expectClose(values, onCpu(GRAPH, c));
    } finally {
      await session.release();
    }
  });
});
