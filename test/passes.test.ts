import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { emitProgram } from '../src/compiler/emit-program.js';
import { compile } from '../src/compiler/index.js';
import type { IrGraph } from '../src/compiler/ir/types.js';
import { verifyGraph } from '../src/compiler/ir/verify.js';
import type { Model } from '../src/compiler/model.js';
import { optimize, PASSES } from '../src/compiler/passes/pipeline.js';
import { interpret } from '../src/runtime/cpu/interpreter.js';
import { prepareInputs } from '../src/runtime/inputs.js';
import { loadSafetensors } from '../src/runtime/safetensors.js';
import { relativeError } from './helpers/numerics.js';

const dir = new URL('./fixtures/torch/', import.meta.url);
const cases = (
  JSON.parse(readFileSync(new URL('cases.json', dir), 'utf8')) as { name: string }[]
).map((c) => c.name);

function fixture(name: string, part: string) {
  return loadSafetensors(readFileSync(new URL(`${name}.${part}.safetensors`, dir)));
}

function run(model: Model, graph: IrGraph, name: string): Float32Array {
  const program = emitProgram(model, 'default', graph);
  const weights = new Map(
    [...fixture(name, 'weights')].map(([n, t]) => [n, t.data as Float32Array]),
  );
  const input = fixture(name, 'input');
  const prepared = prepareInputs(program, {
    hidden_states: input.get('hidden_states')!,
    attention_mask: input.get('attention_mask'),
    adapter_index: input.get('adapter_index'),
  });
  return interpret(program, weights, prepared).hidden_states!.data as Float32Array;
}

/** The nodes with their attributes untyped, for assertions that name any attribute. */
function untyped(graph: IrGraph): readonly {
  id: number;
  op: string;
  inputs: readonly number[];
  attrs: Readonly<Record<string, unknown>>;
}[] {
  return graph.nodes;
}

function count(graph: IrGraph, op: string): number {
  return graph.nodes.filter((n) => n.op === op).length;
}

describe('optimizing passes', () => {
  for (const name of cases) {
    it(`${name}: every pass verifies and keeps the reference result`, () => {
      const { model, ir } = compile(readFileSync(new URL(`${name}.adapt`, dir), 'utf8'), {
        fileName: name,
      });
      const expected = fixture(name, 'expected').get('hidden_states')!.data;
      let graph = ir!;
      let before = run(model!, graph, name);
      expect(relativeError(before, expected)).toBeLessThan(1e-6);
      for (const pass of PASSES) {
        graph = pass.run(graph);
        expect(verifyGraph(graph), pass.name).toEqual([]);
        const after = run(model!, graph, name);
        expect(relativeError(after, before), pass.name).toBeLessThan(1e-6);
        before = after;
      }
      expect(relativeError(before, expected)).toBeLessThan(1e-6);
    });
  }

  it('leaves no primitive matmul, and one bottleneck per adapter site, in a Pfeiffer model', () => {
    const { ir } = compile(readFileSync(new URL('postln_pfeiffer.adapt', dir), 'utf8'), {
      fileName: 'p',
    });
    const fused = optimize(ir!);
    expect(count(fused, 'matmul')).toBe(0);
    expect(count(fused, 'bottleneck')).toBe(2);
    expect(count(fused, 'add_layer_norm')).toBe(4);
  });

  it('fuses AdapterFusion into one mix kernel per covered site, reading W_K and W_V once, W_K folded into the query', () => {
    const { ir } = compile(readFileSync(new URL('fusion_default.adapt', dir), 'utf8'), {
      fileName: 'f',
    });
    const fused = optimize(ir!);
    expect(count(fused, 'fusion_mix')).toBe(2);
    expect(count(fused, 'row_dot') + count(fused, 'softmax') + count(fused, 'weighted_sum')).toBe(
      0,
    );
    const keyReads = untyped(fused).filter(
      (n) =>
        n.inputs.length > 0 &&
        untyped(fused)[n.inputs[0]!]!.attrs.name ===
          'encoder.layer.0.output.adapter_fusion_layer.f.key.weight',
    );
    // W_Kᵀ·W_Q and W_Kᵀ·b_Q, computed at load; one linear reads the product as its weight.
    expect(keyReads.map((n) => n.op)).toEqual(['weight_product', 'weight_product']);
    const query = untyped(fused).filter(
      (n) => n.op === 'linear' && n.inputs[1] === keyReads[0]!.id,
    );
    expect(query).toHaveLength(1);
    expect(query[0]!.attrs.transposeWeight).toBe(false);
    expect(query[0]!.inputs[2]).toBe(keyReads[1]!.id);
  });

  it('folds a parallel adapter into the epilogue of its sublayer', () => {
    const { ir } = compile(readFileSync(new URL('parallel.adapt', dir), 'utf8'), { fileName: 'p' });
    const fused = optimize(ir!);
    const delta = untyped(fused).find((n) => n.op === 'bottleneck' && n.attrs.residual === false)!;
    const reader = untyped(fused).find((n) => n.inputs.includes(delta.id))!;
    expect(reader.op).toBe('linear');
    expect(reader.attrs.residual).toBe(true);
  });
});
