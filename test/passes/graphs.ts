import { expect } from 'vitest';
import { GraphBuilder, type Value } from '../../src/compiler/ir/builder.js';
import type { IrGraph } from '../../src/compiler/ir/types.js';
import { verifyGraph } from '../../src/compiler/ir/verify.js';
import { interpret } from '../../src/runtime/cpu/interpreter.js';
import { inGroup } from '../../src/runtime/ops/registry.js';
import {
  PROGRAM_FORMAT,
  PROGRAM_VERSION,
  type IoSpec,
  type Program,
} from '../../src/runtime/program.js';
import { normalArray } from '../../src/runtime/random.js';
import { resolveShape } from '../../src/runtime/tensor.js';
import { relativeError } from '../helpers/numerics.js';

export const HIDDEN = 8;
const BATCH = 2;
const SEQ = 3;

/** Small graphs for the passes: `x` is an input [B, T, HIDDEN]; weights are random. */
export class TestGraph {
  readonly builder = new GraphBuilder();
  readonly x: Value = this.builder.input('x', 'f32', ['B', 'T', HIDDEN]);
  private weights = 0;

  weight(shape: readonly number[]): Value {
    return this.builder.weight(`w${this.weights++}`, shape, { kind: 'normal', std: 0.5 });
  }

  input(name: string, shape: readonly ('B' | 'T' | number)[] = ['B', 'T', HIDDEN]): Value {
    return this.builder.input(name, 'f32', shape);
  }

  /** x · Wᵀ + b for a fresh W [out, in] and b [out]. */
  projection(x: Value, out = HIDDEN): Value {
    const b = this.builder;
    return b.op(
      'add',
      [b.op('matmul', [x, this.weight([out, x.shape.at(-1) as number])], {}), this.weight([out])],
      {},
    );
  }

  finish(...outputs: Value[]): IrGraph {
    outputs.forEach((value, i) => this.builder.output(`out${i}`, value));
    return this.builder.finish();
  }
}

/** The ops of a graph's computing nodes, in order. */
export function opsOf(graph: IrGraph): string[] {
  return graph.nodes.filter((node) => !inGroup(node.op, 'source')).map((node) => node.op);
}

/** Every output of the graph on the CPU reference, for seeded random inputs and weights. */
export function evaluate(graph: IrGraph): Float32Array[] {
  const io = ({ name, node }: { name: string; node: number }): IoSpec => ({
    name,
    node,
    dtype: graph.nodes[node]!.dtype,
    shape: graph.nodes[node]!.shape,
  });
  const program: Program = {
    format: PROGRAM_FORMAT,
    version: PROGRAM_VERSION,
    source: 'test',
    graph: 'default',
    model: {
      name: 'test',
      hidden: HIDDEN,
      heads: 1,
      ffn: HIDDEN,
      layers: 1,
      norm: 'post',
      attention: 'bidirectional',
    },
    inputs: graph.inputs.map(io),
    outputs: graph.outputs.map(io),
    weights: graph.weights,
    nodes: graph.nodes,
  };
  const sized = (shape: IrGraph['nodes'][number]['shape']) =>
    resolveShape(shape, BATCH, SEQ).reduce((a, b) => a * b, 1);
  const weights = new Map(
    graph.weights.map((w) => [w.name, normalArray(sized(w.shape), nameSeed(w.name), 0.5)]),
  );
  const values = new Map(
    graph.inputs.map((input) => [
      input.name,
      normalArray(sized(graph.nodes[input.node]!.shape), nameSeed(input.name)),
    ]),
  );
  const outputs = interpret(program, weights, { batch: BATCH, seq: SEQ, values });
  return graph.outputs.map((output) => outputs[output.name]!.data as Float32Array);
}

/** A seed from a name, so a tensor gets the same values in a graph before and after a pass. */
function nameSeed(name: string): number {
  let seed = 7;
  for (const char of name) seed = (seed * 31 + char.charCodeAt(0)) % 1_000_003;
  return seed;
}

/**
 * Runs `pass` on `graph`: the result verifies and computes what the graph did on the CPU
 * reference (f32, relative error 1e-5). Returns the result.
 */
export function checkPass(pass: (graph: IrGraph) => IrGraph, graph: IrGraph): IrGraph {
  expect(verifyGraph(graph)).toEqual([]);
  const result = pass(graph);
  expect(verifyGraph(result)).toEqual([]);
  const before = evaluate(graph);
  const after = evaluate(result);
  expect(after).toHaveLength(before.length);
  after.forEach((values, i) => expect(relativeError(values, before[i]!)).toBeLessThan(1e-5));
  return result;
}

/** AdapterFusion as lowered: weighted_sum(softmax(scale(concat(row_dot(q, k_i)...))), v_i...). */
export function fusionOf(g: TestGraph, q: Value | Value[], keys: Value[], values: Value[]) {
  const b = g.builder;
  const queries = Array.isArray(q) ? q : keys.map(() => q);
  const rowDots = keys.map((key, i) => b.op('row_dot', [queries[i]!, key], {}));
  const concat = b.op('concat', rowDots, {});
  const scale = b.op('scale', [concat], { factor: 0.25 });
  const softmax = b.op('softmax', [scale], {});
  const sum = b.op('weighted_sum', [softmax, ...values], {});
  return { rowDots, concat, scale, softmax, sum };
}
