import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkSource } from '../src/compiler/frontend.js';
import { compile } from '../src/compiler/index.js';
import { ArgumentError } from '../src/runtime/errors.js';
import { runCli } from './helpers/cli.js';

const BERT = {
  architectures: ['BertForSequenceClassification'],
  model_type: 'bert',
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
  id2label: { '0': 'negative', '1': 'positive' },
};

const ROBERTA = {
  ...BERT,
  architectures: ['RobertaForSequenceClassification'],
  model_type: 'roberta',
  layer_norm_eps: 1e-5,
  max_position_embeddings: 66,
  type_vocab_size: 1,
  pad_token_id: 1,
};

const XLM_R = {
  ...ROBERTA,
  architectures: ['XLMRobertaForTokenClassification'],
  model_type: 'xlm-roberta',
  hidden_act: 'gelu_new',
  id2label: { '0': 'O', '1': 'B-PER', '2': 'I-PER' },
};

const DISTILBERT = {
  architectures: ['DistilBertForSequenceClassification'],
  model_type: 'distilbert',
  dim: 32,
  n_heads: 4,
  hidden_dim: 64,
  n_layers: 2,
  activation: 'gelu',
  max_position_embeddings: 64,
  vocab_size: 100,
  pad_token_id: 0,
  problem_type: 'multi_label_classification',
  id2label: { '0': 'toxic', '1': 'obscene' },
};

const GPT2 = {
  architectures: ['GPT2LMHeadModel'],
  model_type: 'gpt2',
  n_embd: 32,
  n_head: 4,
  n_layer: 2,
  n_inner: null,
  activation_function: 'gelu_new',
  layer_norm_epsilon: 1e-5,
  n_positions: 64,
  vocab_size: 100,
};

/** The config without one key. */
function without(config: object, key: string): object {
  return Object.fromEntries(Object.entries(config).filter(([k]) => k !== key));
}

/** Checks a spec whose config file (`ckpt/config.json`) holds `config` (as JSON, or the text given). */
function check(source: string, config: object | string | undefined, file = 'ckpt/config.json') {
  const asked: string[] = [];
  const readFile = (path: string) => {
    asked.push(path);
    if (path !== file || config === undefined) return undefined;
    return typeof config === 'string' ? config : JSON.stringify(config, null, 2);
  };
  const result = checkSource(source, 'spec.adapt', { readFile });
  const diagnostics = result.diagnostics.map((d) => {
    const { line, column } = result.source.position(d.span!.start);
    return `${line}:${column} ${d.code}: ${d.message}${d.help ? ` | help: ${d.help}` : ''}`;
  });
  return { model: result.model, diagnostics, asked };
}

