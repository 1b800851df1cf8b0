import { describe, expect, it } from 'vitest';
import { DIAGNOSTIC_CODES } from '../src/compiler/diagnostics.js';
import { checkSource } from '../src/compiler/frontend.js';
import { compile } from '../src/compiler/index.js';
import { diagnose, MODEL } from './helpers/frontend.js';

/** Codes about a checkpoint's config.json: their cases read files through `readFile`. */
type CheckpointCode = 'E0114' | 'E0115' | 'E0116' | 'E0117' | 'E0118' | 'W0119' | 'E0120' | 'E0121';

/** One case per diagnostic code: the source, and the exact diagnostics with their spans. */
const CASES: Record<
  Exclude<keyof typeof DIAGNOSTIC_CODES, 'E0410' | 'E0411' | CheckpointCode>,
  { source: string; expected: string[] }
> = {
  E0001: {
    source: `${MODEL}adapter a { bottleneck 8 at ffn scale @2 }`,
    expected: ["E0001 2:39 '@'"],
  },
  E0002: {
    source: `${MODEL}adapter a { bottleneck 8 at ffn, }`,
    expected: ["E0002 2:34 '}'"],
  },
  E0003: {
    source: `${MODEL}adapter a { bottleneck 8 at ffn\ngraph g = a`,
    expected: ["E0003 2:11 '{'"],
  },
  E0004: {
    source: `${MODEL}adapter a { bottleneck 0x10 at ffn }`,
    expected: ["E0004 2:24 '0x10'"],
  },
  E0005: {
    source: `${MODEL}adapter a { bottleneck 8 at ffn }\ngraph g = ${'stack('.repeat(65)}a${')'.repeat(65)}`,
    expected: ["E0005 3:400 '('"],
  },
  E0006: {
    source: `${MODEL}adapter a {\n  bottleneck 8\0 at ffn }`,
    expected: ["E0006 3:15 '\0'"],
  },
  E0007: {
    source: `${MODEL}adapter ${'a'.repeat(300)} { bottleneck 8 at ffn }`,
    expected: [`E0007 2:9 '${'a'.repeat(300)}'`],
  },
  E0008: {
    source: `${MODEL}${'adapter a { at ffn }\n'.repeat(120)}`,
    expected: [...Array.from({ length: 100 }, (_, i) => `E0102 ${i + 3}:9 'a'`), "E0008 103:9 'a'"],
  },
  E0010: {
    source: 'model m from "ckpt\nadapter a { bottleneck 8 at ffn }',
    expected: ["E0010 1:14 '\"ckpt'"],
  },
  E0011: {
    source: 'model m from "ck\\pt"',
    expected: ["E0011 1:17 '\\p'"],
  },
  W0009: {
    source: `${MODEL}${Array.from({ length: 110 }, (_, i) => `adapter a${i} { bottleneck 64 at ffn }`).join('\n')}`,
    expected: [
      ...Array.from({ length: 100 }, (_, i) => `W0203 ${i + 2}:${i < 10 ? 25 : 26} '64'`),
      "W0009 102:27 '64'",
    ],
  },
  E0101: {
    source: `${MODEL}adaptor a { bottleneck 8 at ffn }`,
    expected: ["E0101 2:1 'adaptor'"],
  },
  E0102: {
    source: `${MODEL}adapter a { bottleneck 8 at ffn }\nadapter a { bottleneck 4 at ffn }`,
    expected: ["E0102 3:9 'a'"],
  },
  E0103: {
    source: 'model m { hidden 64 heads 4 }',
    expected: ["E0103 1:7 'm'"],
  },
  E0104: {
    source: 'model m {\n  hidden 768\n  heads 10\n  ffn 3072\n  layers 12\n}',
    expected: ["E0104 3:9 '10'"],
  },
  E0105: {
    source: 'model m { hidden 64 heads 4 ffn 128.5 layers 0 }',
    expected: ["E0105 1:33 '128.5'", "E0105 1:46 '0'"],
  },
  E0106: {
    source: `${MODEL}adapter a { botleneck 8 at ffn }`,
    expected: ["E0201 2:9 'a'", "E0106 2:13 'botleneck'"],
  },
  E0107: {
    source: `${MODEL}adapter a { bottleneck 8 at ffn bottleneck 4 }`,
    expected: ["E0107 2:33 'bottleneck 4'"],
  },
  E0108: {
    source: `${MODEL}adapter a { bottleneck 8 at ffn activation rleu }`,
    expected: ["E0108 2:44 'rleu'"],
  },
  E0109: {
    source: `${MODEL}adapter a { bottleneck 8, 16 at ffn }`,
    expected: ["E0109 2:24 '8, 16'"],
  },
  E0110: {
    source: 'adapter a { bottleneck 8 at ffn }',
    expected: ["E0110 1:1 ''"],
  },
  E0111: {
    source: `${MODEL}adapter a = stack(b)`,
    expected: ["E0111 2:1 'adapter a'"],
  },
  E0112: {
    source: 'model m { hidden 64 heads 4 ffn 128 layers 4 eps 0 }',
    expected: ["E0112 1:50 '0'"],
  },
  E0113: {
    source: 'model m { hidden 768 heads 12 ffn 3072 layers 100000 }',
    expected: ["E0113 1:47 '100000'"],
  },
  E0201: {
    source: `${MODEL}adapter a { at ffn }`,
    expected: ["E0201 2:9 'a'"],
  },
  E0202: {
    source: `${MODEL}adapter a { reduction 65 at ffn }`,
    expected: ["E0202 2:23 '65'"],
  },
  W0203: {
    source: `${MODEL}adapter a { bottleneck 64 at ffn }`,
    expected: ["W0203 2:24 '64'"],
  },
  E0204: {
    source: `${MODEL}adapter a { bottleneck 8 at ffn layers 0..4 }`,
    expected: ["E0204 2:43 '4'"],
  },
  E0205: {
    source: `${MODEL}adapter a { bottleneck 8 at ffn layers 3..1 }`,
    expected: ["E0205 2:40 '3..1'"],
  },
  E0206: {
    source: `${MODEL}adapter a { bottleneck 8 at ffn layers 0..2, 2 }`,
    expected: ["E0206 2:46 '2'"],
  },
  E0207: {
    source: `${MODEL}adapter a { bottleneck 8 at ffn parallel ffn }`,
    expected: ["E0207 2:42 'ffn'"],
  },
  E0208: {
    source: `${MODEL}adapter a { bottleneck 8 }`,
    expected: ["E0208 2:9 'a'"],
  },
  E0301: {
    source: `${MODEL}adapter a { bottleneck 8 at ffn }\nfusion f { adapters a }`,
    expected: ["E0301 3:12 'adapters a'"],
  },
  E0302: {
    source: `${MODEL}adapter a { bottleneck 8 at ffn }\nadapter b { bottleneck 8 at ffn }\nfusion f { adapters a, bb }`,
    expected: ["E0302 4:24 'bb'"],
  },
  E0303: {
    source: `${MODEL}adapter a { bottleneck 8 at ffn }\nadapter b { bottleneck 8 at ffn }\nfusion f { adapters a, b at attn }`,
    expected: ["E0303 4:26 'at attn'"],
  },
  E0304: {
    source: `${MODEL}adapter a { bottleneck 8 at ffn }\nadapter b { bottleneck 8 parallel ffn }\nfusion f { adapters a, b }`,
    expected: ["E0304 4:8 'f'"],
  },
  E0401: {
    source: `${MODEL}adapter sentiment { bottleneck 8 at ffn }\ngraph g = stack(sentimnt)`,
    expected: ["E0401 3:17 'sentimnt'"],
  },
  E0402: {
    source: `${MODEL}adapter a { bottleneck 8 at ffn }\ngraph g = stak(a)`,
    expected: ["E0402 3:11 'stak'"],
  },
  E0403: {
    source: `${MODEL}adapter a { bottleneck 8 at ffn }\nadapter b { bottleneck 8 at ffn }\ngraph g = average(a: 0, b: 0)`,
    expected: ["E0403 4:11 'average(a: 0, b: 0)'"],
  },
  E0404: {
    source: `${MODEL}adapter a { bottleneck 8 at ffn }\nadapter b { bottleneck 8 at ffn }\ngraph g = stack(a: 0.5, b)`,
    expected: ["E0404 4:20 '0.5'"],
  },
  E0405: {
    source: `${MODEL}adapter a { bottleneck 8 at ffn }\nadapter b { bottleneck 8 at ffn }\ngraph g = average(a, stack(b))`,
    expected: ["E0405 4:22 'stack(b)'"],
  },
  E0406: {
    source: `${MODEL}adapter a { bottleneck 8 at ffn }\nadapter b { bottleneck 8 at ffn }\ngraph g = stack(a, batch(a, b))`,
    expected: ["E0406 4:20 'batch'"],
  },
  E0407: {
    source: `${MODEL}adapter a { bottleneck 8 at ffn }\ngraph g = stack()`,
    expected: ["E0407 3:11 'stack()'"],
  },
  E0408: {
    source: `${MODEL}adapter a { bottleneck 8 at ffn }\ngraph g = a\ngraph h = stack(g)`,
    expected: ["E0408 4:17 'g'"],
  },
  W0409: {
    source: `${MODEL}adapter a { bottleneck 8 at ffn }\nadapter b { bottleneck 8 at ffn }\ngraph default = a`,
    expected: ["W0409 3:9 'b'"],
  },
  E0122: {
    source:
      'model m { hidden 64 heads 4 ffn 128 layers 4 norm pre }\nadapter a { preset seq_bn }\ngraph g = a',
    expected: ["E0122 2:1 'adapter a { preset seq_bn }'"],
  },
  E0123: {
    source: `${MODEL}head h { labels "a", "b" }`,
    expected: ["E0123 2:1 'head h'"],
  },
  E0209: {
    source: `${MODEL}adapter a { bottleneck 8 at ffn residual_before_ln post_add }`,
    expected: ["E0209 2:33 'residual_before_ln post_add'"],
  },
  E0305: {
    source: `${MODEL}adapter a { preset seq_bn }\nadapter b { preset seq_bn }\nfusion f { adapters a, b }`,
    expected: ["E0305 4:1 'fusion f { adapters a, b }'"],
  },
};

