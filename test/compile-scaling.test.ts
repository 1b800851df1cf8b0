import { describe, expect, it } from 'vitest';
import { printPlan } from '../src/compiler/codegen/print-plan.js';
import { compile } from '../src/compiler/index.js';
import { printGraph } from '../src/compiler/ir/print.js';
import { verifyGraph } from '../src/compiler/ir/verify.js';
import { buildOnnxModel } from '../src/compiler/onnx/export.js';
import { graphPicture } from '../src/compiler/picture.js';
import { scalingSpec } from '../bench/scaling-spec.js';

/**
 * Compiling is linear in the number of layers: these deep models finish within the default test
 * timeout only if every stage after checking is. Nothing here measures time; the assertions are
 * on what the compiler produced.
 */

const LAYERS = 4000;

function compiled(layers: number) {
  const result = compile(scalingSpec(layers), { fileName: 'deep.adapt' });
  expect(result.diagnostics).toEqual([]);
  return { ...result, program: result.program!, gpu: result.program!.gpu! };
}

/** The deep model, compiled once for the tests that read it. */
let deepResult: ReturnType<typeof compiled> | undefined;
const deepModel = () => (deepResult ??= compiled(LAYERS));

const count = (nodes: readonly { op: string }[], op: string) =>
  nodes.reduce((n, node) => n + (node.op === op ? 1 : 0), 0);

describe(`compiling ${LAYERS} layers`, () => {
  it('gives every layer the same dispatches, weights and fused kernels as a small model', () => {
    const one = compiled(1);
    const two = compiled(2);
    const deep = deepModel();

    // Per layer, fused: the attention's q, k, v and output linears and the attention kernel; one
    // bottleneck kernel for a and b at attn; two add & LayerNorms; the FFN's two linears; a
    // bottleneck for each of the fusion's three members and one for p; the fusion's folded query
    // x·(W_Kᵀ·W_Q)ᵀ + W_Kᵀ·b_Q, scores-softmax-mix and W_V: 17 dispatches. W_Kᵀ·W_Q and W_Kᵀ·b_Q
    // are two more, once at load.
    const perLayer = two.gpu.dispatches.length - one.gpu.dispatches.length;
    expect(perLayer).toBe(17);
    expect(one.gpu.dispatches.length).toBe(perLayer);
    expect(deep.gpu.dispatches.length).toBe(perLayer * LAYERS);
    expect(deep.gpu.loadDispatches).toHaveLength(2 * LAYERS);

    // 16 base tensors, 8 each for a and b (two sites), 4 each for c and p, 6 for the fusion.
    expect(two.program.weights.length - one.program.weights.length).toBe(46);
    expect(deep.program.weights.length).toBe(46 * LAYERS);
    const names = new Set(deep.program.weights.map((w) => w.name));
    expect(names.size).toBe(46 * LAYERS);
    expect(names).toContain(`encoder.layer.${LAYERS - 1}.output.adapter_fusion_layer.f.key.bias`);
    expect(names).toContain(`encoder.layer.${LAYERS - 1}.output.adapters.p.adapter_up.weight`);

    const irPerLayer = two.ir!.nodes.length - one.ir!.nodes.length;
    expect(deep.ir!.nodes.length).toBe(one.ir!.nodes.length + irPerLayer * (LAYERS - 1));
    expect(count(deep.optimized!.nodes, 'fusion_mix')).toBe(LAYERS);
    expect(count(deep.optimized!.nodes, 'bottleneck')).toBe(5 * LAYERS);
    expect(verifyGraph(deep.optimized!)).toEqual([]);

    // One pipeline per kernel text serves every layer; liveness keeps the buffers per layer flat.
    expect(deep.gpu.kernels.map((k) => k.name)).toEqual(two.gpu.kernels.map((k) => k.name));
    expect(deep.gpu.buffers.length).toBe(two.gpu.buffers.length);
    expect(deep.gpu.dispatches.at(-1)!.label).toContain(`(L${LAYERS - 1}/ffn/`);
  });

  it('prints, pictures and exports the deep graph', () => {
    const { model, ir, optimized, gpu } = deepModel();
    const text = printGraph(optimized!);
    expect(text.split('\n').filter((line) => line.startsWith('# L')).length).toBeGreaterThan(
      LAYERS,
    );
    expect(printPlan(gpu)).toContain(`# ${17 * LAYERS} dispatches, `);
    expect(printPlan(gpu)).toContain(`, ${2 * LAYERS} load-time dispatches`);
    const picture = graphPicture(model!, 'default', optimized!);
    expect(picture.match(/subgraph cluster_layer\d+ /g)!.length).toBe(LAYERS);
    expect(picture).toContain(`fusion f\\n(3 adapters)`);

    const zeros = new Map<number, Float32Array>();
    const weights = new Map(
      ir!.weights.map((w) => {
        const size = w.shape.reduce((n, d) => n * d, 1);
        if (!zeros.has(size)) zeros.set(size, new Float32Array(size));
        return [w.name, zeros.get(size)!];
      }),
    );
    const onnx = buildOnnxModel(ir!, weights, { fileName: 'deep.adapt', graph: 'default' });
    const last = onnx.graph!.node!.at(-1)!;
    expect(last.output).toEqual(['last_hidden_state']);
    expect(onnx.graph!.initializer!.length).toBeGreaterThan(46 * LAYERS);
  });

  it('plans the unfused graph, one kernel per op, for every layer', () => {
    const one = compile(scalingSpec(1), { fuse: false }).program!.gpu!;
    const deep = compile(scalingSpec(LAYERS), { fuse: false }).program!.gpu!;
    expect(one.dispatches.length).toBe(75);
    expect(deep.dispatches.length).toBe(75 * LAYERS);
    expect(deep.kernels.length).toBe(one.kernels.length);
  });
});