describe('model NAME from "DIR" reads config.json', () => {
  it('BERT: sizes, post-LN, embeddings and the pooler head with its labels', () => {
    const { model, diagnostics, asked } = check('model tiny from "ckpt"', BERT);
    expect(diagnostics).toEqual([]);
    expect(asked).toEqual(['ckpt/config.json']);
    expect(model!.base).toEqual({
      name: 'tiny',
      hidden: 32,
      heads: 4,
      ffn: 64,
      layers: 2,
      activation: 'gelu',
      norm: 'post',
      eps: 1e-12,
      attention: 'bidirectional',
      checkpoint: {
        dir: 'ckpt',
        family: 'bert',
        architecture: 'BertForSequenceClassification',
        vocab: 100,
        maxPositions: 64,
        typeVocab: 2,
        padId: 0,
        positions: 'absolute',
        embeddingEps: 1e-12,
        head: { layout: 'pooler', labels: ['negative', 'positive'], scores: 'softmax' },
      },
      span: { start: 0, end: 22 },
    });
    expect([...model!.graphs.keys()]).toEqual(['default']);
  });

  it('RoBERTa: positions after padding, the dense-tanh head', () => {
    const { model, diagnostics } = check('model r from "ckpt" {}', ROBERTA);
    expect(diagnostics).toEqual([]);
    expect(model!.base).toMatchObject({ eps: 1e-5, norm: 'post' });
    expect(model!.base.checkpoint).toMatchObject({
      family: 'roberta',
      positions: 'after-padding',
      padId: 1,
      typeVocab: 1,
      maxPositions: 66,
      embeddingEps: 1e-5,
      head: { layout: 'dense-tanh', labels: ['negative', 'positive'] },
    });
  });

  it('XLM-R is the RoBERTa family; gelu_new is the tanh GELU; token classification', () => {
    const { model, diagnostics } = check('model x from "ckpt"', XLM_R);
    expect(diagnostics).toEqual([]);
    expect(model!.base.activation).toBe('gelu_tanh');
    expect(model!.base.checkpoint).toMatchObject({
      family: 'roberta',
      architecture: 'XLMRobertaForTokenClassification',
      head: { layout: 'token', labels: ['O', 'B-PER', 'I-PER'], scores: 'softmax' },
    });
  });

  it('DistilBERT: its own keys, eps 1e-12, no token types, sigmoid for multi-label', () => {
    const { model, diagnostics } = check('model d from "ckpt"', DISTILBERT);
    expect(diagnostics).toEqual([]);
    expect(model!.base).toMatchObject({ hidden: 32, heads: 4, ffn: 64, layers: 2, eps: 1e-12 });
    expect(model!.base.checkpoint).toMatchObject({
      family: 'distilbert',
      typeVocab: 0,
      embeddingEps: 1e-12,
      head: { layout: 'pre-classifier-relu', labels: ['toxic', 'obscene'], scores: 'sigmoid' },
    });
  });

  it('GPT-2: n_inner null is 4 · n_embd, pre-LN, causal, tied LM head, no pad id', () => {
    const { model, diagnostics } = check('model g from "ckpt"', GPT2);
    expect(diagnostics).toEqual([]);
    expect(model!.base).toMatchObject({
      hidden: 32,
      ffn: 128,
      activation: 'gelu_tanh',
      norm: 'pre',
      eps: 1e-5,
      attention: 'causal',
    });
    expect(model!.base.checkpoint).toEqual({
      dir: 'ckpt',
      family: 'gpt2',
      architecture: 'GPT2LMHeadModel',
      vocab: 100,
      maxPositions: 64,
      typeVocab: 0,
      positions: 'absolute',
      head: { layout: 'tied-embeddings', labels: [], scores: 'softmax' },
    });
  });

  it('a GPT-2 config without n_inner, and one with a pad token', () => {
    expect(check('model g from "ckpt"', without(GPT2, 'n_inner')).model!.base.ffn).toBe(128);
    const padded = check('model g from "ckpt"', { ...GPT2, n_inner: 96, pad_token_id: 7 });
    expect(padded.model!.base.ffn).toBe(96);
    expect(padded.model!.base.checkpoint!.padId).toBe(7);
  });

  it('head none drops the head; a bare encoder has none', () => {
    const dropped = check('model tiny from "ckpt" { head none }', BERT);
    expect(dropped.diagnostics).toEqual([]);
    expect(dropped.model!.base.checkpoint!.head).toBeUndefined();
    expect(dropped.model!.base.checkpoint!.architecture).toBe('BertForSequenceClassification');
    const bare = check('model tiny from "ckpt"', { ...BERT, architectures: ['BertModel'] });
    expect(bare.diagnostics).toEqual([]);
    expect(bare.model!.base.checkpoint!.head).toBeUndefined();
    expect(
      check('model tiny from "ckpt"', without(BERT, 'architectures')).model!.base.checkpoint,
    ).not.toHaveProperty('architecture');
  });

  it('an unsupported head is a warning, and the model ends at last_hidden_state', () => {
    const { model, diagnostics } = check('model tiny from "ckpt"', {
      ...BERT,
      architectures: ['BertForMaskedLM'],
    });
    expect(diagnostics).toEqual([
      "1:17 W0119: ckpt/config.json: architectures: the head of BertForMaskedLM is not supported; the graphs end at last_hidden_state | help: supported: BertModel, BertForSequenceClassification, BertForTokenClassification; write 'head none' in the model block to say so",
    ]);
    expect(model!.base.checkpoint!.head).toBeUndefined();
    expect(check('model tiny from "ckpt" { head none }', BERT).diagnostics).toEqual([]);
  });

  it('adapters, fusions and graphs are checked against the checkpoint sizes', () => {
    const { model, diagnostics } = check(
      'model tiny from "ckpt" { head none }\nadapter a { bottleneck 8 at ffn layers 0..1 }\nadapter b { bottleneck 8 at ffn layers 2 }',
      BERT,
    );
    expect(model).toBeUndefined();
    expect(diagnostics).toEqual([
      '3:40 E0204: layer 2 is out of range: the model has 2 layers (0..1)',
    ]);
  });

  it('the directory string takes escapes, and the reader gets DIR/config.json as written', () => {
    const { asked, diagnostics } = check(
      'model m from "../a \\"b\\" \\\\c/"',
      BERT,
      '../a "b" \\c/config.json',
    );
    expect(diagnostics).toEqual([]);
    expect(asked).toEqual(['../a "b" \\c/config.json']);
  });
});

