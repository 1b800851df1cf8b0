import { describe, expect, it } from 'vitest';
import { checkSource } from '../src/compiler/frontend.js';
import type { Expression, Value } from '../src/compiler/syntax/ast.js';

function values(text: string) {
  const { ast, diagnostics } = checkSource(text, 't.adapt');
  const show = (v: Value) =>
    v.kind === 'range' ? `${v.from.value}..${v.to.value}` : v.kind === 'number' ? v.value : v.text;
  return {
    diagnostics: diagnostics.map((d) => d.code),
    blocks: ast.declarations.map((d) =>
      d.kind === 'block'
        ? [
            d.keyword.text,
            d.name.text,
            d.properties.map((p) => [p.name.text, ...p.values.map(show)]),
          ]
        : [d.keyword.text, d.name.text, expr(d.expression)],
    ),
  };
}

function expr(e: Expression): string {
  return e.kind === 'reference'
    ? e.name.text
    : `${e.callee.text}(${e.args.map((a) => expr(a.expression) + (a.weight ? `:${a.weight.value}` : '')).join(',')})`;
}

describe('parser', () => {
  it('parses a model block with every property', () => {
    const { blocks, diagnostics } = values(
      'model bert-base {\n hidden 768 # d\n heads 12 ffn 3072 layers 12\n activation gelu norm post eps 1e-12 attention bidirectional }',
    );
    expect(diagnostics).toEqual([]);
    expect(blocks).toEqual([
      [
        'model',
        'bert-base',
        [
          ['hidden', 768],
          ['heads', 12],
          ['ffn', 3072],
          ['layers', 12],
          ['activation', 'gelu'],
          ['norm', 'post'],
          ['eps', 1e-12],
          ['attention', 'bidirectional'],
        ],
      ],
    ]);
  });

  it('parses adapters with sites, layer lists, ranges, signed and exponent numbers on one line', () => {
    const { blocks } = values(
      'adapter s { bottleneck 64 activation relu at attn, ffn layers 0..5, 8, 10..11 scale -2.5e-1 init zero_up }\nadapter ner { reduction 16  at ffn }\nadapter par { bottleneck 32 parallel ffn scale 4.0 }',
    );
    expect(blocks).toEqual([
      [
        'adapter',
        's',
        [
          ['bottleneck', 64],
          ['activation', 'relu'],
          ['at', 'attn', 'ffn'],
          ['layers', '0..5', 8, '10..11'],
          ['scale', -0.25],
          ['init', 'zero_up'],
        ],
      ],
      [
        'adapter',
        'ner',
        [
          ['reduction', 16],
          ['at', 'ffn'],
        ],
      ],
      [
        'adapter',
        'par',
        [
          ['bottleneck', 32],
          ['parallel', 'ffn'],
          ['scale', 4],
        ],
      ],
    ]);
  });

  it('parses fusion options', () => {
    const { blocks } = values(
      'fusion mt { adapters a, b at attn, ffn layers 2..3 temperature 0.5 scale none value identity residual on }',
    );
    expect(blocks).toEqual([
      [
        'fusion',
        'mt',
        [
          ['adapters', 'a', 'b'],
          ['at', 'attn', 'ffn'],
          ['layers', '2..3'],
          ['temperature', 0.5],
          ['scale', 'none'],
          ['value', 'identity'],
          ['residual', 'on'],
        ],
      ],
    ]);
  });

  it('parses graph expressions: names, stack, weighted average, batch, nesting', () => {
    const { blocks } = values(
      'graph default = multitask\ngraph both = stack(ner, sentiment)\ngraph avg = average(a: 0.7, b: 0.3)\ngraph routed = batch(stack(a, b), c, average(a, b))',
    );
    expect(blocks).toEqual([
      ['graph', 'default', 'multitask'],
      ['graph', 'both', 'stack(ner,sentiment)'],
      ['graph', 'avg', 'average(a:0.7,b:0.3)'],
      ['graph', 'routed', 'batch(stack(a,b),c,average(a,b))'],
    ]);
  });

  it('parses the full language tour of the README without diagnostics', () => {
    const source = `# bert-fusion.adapt
model bert-base {
  hidden 768
  heads 12
  ffn 3072
  layers 12
  activation gelu
  norm post
  eps 1e-12
  attention bidirectional
}
adapter sentiment {
  bottleneck 64
  activation relu
  at attn, ffn
  layers 0..11
  scale 1.0
  init near_identity
}
adapter ner { reduction 16  at ffn }
adapter par { bottleneck 32  parallel ffn  scale 4.0 }
fusion multitask {
  adapters sentiment, ner
  at ffn
}
graph default = multitask
graph sentiment_only = sentiment
graph both = stack(ner, sentiment)
graph routed = batch(sentiment, ner)
`;
    const { diagnostics, model } = checkSource(source, 'bert-fusion.adapt');
    // `par` is declared but used by no graph: a warning, not an error.
    expect(diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual([
      "W0409 adapter 'par' is used by no graph",
    ]);
    expect(model!.adapters.get('ner')!.bottleneck).toBe(48);
    expect(model!.adapters.get('par')!.placements).toEqual({ ffn: 'parallel' });
    expect(model!.fusions.get('multitask')!.covers).toHaveLength(12);
    expect([...model!.graphs.keys()]).toEqual(['default', 'sentiment_only', 'both', 'routed']);
  });

  it('accepts an empty file structure with comments only as having no model', () => {
    expect(values('# nothing here\n').diagnostics).toEqual(['E0110']);
  });
});