const BERT_CONFIG = {
  model_type: 'bert',
  architectures: ['BertModel'],
  hidden_size: 32,
  num_attention_heads: 4,
  intermediate_size: 64,
  num_hidden_layers: 2,
  hidden_act: 'gelu',
  layer_norm_eps: 1e-12,
  max_position_embeddings: 64,
  vocab_size: 100,
  type_vocab_size: 2,
  pad_token_id: 0,
};

/** The cases of the checkpoint codes: a spec, the text of `ckpt/config.json`, the diagnostics. */
const CHECKPOINT_CASES: Record<
  CheckpointCode,
  { source: string; config?: string; files?: Record<string, string>; expected: string[] }
> = {
  E0114: { source: 'model m from "ckpt"', expected: ['E0114 1:14 \'"ckpt"\''] },
  E0115: {
    source: 'model m from "ckpt"',
    config: '{"model_type": "bert",}',
    expected: ['E0115 1:14 \'"ckpt"\''],
  },
  E0116: {
    source: 'model m from "ckpt"',
    config: JSON.stringify({ ...BERT_CONFIG, num_hidden_layers: '2' }),
    expected: ['E0116 1:14 \'"ckpt"\''],
  },
  E0117: {
    source: 'model m from "ckpt"',
    config: JSON.stringify({ ...BERT_CONFIG, model_type: 'llama' }),
    expected: ['E0117 1:14 \'"ckpt"\''],
  },
  E0118: {
    source: 'model m from "ckpt" { hidden 64 }',
    config: JSON.stringify(BERT_CONFIG),
    expected: ["E0118 1:30 '64'"],
  },
  W0119: {
    source: 'model m from "ckpt"',
    config: JSON.stringify({ ...BERT_CONFIG, architectures: ['BertForMaskedLM'] }),
    expected: ['W0119 1:14 \'"ckpt"\''],
  },
  E0120: {
    source: 'model m from "ckpt"\nadapter a from "sentiment"',
    config: JSON.stringify(BERT_CONFIG),
    expected: ['E0120 2:16 \'"sentiment"\''],
  },
  E0121: {
    source: 'model m from "ckpt"\nadapter a from "sentiment"',
    config: JSON.stringify(BERT_CONFIG),
    files: {
      'sentiment/adapter_config.json': JSON.stringify({
        config: {
          mh_adapter: false,
          output_adapter: true,
          reduction_factor: 16,
          non_linearity: 'relu',
          phm_layer: true,
        },
        name: 'sentiment',
      }),
    },
    expected: ['E0121 2:16 \'"sentiment"\''],
  },
};

