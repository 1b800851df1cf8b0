import { describe, expect, it } from 'vitest';
import { checkSource } from '../src/compiler/frontend.js';
import { diagnose, messages, MODEL } from './helpers/frontend.js';

function model(text: string) {
  const result = checkSource(text, 't.adapt');
  expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return result.model!;
}

describe('checker', () => {
  it('applies model defaults', () => {
    expect(model(MODEL).base).toMatchObject({
      hidden: 64,
      heads: 4,
      ffn: 128,
      layers: 4,
      activation: 'gelu',
      norm: 'post',
      eps: 1e-12,
      attention: 'bidirectional',
    });
  });

  it('applies adapter defaults and resolves reduction to floor(hidden / k)', () => {
    const a = model(`${MODEL}adapter a { reduction 5 at attn, ffn }`).adapters.get('a')!;
    expect(a).toMatchObject({
      bottleneck: 12,
      activation: 'relu',
      placements: { attn: 'sequential', ffn: 'sequential' },
      layers: [0, 1, 2, 3],
      scale: 1,
      init: 'near_identity',
    });
  });

  it('expands layer lists', () => {
    const a = model(
      'model m { hidden 64 heads 4 ffn 128 layers 12 }\nadapter a { bottleneck 8 at ffn layers 10..11, 0..2, 5 }',
    ).adapters.get('a')!;
    expect(a.layers).toEqual([0, 1, 2, 5, 10, 11]);
  });

  it('computes fusion coverage where two members meet, and the fusion options', () => {
    const m = model(
      `${MODEL}adapter a { bottleneck 8 at attn, ffn }\nadapter b { bottleneck 8 at ffn layers 1..2 }\nadapter c { bottleneck 8 at ffn layers 2 }\nfusion f { adapters a, b, c temperature 2 scale none value identity residual on }`,
    );
    const f = m.fusions.get('f')!;
    expect(f.covers).toEqual([
      { layer: 1, site: 'ffn', members: ['a', 'b'] },
      { layer: 2, site: 'ffn', members: ['a', 'b', 'c'] },
    ]);
    expect(f).toMatchObject({
      temperature: 2,
      scaleScores: false,
      value: 'identity',
      residual: true,
    });
  });

  it('reports a fusion whose explicit layers include layers where members do not meet', () => {
    expect(
      messages(
        `${MODEL}adapter a { bottleneck 8 at ffn }\nadapter b { bottleneck 8 at ffn layers 1..2 }\nfusion f { adapters a, b layers 0..2 }`,
      ),
    ).toEqual([
      "E0303: fusion 'f' covers layer 0, where fewer than two of its adapters are present at ffn",
    ]);
  });

  it('reports a fusion whose members never meet', () => {
    expect(
      diagnose(
        `${MODEL}adapter a { bottleneck 8 at attn }\nadapter b { bottleneck 8 at ffn }\nfusion f { adapters a, b }`,
      ),
    ).toEqual(["E0303 4:8 'f'"]);
  });

  it('builds the default graph from fusions and the adapters in no fusion, in file order', () => {
    const m = model(
      `${MODEL}adapter x { bottleneck 8 at ffn }\nadapter a { bottleneck 8 at ffn }\nadapter b { bottleneck 8 at ffn }\nfusion f { adapters a, b }\nadapter y { bottleneck 8 parallel attn }`,
    );
    expect(m.graphs.get('default')!.composition).toEqual({
      kind: 'stack',
      items: [
        { kind: 'adapter', name: 'x' },
        { kind: 'fusion', name: 'f' },
        { kind: 'adapter', name: 'y' },
      ],
    });
  });

  it('normalizes average weights and defaults them to equal', () => {
    const m = model(
      `${MODEL}adapter a { bottleneck 8 at ffn }\nadapter b { bottleneck 8 at ffn }\ngraph w = average(a: 3, b: 1)\ngraph e = average(a, b)`,
    );
    expect(m.graphs.get('w')!.composition).toEqual({
      kind: 'average',
      items: [
        { name: 'a', weight: 0.75 },
        { name: 'b', weight: 0.25 },
      ],
    });
    expect(m.graphs.get('e')!.composition).toMatchObject({
      items: [{ weight: 0.5 }, { weight: 0.5 }],
    });
  });

  it('resolves batch branches', () => {
    const m = model(
      `${MODEL}adapter a { bottleneck 8 at ffn }\nadapter b { bottleneck 8 at ffn }\ngraph r = batch(stack(a, b), a)`,
    );
    expect(m.graphs.get('r')!.composition).toEqual({
      kind: 'batch',
      branches: [
        {
          kind: 'stack',
          items: [
            { kind: 'adapter', name: 'a' },
            { kind: 'adapter', name: 'b' },
          ],
        },
        { kind: 'adapter', name: 'a' },
      ],
    });
  });

  it('suggests the closest word for typos in values and names', () => {
    expect(
      checkSource(`${MODEL}adapter a { bottleneck 8 at ffn activation sillu }`, 't').diagnostics[0]!
        .help,
    ).toBe("did you mean 'silu'?");
    expect(
      checkSource('model m { hidden 64 heads 4 ffn 128 layers 4 norm pree }', 't').diagnostics[0]!
        .help,
    ).toBe("did you mean 'pre'?");
  });

  it('does not report a broken adapter again where a fusion or graph names it', () => {
    expect(
      diagnose(
        `${MODEL}adapter a { bottleneck 0 at ffn }\nadapter b { bottleneck 8 at ffn }\nfusion f { adapters a, b }\ngraph g = stack(a, f)`,
      ),
    ).toEqual(["E0105 2:24 '0'"]);
  });
});

