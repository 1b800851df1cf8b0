import type { IrGraph } from '../../src/compiler/ir/types.js';
import {
  PROGRAM_FORMAT,
  PROGRAM_VERSION,
  type IoSpec,
  type Program,
} from '../../src/runtime/program.js';

/** A base small enough for finite differences: 2 layers of width 8, 2 heads. */
export const SMALL_MODEL = 'model m { hidden 8 heads 2 ffn 16 layers 2 }';

export interface SmallTrainingCase {
  readonly name: string;
  readonly source: string;
  /** Prefixes of the trained weights' names. */
  readonly trained: readonly string[];
}

/**
 * Specs on hidden states whose trained tensors the backward tests check, on the CPU reference
 * against finite differences (test/backward) and on WebGPU against the CPU reference
 * (test/gpu-training): every adapter form, a fusion, a causal pre-LN base and the graph forms.
 */
export const SMALL_TRAINING_CASES: readonly SmallTrainingCase[] = [
  {
    name: 'a Pfeiffer adapter at ffn',
    source: `${SMALL_MODEL}\nadapter a { bottleneck 4 at ffn }`,
    trained: ['adapters.a.'],
  },
  {
    name: 'a Houlsby adapter (attn and ffn), gelu',
    source: `${SMALL_MODEL}\nadapter h { bottleneck 3 activation gelu at attn, ffn }`,
    trained: ['adapters.h.'],
  },
  {
    name: 'a parallel, scaled adapter with tanh',
    source: `${SMALL_MODEL}\nadapter p { bottleneck 4 activation tanh parallel ffn scale 2.5 }`,
    trained: ['adapters.p.'],
  },
  {
    name: 'a stack of silu and gelu_tanh adapters, training the second',
    source: `${SMALL_MODEL}\nadapter s { bottleneck 2 activation silu at attn }\nadapter t { bottleneck 3 activation gelu_tanh at ffn scale 0.5 }\ngraph default = stack(s, t)`,
    trained: ['adapters.t.'],
  },
  {
    name: 'an AdapterFusion with its adapters frozen',
    source: `${SMALL_MODEL}\nadapter a { bottleneck 4 at ffn }\nadapter b { bottleneck 3 activation gelu at ffn }\nfusion f { adapters a, b at ffn temperature 0.7 }\ngraph default = f`,
    trained: ['adapter_fusion_layer.f.'],
  },
  {
    name: 'a causal pre-LN model with an adapter',
    source: `model g { hidden 8 heads 2 ffn 16 layers 2 norm pre attention causal activation gelu_tanh }\nadapter a { bottleneck 4 at attn, ffn }`,
    trained: ['adapters.a.'],
  },
  {
    name: 'an average of two adapters',
    source: `${SMALL_MODEL}\nadapter a { bottleneck 4 at ffn }\nadapter b { bottleneck 2 at ffn }\ngraph default = average(a: 0.7, b: 0.3)`,
    trained: ['adapters.a.', 'adapters.b.'],
  },
  {
    name: 'an AdapterHub adapter with its own LayerNorms, a gate and a scale per channel',
    source: `${SMALL_MODEL}\nadapter g { bottleneck 4 at ffn original_ln_before true ln_before true ln_after true gating true residual_before_ln false scale channel }`,
    trained: ['adapters.g.'],
  },
  {
    name: 'an AdapterHub adapter with a gate that no LayerNorm undoes and a learned scale',
    source: `${SMALL_MODEL}\nadapter g { bottleneck 4 activation tanh at attn gating true scale learned }`,
    trained: ['adapters.g.'],
  },
  {
    name: 'a scaled parallel AdapterHub adapter (a learned scale)',
    source: `${SMALL_MODEL}\nadapter s { preset scaled_par_bn bottleneck 3 }`,
    trained: ['adapters.s.'],
  },
  {
    name: 'a batch(...) graph routing sequences to two adapters',
    source: `${SMALL_MODEL}\nadapter a { bottleneck 4 at ffn }\nadapter b { bottleneck 3 activation silu at attn }\ngraph default = batch(a, b)`,
    trained: ['adapters.a.', 'adapters.b.'],
  },
];

/** The program of a hand-built graph on a one-layer base of width `hidden`, its I/O as the graph's. */
export function programOf(graph: IrGraph, hidden: number): Program {
  const io = ({ name, node }: { name: string; node: number }): IoSpec => ({
    name,
    node,
    dtype: graph.nodes[node]!.dtype,
    shape: graph.nodes[node]!.shape,
  });
  return {
    format: PROGRAM_FORMAT,
    version: PROGRAM_VERSION,
    source: 'test',
    graph: 'default',
    model: {
      name: 'test',
      hidden,
      heads: 1,
      ffn: hidden,
      layers: 1,
      norm: 'post',
      attention: 'bidirectional',
    },
    inputs: graph.inputs.map(io),
    outputs: graph.outputs.map(io),
    weights: graph.weights,
    nodes: graph.nodes,
  };
}
