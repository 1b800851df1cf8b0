import { describe, expect, it } from 'vitest';
import { MAX_SHOWN_PER_SEVERITY } from '../../src/compiler/diagnostics.js';
import { checkSource } from '../../src/compiler/frontend.js';
import { compile } from '../../src/compiler/index.js';
import { ArgumentError } from '../../src/runtime/errors.js';
import { HOSTILE_CASES } from './cases.js';

describe('hostile sources', () => {
  for (const { name, text, expected } of HOSTILE_CASES) {
    it(`${name}: ${expected}`, () => {
      const { diagnostics, model } = checkSource(text, 'hostile.adapt');
      const errors = diagnostics.filter((d) => d.severity === 'error');
      if (expected === 'ok') {
        expect(errors.map((d) => `${d.code} ${d.message}`)).toEqual([]);
        expect(model).toBeDefined();
      } else {
        expect(diagnostics.map((d) => d.code)).toContain(expected);
        expect(model).toBeUndefined();
      }
      // One more per severity says the rest are not shown.
      expect(diagnostics.length).toBeLessThanOrEqual(2 * (MAX_SHOWN_PER_SEVERITY + 1));
      for (const d of diagnostics) {
        expect(d.message.length).toBeLessThan(400);
        expect((d.help ?? '').length).toBeLessThan(400);
        if (!d.span) continue;
        expect(d.span.start).toBeGreaterThanOrEqual(0);
        expect(d.span.end).toBeGreaterThanOrEqual(d.span.start);
        expect(d.span.end).toBeLessThanOrEqual(text.length);
      }
    });
  }
});

describe('hostile characters and numbers, precisely', () => {
  it('accepts a byte-order mark and counts columns without it', () => {
    const { diagnostics, source } = checkSource(
      '\uFEFFmodel m { hidden 64 heads 4 ffn 128 layers 4 eps 0 }',
      'bom.adapt',
    );
    expect(diagnostics.map((d) => [d.code, source.position(d.span!.start)])).toEqual([
      ['E0112', { line: 1, column: 50 }],
    ]);
  });

  it('names a NUL by its code and byte offset, once for all of them', () => {
    const text =
      'model m { hidden 64 heads 4 ffn 128 layers 4 }\n# é\nadapter a {\0 bottleneck 8\0 }';
    const { diagnostics, source } = checkSource(text, 'f.adapt');
    const nul = diagnostics.filter((d) => d.code === 'E0006');
    expect(nul.map((d) => [d.message, source.position(d.span!.start)])).toEqual([
      ['NUL character (U+0000) at byte offset 63, and 1 more in the file', { line: 3, column: 12 }],
    ]);
    expect(new TextEncoder().encode(text.slice(0, nul[0]!.span!.start)).length).toBe(63);
  });

  it('says what to write instead of a malformed number', () => {
    const help = (number: string) =>
      checkSource(`model m { hidden 64 heads 4 ffn 128 layers 4 eps ${number} }`).diagnostics.map(
        (d) => `${d.code} ${d.message}: ${d.help}`,
      );
    expect(help('0x10')).toEqual(["E0004 '0x10' is not a number: write decimal digits, e.g. 16"]);
    expect(help('1_000')).toEqual([
      "E0004 '1_000' is not a number: write it without separators: 1000",
    ]);
    expect(help('1e')).toEqual([
      "E0004 '1e' is not a number: an exponent needs digits, e.g. 1e3 or 1e-3",
    ]);
    expect(help('1.')).toEqual(["E0004 '1.' is not a number: write 1 or 1.0"]);
    expect(help('-.5')).toEqual(["E0004 '-.5' is not a number: write -0.5"]);
    expect(help('2x')).toEqual([
      "E0004 '2x' is not a number: separate the number from the word after it: 2 x",
    ]);
    expect(help('08')).toEqual([]);
  });

  it('keeps ranges and exponents as they were', () => {
    const { diagnostics, model } = checkSource(
      'model m { hidden 64 heads 4 ffn 128 layers 4 eps 1e-5 }\nadapter a { bottleneck 8 at ffn layers 0..2 scale -2.5E+0 }',
    );
    expect(diagnostics).toEqual([]);
    expect(model!.adapters.get('a')).toMatchObject({ layers: [0, 1, 2], scale: -2.5 });
  });
});