describe('properties written in the block must agree with config.json', () => {
  it('agreeing properties are accepted', () => {
    const spec =
      'model tiny from "ckpt" {\n  hidden 32 heads 4 ffn 64 layers 2\n  activation gelu norm post eps 1e-12 attention bidirectional\n}';
    expect(check(spec, BERT).diagnostics).toEqual([]);
  });

  it('one that disagrees is one error at the spec value, naming the file, key and value', () => {
    expect(check('model tiny from "ckpt" {\n  hidden 64\n}', BERT).diagnostics).toEqual([
      '2:10 E0118: hidden 64 does not match the checkpoint | help: ckpt/config.json has hidden_size 32; write hidden 32, or leave hidden out to take it from there',
    ]);
  });

  it('the family fixes norm and attention, DistilBERT its eps, GPT-2 n_inner', () => {
    expect(check('model g from "ckpt" { norm post ffn 64 }', GPT2).diagnostics).toEqual([
      '1:28 E0118: norm post does not match the checkpoint | help: ckpt/config.json has model_type "gpt2", which is pre-LN; write norm pre, or leave norm out to take it from there',
      '1:37 E0118: ffn 64 does not match the checkpoint | help: ckpt/config.json has no n_inner, so 4 · n_embd = 128; write ffn 128, or leave ffn out to take it from there',
    ]);
    expect(check('model d from "ckpt" { eps 1e-5 }', DISTILBERT).diagnostics).toEqual([
      '1:27 E0118: eps 0.00001 does not match the checkpoint | help: ckpt/config.json has model_type "distilbert", whose LayerNorm eps is 1e-12; write eps 1e-12, or leave eps out to take it from there',
    ]);
    expect(check('model x from "ckpt" { activation gelu }', XLM_R).diagnostics).toEqual([
      '1:34 E0118: activation gelu does not match the checkpoint | help: ckpt/config.json has hidden_act "gelu_new"; write activation gelu_tanh, or leave activation out to take it from there',
    ]);
  });

  it('head takes none only, and only in a model read from a checkpoint', () => {
    expect(check('model tiny from "ckpt" { head pooler }', BERT).diagnostics).toEqual([
      "1:31 E0108: invalid value 'pooler' for 'head' | help: expected 'none'",
    ]);
    expect(check('model m { hidden 64 heads 4 ffn 128 layers 4 head none }', BERT).diagnostics)
      .toMatchInlineSnapshot(`
        [
          "1:46 E0106: 'head' applies to a model read from a checkpoint, not to 'm' | help: write model m from "DIR" { head none } to drop a checkpoint's head; this model's properties are 'hidden', 'heads', 'ffn', 'layers', 'activation', 'norm', 'eps' or 'attention'",
        ]
      `);
  });
});

