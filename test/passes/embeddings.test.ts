import { describe, expect, it } from 'vitest';
import { GraphBuilder, type Value } from '../../src/compiler/ir/builder.js';
import type { IrGraph } from '../../src/compiler/ir/types.js';
import { verifyGraph } from '../../src/compiler/ir/verify.js';
import { fuseEmbeddings } from '../../src/compiler/passes/embeddings.js';
import { interpret } from '../../src/runtime/cpu/interpreter.js';
import { inGroup } from '../../src/runtime/ops/registry.js';
import { PROGRAM_FORMAT, PROGRAM_VERSION, type Program } from '../../src/runtime/program.js';
import { normalArray } from '../../src/runtime/random.js';

const D = 8;
const VOCAB = 11;
const BATCH = 2;
const SEQ = 3;

/** Small token-id graphs: ids, position ids and type ids [B, T] and random tables. */
class IdGraph {
  readonly b = new GraphBuilder();
  readonly ids = this.b.input('input_ids', 'i32', ['B', 'T']);
  readonly positionIds = this.b.input('position_ids', 'i32', ['B', 'T']);
  readonly typeIds = this.b.input('token_type_ids', 'i32', ['B', 'T']);
  private count = 0;

  weight(shape: number[]): Value {
    return this.b.weight(`w${this.count++}`, shape, { kind: 'normal', std: 0.5 });
  }

  lookup(rows: number, ids: Value, table = this.weight([rows, D])): Value {
    return this.b.op('gather', [table, ids], {});
  }

  /** word + position (+ type) as lowering builds it. */
  sum(types: boolean): Value {
    let x = this.b.op('add', [this.lookup(VOCAB, this.ids), this.lookup(6, this.positionIds)], {});
    if (types) x = this.b.op('add', [x, this.lookup(2, this.typeIds)], {});
    return x;
  }

  norm(x: Value): Value {
    return this.b.op('layer_norm', [x, this.weight([D]), this.weight([D])], { eps: 1e-5 });
  }

  finish(...outputs: Value[]): IrGraph {
    outputs.forEach((value, i) => this.b.output(`out${i}`, value));
    return this.b.finish();
  }
}

const opsOf = (graph: IrGraph) =>
  graph.nodes.filter((node) => !inGroup(node.op, 'source')).map((node) => node.op);

function evaluate(graph: IrGraph): Float32Array[] {
  const io = ({ name, node }: { name: string; node: number }) => ({
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
  };
  const weights = new Map(
    graph.weights.map((w, i) => [
      w.name,
      normalArray(
        w.shape.reduce((n, d) => n * d, 1),
        i + 1,
      ),
    ]),
  );
  const ids = Int32Array.from({ length: BATCH * SEQ }, (_, i) => (i * 7) % 6);
  const values = new Map(graph.inputs.map((input) => [input.name, ids.map((id) => id % 2)]));
  values.set('input_ids', ids);
  values.set(
    'position_ids',
    Int32Array.from(ids, (_, i) => i % SEQ),
  );
  const outputs = interpret(program, weights, { batch: BATCH, seq: SEQ, values });
  return graph.outputs.map((output) => outputs[output.name]!.data as Float32Array);
}

/** Runs the pass: the result verifies and computes exactly what the graph did. */
function check(graph: IrGraph): IrGraph {
  expect(verifyGraph(graph)).toEqual([]);
  const result = fuseEmbeddings(graph);
  expect(verifyGraph(result)).toEqual([]);
  const before = evaluate(graph);
  evaluate(result).forEach((values, i) => expect(values).toEqual(before[i]));
  return result;
}

describe('embeddings fusion', () => {
  it('fuses word + position + type and the LayerNorm (BERT) into one node', () => {
    const g = new IdGraph();
    const fused = check(g.finish(g.norm(g.sum(true))));
    expect(opsOf(fused)).toEqual(['embeddings']);
    const node = fused.nodes.at(-1)!;
    expect(node.attrs).toEqual({ tokenTypes: true, layerNorm: true, eps: 1e-5 });
    expect(node.inputs.map((id) => fused.nodes[id]!.op)).toEqual([
      'input',
      'weight',
      'input',
      'weight',
      'input',
      'weight',
      'weight',
      'weight',
    ]);
  });

  it('fuses word + position and the LayerNorm without token types (DistilBERT)', () => {
    const g = new IdGraph();
    const fused = check(g.finish(g.norm(g.sum(false))));
    expect(opsOf(fused)).toEqual(['embeddings']);
    expect(fused.nodes.at(-1)!.attrs).toMatchObject({ tokenTypes: false, layerNorm: true });
  });

  it('fuses the bare sum (GPT-2), which the first block reads twice', () => {
    const g = new IdGraph();
    const sum = g.sum(false);
    const fused = check(g.finish(g.b.op('add', [sum, g.norm(sum)], {})));
    expect(opsOf(fused)).toEqual(['embeddings', 'layer_norm', 'add']);
    expect(fused.nodes.find((n) => n.op === 'embeddings')!.attrs).toMatchObject({
      tokenTypes: false,
      layerNorm: false,
    });
  });

  it('fuses a typed sum without a LayerNorm, leaving a LayerNorm of another reader', () => {
    const g = new IdGraph();
    const sum = g.sum(true);
    const fused = check(g.finish(g.norm(sum), sum));
    expect(opsOf(fused)).toEqual(['embeddings', 'layer_norm']);
    expect(fused.nodes.find((n) => n.op === 'embeddings')!.attrs).toMatchObject({
      tokenTypes: true,
      layerNorm: false,
    });
  });

  it('leaves a gather that something else reads too', () => {
    const g = new IdGraph();
    const word = g.lookup(VOCAB, g.ids);
    const sum = g.b.op('add', [word, g.lookup(6, g.positionIds)], {});
    const fused = check(g.finish(g.norm(sum), word));
    expect(opsOf(fused)).toEqual(['gather', 'gather', 'add', 'layer_norm']);
  });

  it('leaves a table that is computed, not a weight', () => {
    const g = new IdGraph();
    const table = g.b.op('scale', [g.weight([VOCAB, D])], { factor: 2 });
    const sum = g.b.op('add', [g.lookup(VOCAB, g.ids, table), g.lookup(6, g.positionIds)], {});
    const fused = check(g.finish(sum));
    expect(opsOf(fused)).toEqual(['scale', 'gather', 'gather', 'add']);
  });

  it('leaves lookups whose ids differ in shape (a broadcast add)', () => {
    const g = new IdGraph();
    const perSequence = g.b.input('sequence_ids', 'i32', ['B', 1]);
    const sum = g.b.op('add', [g.lookup(VOCAB, g.ids), g.lookup(4, perSequence)], {});
    const fused = check(g.finish(sum));
    expect(opsOf(fused)).toEqual(['gather', 'gather', 'add']);
  });
});