describe('the embedding API refuses arguments of the wrong kind', () => {
  const source = 'model m { hidden 64 heads 4 ffn 128 layers 4 }';
  const cases: [string, () => unknown, string][] = [
    ['compile(null)', () => compile(null as never), 'compile: source must be a string, got null'],
    ['compile(42)', () => compile(42 as never), 'compile: source must be a string, got 42'],
    [
      'compile(source, null)',
      () => compile(source, null as never),
      'compile: options must be an object, got null',
    ],
    [
      'compile(source, { fuse: "yes" })',
      () => compile(source, { fuse: 'yes' } as never),
      "compile: option 'fuse' must be a boolean, got a string",
    ],
    [
      'compile(source, { grap: "g" })',
      () => compile(source, { grap: 'g' } as never),
      "compile: unknown option 'grap'; did you mean 'graph'?",
    ],
    [
      'compile(source, { benchmark: { layers: 1e9 } })',
      () => compile(source, { benchmark: { layers: 1e9 } }),
      "compile: option 'layers' must be an integer from 1 to 10000, got 1000000000",
    ],
    [
      'checkSource(undefined)',
      () => checkSource(undefined as never),
      'checkSource: source must be a string, got undefined',
    ],
    [
      'checkSource(source, {})',
      () => checkSource(source, {} as never),
      'checkSource: fileName must be a string, got an object',
    ],
  ];
  for (const [call, run, message] of cases) {
    it(call, () => {
      expect(run).toThrow(ArgumentError);
      expect(run).toThrow(message);
    });
  }

  it('still takes options given as undefined', () => {
    expect(compile(source, { graph: undefined, target: undefined }).program).toBeDefined();
  });
});

describe('one syntax error per declaration', () => {
  const MODEL = 'model m { hidden 64 heads 4 ffn 128 layers 4 }\n';
  const AB = 'adapter a { bottleneck 8 at ffn }\nadapter b { bottleneck 8 at ffn }\n';
  const found = (text: string) => {
    const { diagnostics, source } = checkSource(text, 'x.adapt');
    return diagnostics.map((d) => {
      const { line, column } = source.position(d.span!.start);
      return `${d.code} ${line}:${column} ${d.message}`;
    });
  };

  it('reports the first, not what the parser guessed after it', () => {
    const cases: [string, string][] = [
      ['graph g = stack(a b)', "E0002 4:19 expected ')', found 'b'"],
      ['graph g = average(a: x, b: 1)', "E0002 4:22 expected a number, found 'x'"],
      ['graph g = average(a: 1 b: 2)', "E0002 4:24 expected ')', found 'b'"],
      ['graph g = average(a: , b: 1)', "E0002 4:22 expected a number, found ','"],
      ['graph g = stack(a) stack(b)', "E0002 4:25 expected a name for the declaration, found '('"],
    ];
    for (const [graph, error] of cases) {
      expect(found(`${MODEL}${AB}${graph}\ngraph h = a\n`), graph).toEqual([error]);
    }
  });

  it('does not judge what was recovered from a declaration with a syntax error', () => {
    expect(found('model m { hidden heads 4 ffn 128 layers 4 }')).toEqual([
      "E0002 1:24 expected '}', found '4'",
    ]);
    expect(found(`${MODEL}adapter a { bottleneck 8 at }`)).toEqual([
      "E0002 2:29 expected a value (a number, a range like 0..5, or a word), found '}'",
    ]);
  });

  it('still reports the errors of the other declarations', () => {
    expect(
      found(
        `${MODEL}${AB}graph g = stack(a b)\ngraph h = stak(b)\nadapter c { bottleneck 0 at ffn }`,
      ),
    ).toEqual([
      "E0002 4:19 expected ')', found 'b'",
      "E0402 5:11 unknown combinator 'stak'",
      "E0105 6:24 'bottleneck' must be a positive integer up to 16777216, found 0",
    ]);
  });
});