function checkWithConfig(
  source: string,
  config: string | undefined,
  files: Record<string, string> = {},
) {
  const readFile = (path: string) =>
    path === 'ckpt/config.json' ? config : Object.hasOwn(files, path) ? files[path] : undefined;
  return checkSource(source, 'test.adapt', { readFile });
}

describe('every diagnostic code', () => {
  it('has a case here', () => {
    expect(
      [...Object.keys(CASES), ...Object.keys(CHECKPOINT_CASES), 'E0410', 'E0411'].sort(),
    ).toEqual(Object.keys(DIAGNOSTIC_CODES).sort());
  });

  for (const [code, { source, config, files, expected }] of Object.entries(CHECKPOINT_CASES)) {
    it(`${code}: ${DIAGNOSTIC_CODES[code as CheckpointCode].summary}`, () => {
      const result = checkWithConfig(source, config, files);
      const found = result.diagnostics.map((d) => {
        const { line, column } = result.source.position(d.span!.start);
        return `${d.code} ${line}:${column} '${source.slice(d.span!.start, d.span!.end)}'`;
      });
      expect(found).toEqual(expected);
      expect(result.diagnostics[0]!.severity).toBe(code.startsWith('W') ? 'warning' : 'error');
      expect(result.diagnostics[0]!.message.length).toBeGreaterThan(10);
    });
  }

  it('E0410: requested graph does not exist (reported by compile)', () => {
    const { program, diagnostics } = compile(`${MODEL}adapter a { bottleneck 8 at ffn }`, {
      fileName: 'test.adapt',
      graph: 'nope',
    });
    expect(program).toBeUndefined();
    expect(diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual([
      "E0410 no graph 'nope'; the graphs are 'default'",
    ]);
  });

  it('E0411: adapter cannot take a slot (reported by compile)', () => {
    const { program, diagnostics } = compile(`${MODEL}adapter a { bottleneck 8 at ffn }`, {
      fileName: 'test.adapt',
      slots: { adapter: 'nope', count: 2 },
    });
    expect(program).toBeUndefined();
    expect(diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual([
      "E0411 there is no adapter 'nope'",
    ]);
  });

  for (const [code, { source, expected }] of Object.entries(CASES)) {
    it(`${code}: ${DIAGNOSTIC_CODES[code as keyof typeof DIAGNOSTIC_CODES].summary}`, () => {
      expect(diagnose(source)).toEqual(expected);
      const result = checkSource(source, 'test.adapt');
      const diagnostic = result.diagnostics.find((d) => d.code === code)!;
      expect(diagnostic.severity).toBe(code.startsWith('W') ? 'warning' : 'error');
      expect(diagnostic.message.length).toBeGreaterThan(10);
    });
  }
});
