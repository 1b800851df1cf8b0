import { describe, expect, it } from 'vitest';
import { KERNEL_TEMPLATES } from '../src/compiler/codegen/templates.js';
import { ACTIVATION_FUNCTIONS } from '../src/compiler/codegen/wgsl.js';
import { forwardFlops } from '../src/compiler/ir/flops.js';
import { GraphBuilder } from '../src/compiler/ir/builder.js';
import { verifyGraph } from '../src/compiler/ir/verify.js';
import { ONNX_TRANSLATIONS } from '../src/compiler/onnx/ops.js';
import { CPU_KERNELS } from '../src/runtime/cpu/all-kernels.js';
import { activations } from '../src/runtime/cpu/math.js';
import { checkAttrs } from '../src/runtime/ops/attr-schema.js';
import { formatProvenance, type ProgramNode } from '../src/runtime/ops/node.js';
import {
  ACTIVATIONS,
  COMPUTE_OPS,
  OP_NAMES,
  OPS,
  inGroup,
  opDef,
  opsIn,
  outputDtype,
} from '../src/runtime/ops/registry.js';

const sorted = (names: Iterable<string>) => [...names].sort();

describe('the op registry', () => {
  const primitive = COMPUTE_OPS.filter((op) => !inGroup(op, 'fused'));

  it('has an entry for every op in every per-op table, and no other', () => {
    expect(sorted(Object.keys(KERNEL_TEMPLATES))).toEqual(sorted(COMPUTE_OPS));
    expect(sorted(Object.keys(CPU_KERNELS))).toEqual(sorted(COMPUTE_OPS));
    expect(sorted(Object.keys(ONNX_TRANSLATIONS))).toEqual(sorted(primitive));
    expect(sorted(Object.keys(ACTIVATION_FUNCTIONS))).toEqual(sorted(ACTIVATIONS));
    expect(sorted(Object.keys(activations))).toEqual(sorted(ACTIVATIONS));
  });

  it('names its groups once: sources, activations, fused and load-time ops', () => {
    expect(opsIn('source')).toEqual(['input', 'weight']);
    expect(opsIn('activation')).toEqual([
      'relu',
      'gelu',
      'gelu_tanh',
      'silu',
      'tanh',
      'sigmoid',
      'leaky_relu',
    ]);
    expect(opsIn('activation')).toEqual(ACTIVATIONS);
    expect(opsIn('fused')).toEqual([
      'linear',
      'add_layer_norm',
      'bottleneck',
      'embeddings',
      'fusion_mix',
    ]);
    expect(opsIn('load')).toEqual(['weight_product']);
    expect(OP_NAMES.length).toBe(COMPUTE_OPS.length + 2);
  });

  it('gives every op that computes a shape rule, and only sources none', () => {
    for (const op of OP_NAMES)
      expect(opDef(op).shape === undefined, op).toBe(inGroup(op, 'source'));
  });

  it('derives output dtypes from the rule: select takes its branches', () => {
    expect(outputDtype('select', ['i32', 'i32', 'i32'])).toBe('i32');
    expect(outputDtype('select', ['i32', 'f32', 'f32'])).toBe('f32');
    expect(outputDtype('matmul', ['f32', 'f32'])).toBe('f32');
    expect(outputDtype('input', [])).toBeUndefined();
    const b = new GraphBuilder();
    const index = b.input('adapter_index', 'i32', ['B']);
    const mask = b.input('attention_mask', 'i32', ['B', 'T']);
    const picked = b.op('select', [index, mask, mask], {});
    b.output('picked', picked);
    expect(b.finish().nodes[picked.id]!.dtype).toBe('i32');
  });

  it('checks attribute types, not only their presence', () => {
    const schema = OPS.linear.attrs;
    const good = {
      activation: 'gelu',
      scale: 2,
      bias: true,
      residual: false,
      transposeWeight: false,
    };
    expect(() => checkAttrs('linear', schema, good, 'attrs')).not.toThrow();
    expect(() => checkAttrs('linear', schema, { ...good, bias: 'yes' }, 'attrs')).toThrow(
      'attrs.bias: must be true or false, got the string "yes"',
    );
    expect(() => checkAttrs('linear', schema, { ...good, activation: 'swish' }, 'attrs')).toThrow(
      /^attrs\.activation: must be 'none' or 'identity' or 'relu' or 'gelu'/,
    );
    const missing: Record<string, unknown> = { ...good };
    delete missing.scale;
    expect(() => checkAttrs('linear', schema, missing, 'attrs')).toThrow(
      "attrs: linear needs 'scale'",
    );
    expect(() =>
      checkAttrs(
        'bottleneck',
        OPS.bottleneck.attrs,
        { activations: ['relu'], scales: [], reads: ['y'], residual: true },
        'attrs',
      ),
    ).toThrow('attrs.scales: must not be empty');
  });

  it('makes the graph verifier reject an attribute of the wrong type', () => {
    const b = new GraphBuilder();
    const x = b.input('hidden_states', 'f32', ['B', 'T', 4]);
    b.output('hidden_states', b.op('scale', [x], { factor: 2 }));
    const graph = b.finish();
    expect(verifyGraph(graph)).toEqual([]);
    const nodes = graph.nodes.map((node) =>
      node.op === 'scale' ? { ...node, attrs: { factor: Number.NaN } } : node,
    );
    expect(verifyGraph({ ...graph, nodes })).toEqual([
      'node %1 (scale): attrs.factor: must be a finite number, got NaN',
    ]);
  });

  it('counts FLOPs with each op’s formula', () => {
    const b = new GraphBuilder();
    const x = b.input('hidden_states', 'f32', ['B', 'T', 8]);
    const w = b.weight('w', [16, 8], { kind: 'zeros' });
    const wt = b.weight('wt', [16, 8], { kind: 'zeros' });
    const h = b.op('matmul', [x, w], {});
    const back = b.op('linear', [h, wt], {
      activation: 'none',
      scale: 1,
      bias: false,
      residual: false,
      transposeWeight: true,
    });
    b.output('hidden_states', back);
    const nodes = b.finish().nodes;
    // 2·(B·T)·k·n for each: the matmul has k=8, n=16; the linear reads W [16,8] as Wᵀ: k=16, n=8.
    expect(forwardFlops(nodes, 2, 3)).toBe(2 * 6 * 8 * 16 + 2 * 6 * 16 * 8);
    const attention: ProgramNode = {
      id: 0,
      op: 'attention',
      dtype: 'f32',
      shape: ['B', 'T', 8],
      inputs: [],
      attrs: { heads: 2, causal: true },
    };
    // 4·B·(T(T+1)/2)·d for causal attention.
    expect(forwardFlops([attention], 2, 3)).toBe(4 * 2 * 6 * 8);
  });

  it('prints provenance the way plans and dumps show it', () => {
    expect(formatProvenance({ layer: 3, site: 'ffn', kind: 'adapter', name: 'sentiment' })).toBe(
      'L3/ffn/adapter:sentiment',
    );
    expect(formatProvenance({ layer: 0, site: 'attn', kind: 'base' })).toBe('L0/attn/base');
  });
});