describe('characters that look like ASCII', () => {
  const first = (text: string) => {
    const { diagnostics, source } = checkSource(text, 'x.adapt');
    return diagnostics.map((d) => {
      const { line, column } = source.position(d.span!.start);
      return `${d.code} ${line}:${column} ${d.message} | ${d.help}`;
    });
  };
  const MODEL = 'model m { hidden 64 heads 4 ffn 128 layers 4 }\n';

  it('names the code point and the ASCII it looks like, once per declaration', () => {
    expect(first(`${MODEL}adapter \u0430 { bottleneck 8 at ffn }`)).toEqual([
      "E0001 2:9 unexpected character '\u0430' (U+0430) | U+0430 is a character that looks like 'a'; type 'a' instead",
    ]);
    expect(first('model m { hidden \uFF16\uFF14 heads 4 ffn 128 layers 4 }')).toEqual([
      "E0001 1:18 unexpected characters '\uFF16\uFF14' | these are characters (U+FF16, U+FF14) that look like '64'; type '64' instead",
    ]);
    expect(first(`${MODEL}adapter a { bottleneck 8 at ffn scale \u22121 }`)).toEqual([
      "E0001 2:39 unexpected character '\u2212' (U+2212) | U+2212 is a character that looks like '-'; type '-' instead",
    ]);
    expect(first('model m {\u00A0hidden 64 heads 4 ffn 128 layers 4 }')).toEqual([
      "E0001 1:10 unexpected character '\u00A0' (U+00A0) | U+00A0 is a character that looks like a space; type a space instead",
    ]);
  });

  it('judges a declaration followed by a stray character', () => {
    expect(first('model m { hidden 8 heads 3 ffn 8 layers 2 } @')).toEqual([
      'E0104 1:26 heads (3) must divide hidden (8) | hidden 8 can be split into 1, 2 or 4 heads',
      "E0001 1:45 unexpected character '@' | names are letters, digits, _ and -; comments start with #",
    ]);
  });

  it('says names are ASCII for other letters, and reports nothing more of the declaration', () => {
    expect(
      first(`${MODEL}adapter \u00E4 { bottleneck 8 at ffn }\nadapter b { bottleneck 0 at ffn }`),
    ).toEqual([
      "E0001 2:9 unexpected character '\u00E4' (U+00E4) | names are ASCII letters, digits, _ and -; other text goes in a comment, after #",
      "E0105 3:24 'bottleneck' must be a positive integer up to 16777216, found 0 | undefined",
    ]);
  });
});

describe('line endings', () => {
  const where = (text: string) => {
    const { diagnostics, source } = checkSource(text, 'x.adapt');
    return diagnostics.map((d) => {
      const { line, column } = source.position(d.span!.start);
      return `${d.code} ${line}:${column} ${source.lineText(line)}`;
    });
  };
  const lines = [
    '# a comment',
    'model m { hidden 64 heads 5 ffn 128 layers 4 }',
    'adapter a { bottleneck 0 at ffn }',
  ];
  const expected = [
    'E0104 2:27 model m { hidden 64 heads 5 ffn 128 layers 4 }',
    'E0105 3:24 adapter a { bottleneck 0 at ffn }',
  ];

  it('counts lines alike with \\n, \\r\\n and a lone \\r, and ends a comment at any of them', () => {
    for (const end of ['\n', '\r\n', '\r']) {
      expect(where(lines.join(end) + end), JSON.stringify(end)).toEqual(expected);
    }
  });
});

describe('numbers that would be read as 0', () => {
  const MODEL =
    'model m { hidden 64 heads 4 ffn 128 layers 4 }\nadapter a { bottleneck 8 at ffn }\nadapter b { bottleneck 8 at ffn }\n';
  const errors = (text: string) =>
    checkSource(MODEL + text)
      .diagnostics.filter((d) => d.severity === 'error')
      .map((d) => `${d.code} ${d.message}`);

  it('refuses a nonzero literal that underflows a double, wherever a number goes', () => {
    expect(errors('adapter c { bottleneck 8 at ffn scale 1e-400 }')).toEqual([
      'E0112 1e-400 is too small to be held: it would be read as 0',
    ]);
    expect(errors('adapter c { bottleneck 1e-400 at ffn }')).toEqual([
      'E0112 1e-400 is too small to be held: it would be read as 0',
    ]);
    expect(errors('graph g = average(a: 1e-400, b: 1)')).toEqual([
      'E0403 average weight 1e-400 is too small to be held: it would be read as 0',
    ]);
  });

  it('refuses a nonzero scale that is 0 in f32, and keeps a written 0', () => {
    expect(errors('adapter c { bottleneck 8 at ffn scale 1e-50 }')).toEqual([
      "E0112 'scale' 1e-50 is 0 in f32, the precision the model runs in",
    ]);
    for (const zero of ['0', '0.0', '-0', '0e5']) {
      expect(errors(`adapter c { bottleneck 8 at ffn scale ${zero} }`)).toEqual([]);
    }
    expect(errors('graph g = average(a: 0.0, b: 1)')).toEqual([]);
  });
});
