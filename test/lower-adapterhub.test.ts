import { describe, expect, it } from 'vitest';
import { checkSource } from '../src/compiler/frontend.js';
import { graphPicture, lowerModel } from '../src/compiler/index.js';
import type { IrGraph } from '../src/compiler/ir/types.js';

/** The IR of AdapterHub semantics at one site, on small hand-written specs (no files). */
const MODEL = 'model m { hidden 8 heads 2 ffn 16 layers 1 }\n';

function lower(source: string): IrGraph {
  const result = checkSource(source, 'test.adapt');
  expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return lowerModel(result.model!, 'default');
}

/** `op kind[:name]` of every computing node at layer 0's ffn site after the sublayer. */
function ffnSite(graph: IrGraph): string[] {
  return graph.nodes
    .filter((n) => n.scope?.site === 'ffn' && n.scope.kind !== 'base' && n.op !== 'weight')
    .map((n) => `${n.op} ${n.scope!.kind}${n.scope!.name ? `:${n.scope!.name}` : ''}`);
}

const DELTA = (name: string) => [
  `matmul adapter:${name}`,
  `add adapter:${name}`,
  `relu adapter:${name}`,
  `matmul adapter:${name}`,
  `add adapter:${name}`,
];

describe('lowering AdapterHub semantics', () => {
  it("the article's adapter: y + Δ(y), then LN(x + y)", () => {
    expect(ffnSite(lower(`${MODEL}adapter a { bottleneck 2 at ffn }`))).toEqual([
      ...DELTA('a'),
      'add adapter:a',
      'add residual',
      'layer_norm residual',
    ]);
  });

  it('seq_bn: the adapter reads LN(y + x), its residual is y, then LN(· + x)', () => {
    expect(ffnSite(lower(`${MODEL}adapter a { preset seq_bn bottleneck 2 }`))).toEqual([
      'add residual:input',
      'layer_norm residual:input',
      ...DELTA('a'),
      'add adapter:a',
      'add residual',
      'layer_norm residual',
    ]);
  });

  it("Stack runs the second adapter's pre_forward on the first one's output", () => {
    const graph = lower(
      `${MODEL}adapter a { preset seq_bn bottleneck 2 }\nadapter b { preset seq_bn bottleneck 2 }\ngraph default = stack(a, b)`,
    );
    expect(ffnSite(graph)).toEqual([
      'add residual:input',
      'layer_norm residual:input',
      ...DELTA('a'),
      'add adapter:a',
      'add residual:input',
      'layer_norm residual:input',
      ...DELTA('b'),
      'add adapter:b',
      'add residual',
      'layer_norm residual',
    ]);
  });

  it('par_bn: no residual inside the adapter; y added after, then LN(· + x)', () => {
    expect(ffnSite(lower(`${MODEL}adapter p { preset par_bn bottleneck 2 }`))).toEqual([
      'matmul parallel:p',
      'add parallel:p',
      'relu parallel:p',
      'matmul parallel:p',
      'add parallel:p',
      'scale parallel:p',
      'add residual',
      'add residual',
      'layer_norm residual',
    ]);
  });

  it('AdapterHub fusion: keys and values from the ups, value without bias, the residual added', () => {
    const graph = lower(
      `${MODEL}adapter a { preset seq_bn bottleneck 2 }\nadapter b { preset seq_bn bottleneck 2 }\nfusion f { adapters a, b preset dynamic }\ngraph default = f`,
    );
    const fusion = ffnSite(graph).filter((s) => s.endsWith('fusion:f'));
    expect(fusion).toEqual([
      'matmul fusion:f',
      'add fusion:f',
      'matmul fusion:f',
      'add fusion:f',
      'row_dot fusion:f',
      'matmul fusion:f',
      'add fusion:f',
      'row_dot fusion:f',
      'concat fusion:f',
      'scale fusion:f',
      'softmax fusion:f',
      'matmul fusion:f',
      'matmul fusion:f',
      'weighted_sum fusion:f',
      'add fusion:f',
    ]);
    const scale = graph.nodes.find((n) => n.op === 'scale' && n.scope?.kind === 'fusion')!;
    expect(scale.attrs).toEqual({ factor: 1 });
  });

  it("average divides by the count a second time, as the library's mean does", () => {
    const graph = lower(
      `${MODEL}adapter a { preset seq_bn bottleneck 2 }\nadapter b { preset seq_bn bottleneck 2 }\ngraph default = average(a: 3, b: 1)`,
    );
    const factors = graph.nodes
      .filter((n) => n.op === 'scale' && n.scope?.site === 'ffn')
      .map((n) => (n.op === 'scale' ? n.attrs.factor : undefined));
    expect(factors).toEqual([0.75 / 2, 0.25 / 2]);
  });

  it('draws the LayerNorm an adapter reads apart from the site output', () => {
    const source = `${MODEL}adapter a { preset seq_bn bottleneck 2 }`;
    const model = checkSource(source, 'test.adapt').model!;
    const dot = graphPicture(model, 'default', lowerModel(model, 'default'));
    expect(dot.match(/label="add & LayerNorm\\n\(adapter input\)"/g)).toHaveLength(1);
    expect(dot.match(/label="add & LayerNorm"/g)).toHaveLength(2);
  });

  it('average with one member present at a site: the library broadcasts it over all N weights', () => {
    const graph = lower(
      `${MODEL}adapter a { preset houlsby bottleneck 2 }\nadapter b { preset seq_bn bottleneck 2 }\ngraph default = average(a: 3, b: 1)`,
    );
    const factors = (site: string) =>
      graph.nodes
        .filter((n) => n.op === 'scale' && n.scope?.site === site)
        .map((n) => (n.op === 'scale' ? n.attrs.factor : undefined));
    expect(factors('attn')).toEqual([0.5]);
    expect(factors('ffn')).toEqual([0.75 / 2, 0.25 / 2]);
  });
});