describe('bad checkpoints and bad directory strings are one located error each', () => {
  const errors = (source: string, config: object | string | undefined) =>
    check(source, config).diagnostics;

  it('no config.json', () => {
    expect(errors('model tiny from "ckpt"', undefined)).toEqual([
      `1:17 E0114: no config.json in "ckpt" (looked for ckpt/config.json) | help: the directory is relative to the spec file's folder, and holds a Hugging Face checkpoint: config.json beside model.safetensors`,
    ]);
  });

  it('no reader: the API caller is told to pass readFile', () => {
    const { diagnostics } = checkSource('model tiny from "ckpt"', 'spec.adapt');
    expect(diagnostics.map((d) => `${d.code}: ${d.message} | ${d.help}`)).toEqual([
      'E0114: cannot read ckpt/config.json: the compiler was given no way to read files | pass readFile to compile() or checkSource(), e.g. a function reading the path relative to the spec; the adapt CLI passes one',
    ]);
    expect(compile('model tiny from "ckpt"').diagnostics.map((d) => d.code)).toEqual(['E0114']);
  });

  it('JSON that does not parse, with the line and column', () => {
    expect(errors('model tiny from "ckpt"', '{\n  "model_type": "bert",\n}')).toEqual([
      '1:17 E0115: ckpt/config.json:3:1: expected a key in double quotes, found "}"',
    ]);
    expect(errors('model tiny from "ckpt"', '{"a": 1, "a": 2}')).toEqual([
      '1:17 E0115: ckpt/config.json:1:10: key "a" appears twice in one object',
    ]);
    expect(errors('model tiny from "ckpt"', '[1]')).toEqual([
      '1:17 E0115: ckpt/config.json: must hold an object, got an array',
    ]);
  });

  it('an unknown model_type lists the supported ones', () => {
    expect(errors('model tiny from "ckpt"', { ...BERT, model_type: 'llama' })).toEqual([
      '1:17 E0117: ckpt/config.json: model_type: "llama" is not supported; the supported model types are "bert", "roberta", "xlm-roberta", "distilbert" and "gpt2"',
    ]);
  });

  it('a key of the wrong type, or missing', () => {
    expect(errors('model tiny from "ckpt"', { ...BERT, num_hidden_layers: '12' })).toEqual([
      '1:17 E0116: ckpt/config.json: num_hidden_layers: must be a positive integer, got the string "12"',
    ]);
    const noEps = without(BERT, 'layer_norm_eps');
    expect(errors('model tiny from "ckpt"', { ...noEps, hidden_size: 32.5 })).toEqual([
      '1:17 E0116: ckpt/config.json: hidden_size: must be a positive integer, got 32.5',
      '1:17 E0116: ckpt/config.json: layer_norm_eps: missing; it must be a number greater than 0',
    ]);
  });

  it('an unsupported activation', () => {
    expect(errors('model tiny from "ckpt"', { ...BERT, hidden_act: 'quick_gelu' })).toEqual([
      '1:17 E0117: ckpt/config.json: hidden_act: "quick_gelu" is not supported; the supported values are "gelu", "gelu_new", "gelu_pytorch_tanh", "relu", "silu" and "swish"',
    ]);
  });

  it('id2label with a gap, or a key that is no id', () => {
    expect(
      errors('model tiny from "ckpt"', { ...BERT, id2label: { '0': 'a', '1': 'b', '3': 'd' } }),
    ).toEqual([
      '1:17 E0116: ckpt/config.json: id2label: has no label for id 2: with 3 labels the ids are "0" to "2", each once',
    ]);
    expect(errors('model tiny from "ckpt"', { ...BERT, id2label: { '0': 'a', x: 'b' } })).toEqual([
      '1:17 E0116: ckpt/config.json: id2label: key "x" is not a label id (0, 1, 2, ...)',
    ]);
  });

  it('heads that do not divide the width, and an architecture of another family', () => {
    expect(errors('model g from "ckpt"', { ...GPT2, n_head: 5 })).toEqual([
      '1:14 E0117: ckpt/config.json: n_head (5) must divide n_embd (32)',
    ]);
    expect(
      errors('model tiny from "ckpt"', { ...BERT, architectures: ['GPT2LMHeadModel'] }),
    ).toEqual([
      '1:17 E0117: ckpt/config.json: architectures: GPT2LMHeadModel is a gpt2 model, but model_type says bert',
    ]);
  });

  it('strings: unterminated, a bad escape, empty', () => {
    expect(errors('model tiny from "ckpt\nadapter a { bottleneck 8 at ffn }', BERT)).toEqual([
      '1:17 E0010: this string is not closed on its line | help: end it with " on the same line; write \\" for a quote inside a string',
    ]);
    expect(errors('model tiny from "c\\kpt"', BERT)).toEqual([
      "1:19 E0011: '\\k' is not an escape a string may hold | help: a string's only escapes are \\\" and \\\\; write '\\\\k' for a backslash followed by 'k'",
    ]);
    expect(errors('model tiny from ""', BERT)).toEqual([
      '1:17 E0108: the checkpoint directory is empty | help: write its path, e.g. model tiny from "./checkpoint"',
    ]);
  });

  it('from belongs to a model, spelled from', () => {
    expect(errors('model tiny form "ckpt"', BERT)).toEqual([
      `1:12 E0111: expected 'from' before the checkpoint directory, found 'form' | help: write: model tiny from "ckpt"`,
    ]);
    expect(errors('model tiny from "ckpt"\ngraph g from "x"', BERT)).toEqual([
      '2:1 E0111: a graph is not read from a directory | help: for example: graph g = stack(a, b)',
    ]);
    expect(errors('model tiny from "ckpt"\nadapter a form "x"', BERT)).toEqual([
      `2:11 E0111: expected 'from' before the directory, found 'form' | help: write: adapter a from "x"`,
    ]);
    expect(errors('model tiny hidden 32', BERT)).toEqual([
      `1:12 E0002: expected '{', '=' or from "DIR", found 'hidden'`,
    ]);
  });
});