describe('recovery', () => {
  it('reports two independent semantic errors in one file', () => {
    expect(
      diagnose(
        'model m { hidden 768 heads 10 ffn 3072 layers 12 }\nadapter a { botleneck 8 at ffn }',
      ).filter((d) => !d.startsWith('E0201')),
    ).toEqual(["E0104 1:28 '10'", "E0106 2:13 'botleneck'"]);
  });

  it('reports two independent syntax errors and still checks what parsed', () => {
    const found = diagnose(
      `${MODEL}adapter a { bottleneck 8 at ffn, }\nadapter b { bottleneck 8 at ffn }\ngraph g = stack(a,, b)\ngraph h = stak(b)`,
    );
    expect(found).toEqual(["E0002 2:34 '}'", "E0002 4:19 ','", "E0402 5:11 'stak'"]);
  });

  it('recovers from a missing closing brace at the next declaration', () => {
    expect(
      diagnose(`${MODEL}adapter a { bottleneck 8 at ffn\nadapter b { botleneck 8 at ffn }`),
    ).toEqual(["E0003 2:11 '{'", "E0201 3:9 'b'", "E0106 3:13 'botleneck'"]);
  });

  it('points at an unclosed parenthesis', () => {
    expect(
      diagnose(`${MODEL}adapter a { bottleneck 8 at ffn }\ngraph g = stack(a, a\ngraph h = a`),
    ).toEqual(["E0003 3:16 '('"]);
  });

  it('reports garbage at top level and goes on', () => {
    expect(
      diagnose(`${MODEL}} ) adapter a { bottleneck 8 at ffn }\nadapter b { bottleneck 0 at ffn }`),
    ).toEqual(["E0002 2:1 '}'", "E0105 3:24 '0'"]);
  });
});

describe('no cascades', () => {
  it('an invalid site makes the adapter invalid, so a fusion over it says nothing more', () => {
    expect(
      diagnose(
        `${MODEL}adapter a { bottleneck 8 at fnn }\nadapter b { bottleneck 8 at ffn }\nfusion f { adapters a, b }`,
      ),
    ).toEqual(["E0108 2:29 'fnn'"]);
  });

  it('a fusion listing one adapter twice needs two different adapters', () => {
    expect(
      messages(`${MODEL}adapter a { bottleneck 8 at ffn }\nfusion f { adapters a, a }`),
    ).toEqual([
      "E0301: fusion 'f' needs at least two different adapters, found 1",
      "E0206: 'a' is listed twice",
    ]);
  });

  it('the first declaration of a name is the one kept, whatever its kind', () => {
    expect(
      diagnose(
        `${MODEL}fusion a { adapters x, y }\nadapter a { bottleneck 8 at ffn }\nadapter x { bottleneck 8 at ffn }`,
      ),
    ).toEqual(["E0302 2:24 'y'", "E0102 3:9 'a'"]);
  });

  it('average weights must be finite', () => {
    expect(
      messages(
        `${MODEL}adapter a { bottleneck 8 at ffn }\nadapter b { bottleneck 8 at ffn }\ngraph g = average(a: 1e999, b: 1)\ngraph h = average(a: 1e308, b: 1e308)`,
      ),
    ).toEqual([
      'E0403: average weight 1e999 is not a finite number',
      'E0403: average weights are too large to add up',
    ]);
  });

  it('a model written with = is one error, not also "no model"', () => {
    expect(messages('model m = a').map((m) => m.slice(0, 5))).toEqual(['E0111']);
  });
});
