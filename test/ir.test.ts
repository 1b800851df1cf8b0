import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compile } from '../src/compiler/index.js';
import { COMPUTE_OPS } from '../src/runtime/ops/registry.js';
import type { IrGraph } from '../src/compiler/ir/types.js';
import { verifyGraph } from '../src/compiler/ir/verify.js';
import { CPU_KERNELS } from '../src/runtime/cpu/all-kernels.js';

const examplesDir = new URL('../examples/', import.meta.url);
const examples = readdirSync(examplesDir).filter((f) => f.endsWith('.adapt'));

function lower(file: string, graph = 'default'): IrGraph {
  const { ir, diagnostics } = compile(readFileSync(new URL(file, examplesDir), 'utf8'), {
    fileName: file,
    graph,
  });
  expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return ir!;
}

describe('graph IR', () => {
  it('the CPU reference has a kernel for every computing op, and no other', () => {
    const computing = [...COMPUTE_OPS];
    expect(Object.keys(CPU_KERNELS).sort()).toEqual(computing.sort());
  });

  for (const file of examples) {
    it(`lowers ${file} to a graph that verifies, for every graph it declares`, () => {
      const { model } = compile(readFileSync(new URL(file, examplesDir), 'utf8'), {
        fileName: file,
      });
      for (const graph of model!.graphs.keys()) expect(verifyGraph(lower(file, graph))).toEqual([]);
    });
  }

  it('keeps batch and sequence sizes symbolic', () => {
    const ir = lower('bert-base-pfeiffer.adapt');
    expect(ir.nodes[ir.outputs[0]!.node]!.shape).toEqual(['B', 'T', 768]);
    expect(ir.inputs.map((i) => i.name)).toEqual(['hidden_states', 'attention_mask']);
  });

  it('reads exactly the weights of the adapters present', () => {
    const ir = lower('bert-base-fusion.adapt', 'sentiment_only');
    const adapterWeights = ir.weights.filter((w) => w.name.includes('adapters.'));
    // sentiment at ffn in 12 layers: down and up, weight and bias.
    expect(adapterWeights).toHaveLength(48);
    expect(adapterWeights[0]).toEqual({
      name: 'encoder.layer.0.output.adapters.sentiment.adapter_down.0.weight',
      shape: [64, 768],
      init: { kind: 'normal', std: 0.01 },
    });
    const fusion = lower('bert-base-fusion.adapt').weights.filter((w) => w.name.includes('fusion'));
    expect(fusion).toHaveLength(12 * 6);
  });

  it('finds broken graphs', () => {
    const ir = lower('worked-example.adapt');
    const nodes = ir.nodes.map((n) => ({ ...n }));
    const matmul = nodes.findIndex((n) => n.op === 'matmul');
    nodes[matmul] = { ...nodes[matmul]!, shape: ['B', 'T', 5] };
    nodes[3] = { ...nodes[3]!, inputs: [7, 1] };
    // @ts-expect-error: the type of nodes admits only the registry's ops; a program from elsewhere may hold any.
    nodes.push({ id: 99, op: 'frobnicate', dtype: 'f32', shape: [], inputs: [], attrs: {} });
    const problems = verifyGraph({ ...ir, nodes });
    expect(problems).toContain(
      `node %${matmul} (matmul): shape [B,T,5], but its inputs give [B,T,4]`,
    );
    expect(problems).toContain(`node %3 (${nodes[3]!.op}): input %7 is not an earlier node`);
    expect(problems).toContain(
      `node %99 (frobnicate): id differs from its position ${nodes.length - 1}`,
    );
    expect(problems).toContain('node %99 (frobnicate): unknown op');
  });
});