describe('the readFile option', () => {
  it('must be a function', () => {
    expect(() => compile('model m from "x"', { readFile: 'x' as never })).toThrow(ArgumentError);
    expect(() => compile('model m from "x"', { readFile: 'x' as never })).toThrow(
      "compile: option 'readFile' must be a function, got a string",
    );
    expect(() => checkSource('model m from "x"', 'f', { readFile: 1 as never })).toThrow(
      "checkSource: option 'readFile' must be a function, got 1",
    );
    expect(() => checkSource('', 'f', { read: 1 } as never)).toThrow(
      "checkSource: unknown option 'read'; the only option is 'readFile'",
    );
  });
});

describe('adapt check on a checkpoint directory', () => {
  const root = mkdtempSync(join(tmpdir(), 'adapt-checkpoint-'));
  mkdirSync(join(root, 'specs', 'ckpt'), { recursive: true });
  writeFileSync(join(root, 'specs', 'ckpt', 'config.json'), JSON.stringify(BERT));
  writeFileSync(join(root, 'specs', 'tiny.adapt'), 'model tiny from "ckpt"\n');
  writeFileSync(join(root, 'specs', 'wide.adapt'), 'model tiny from "./ckpt" { hidden 64 }\n');
  writeFileSync(join(root, 'specs', 'none.adapt'), 'model tiny from "nope"\n');
  mkdirSync(join(root, 'specs', 'folder', 'config.json'), { recursive: true });
  writeFileSync(join(root, 'specs', 'folder.adapt'), 'model tiny from "folder"\n');
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('reads config.json relative to the spec file', async () => {
    expect(await runCli(['check', 'specs/tiny.adapt'], root)).toEqual({
      code: 0,
      stdout: 'specs/tiny.adapt: ok\n',
      stderr: '',
    });
  });

  it('renders a disagreement and a missing config.json as located errors', async () => {
    const wide = await runCli(['check', 'specs/wide.adapt'], root);
    expect(wide.code).toBe(1);
    expect(wide.stderr).toBe(
      [
        'specs/wide.adapt:1:35: error[E0118]: hidden 64 does not match the checkpoint',
        '> 1 | model tiny from "./ckpt" { hidden 64 }',
        '    |                                   ^^',
        '  help: ./ckpt/config.json has hidden_size 32; write hidden 32, or leave hidden out to take it from there',
        '1 error in 1 file',
        '',
      ].join('\n'),
    );
    const none = await runCli(['check', 'specs/none.adapt'], root);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(
      'specs/none.adapt:1:17: error[E0114]: no config.json in "nope" (looked for nope/config.json)',
    );
  });

  it('a config.json that is not a regular file is one error naming it', async () => {
    const result = await runCli(['check', 'specs/folder.adapt', 'specs/tiny.adapt'], root);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'specs/folder/config.json: error: cannot read file (it is a directory, not a regular file)\n1 error in 2 files\n',
    );
  });
});
