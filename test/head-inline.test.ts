import { describe, expect, it } from 'vitest';
import { compile } from '../src/compiler/index.js';
import { checkSource } from '../src/compiler/frontend.js';
import { diagnose, MODEL } from './helpers/frontend.js';

/**
 * `head NAME { type … labels "…" }`: an AdapterHub prediction head declared with the fields of
 * `head_config.json`, checked like the other declarations and lowered as the saved head is.
 */

const ADAPTER = 'adapter s { preset seq_bn }\n';

function headOf(source: string) {
  const result = checkSource(MODEL + ADAPTER + source, 'test.adapt');
  expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return result.model!.heads.get('s')!;
}

function program(source: string, files: Record<string, string> = {}) {
  const result = compile(MODEL + ADAPTER + source, {
    fileName: 'test.adapt',
    fuse: false,
    gpu: false,
    readFile: (path) => files[path],
  });
  expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return result.program!;
}

/** The same head as `save_head` writes it (`heads/base.py` config dict). */
function savedHead(config: Record<string, unknown>) {
  return { 'h/head_config.json': JSON.stringify({ config, name: 's', hidden_size: 64 }) };
}

describe('head NAME { … }', () => {
  it('takes the head_config.json defaults: 2 layers, tanh, no pooler, a bias', () => {
    const head = headOf('head s { type classification labels "negative", "positive" }');
    expect(head).toMatchObject({
      name: 's',
      type: 'classification',
      layers: 2,
      activation: 'tanh',
      usePooler: false,
      bias: true,
      labels: ['negative', 'positive'],
    });
    expect(head.source).toBeUndefined();
  });

  it('reads every field, with the library activation names', () => {
    const head = headOf(
      'head s { type multilabel_classification labels "a", "b", "c" layers 3 activation gelu_new bias false }',
    );
    expect(head).toMatchObject({
      type: 'multilabel_classification',
      layers: 3,
      activation: 'gelu_tanh',
      bias: false,
    });
    expect(head.labels).toEqual(['a', 'b', 'c']);
    expect(headOf('head s { type tagging labels "O" layers 1 activation none }')).toMatchObject({
      type: 'tagging',
      layers: 1,
      activation: 'none',
      usePooler: false,
      bias: true,
    });
  });

  it('lowers as the same head read from a directory', () => {
    const inline = program('head s { type classification labels "neg", "pos" activation relu }');
    const saved = program(
      'head s from "h"',
      savedHead({
        head_type: 'classification',
        num_labels: 2,
        layers: 2,
        activation_function: 'relu',
        label2id: { neg: 0, pos: 1 },
        use_pooler: false,
        bias: true,
        dropout_prob: null,
      }),
    );
    expect(inline.weights).toEqual(saved.weights);
    expect(inline.nodes).toEqual(saved.nodes);
    expect(inline.outputs).toEqual(saved.outputs);
    expect(
      inline.weights.filter((w) => w.name.startsWith('heads.')).map((w) => [w.name, w.shape]),
    ).toEqual([
      ['heads.s.1.weight', [64, 64]],
      ['heads.s.1.bias', [64]],
      ['heads.s.4.weight', [2, 64]],
      ['heads.s.4.bias', [2]],
    ]);
  });

  it('a tagging head without an activation: Linear layers at 1 and 3, logits per token', () => {
    const p = program('head s { type tagging labels "O", "B", "I" activation none }');
    expect(p.weights.filter((w) => w.name.startsWith('heads.')).map((w) => w.name)).toEqual([
      'heads.s.1.weight',
      'heads.s.1.bias',
      'heads.s.3.weight',
      'heads.s.3.bias',
    ]);
    expect(p.outputs.find((o) => o.name === 'logits')!.shape).toEqual(['B', 'T', 3]);
  });

  it.each([
    ['head s { labels "a" }', ["E0123 3:1 'head s'"]],
    ['head s { type tagging }', ["E0123 3:1 'head s'"]],
    ['head s { type tagging labels "a" use_pooler true }', ["E0123 3:34 'use_pooler'"]],
    ['head s { type tagging labels "a" bias false }', ["E0123 3:34 'bias'"]],
    ['head s { type regression labels "a" }', ["E0108 3:15 'regression'"]],
    ['head s { type tagging labels a, "b" }', ["E0108 3:30 'a'"]],
    ['head s { type tagging labels "a", "a" }', ['E0206 3:35 \'"a"\'']],
    ['head s { type tagging labels "a" layers 0 }', ["E0105 3:41 '0'"]],
    ['head s { type tagging labels "a" activation swishy }', ["E0108 3:45 'swishy'"]],
    ['head s { type tagging labels "a" layer 2 }', ["E0106 3:34 'layer'"]],
    [
      'head s { type classification labels "a" use_pooler true }',
      ['E0122 3:1 \'head s { type classification labels "a" use_pooler true }\''],
    ],
  ])('refuses %s', (source, expected) => {
    expect(diagnose(MODEL + ADAPTER + source)).toEqual(expected);
  });

  it('a string value elsewhere is an invalid value, at its place', () => {
    expect(diagnose(`${MODEL}adapter s { bottleneck "8" at ffn }`)).toEqual([`E0108 2:24 '"8"'`]);
    expect(diagnose(`${MODEL}adapter s { bottleneck 8 at ffn layers "0" }`)).toEqual([
      `E0108 2:40 '"0"'`,
    ]);
  });

  it('two heads of one name are one too many', () => {
    expect(
      diagnose(
        `${MODEL}${ADAPTER}head s { type tagging labels "a" }\nhead s { type tagging labels "b" }`,
      ),
    ).toEqual(["E0102 4:6 's'"]);
  });

  it('an unclosed head block is one error, and the declaration after it stands', () => {
    expect(
      diagnose(`${MODEL}${ADAPTER}head s { type tagging labels "a"\nadapter t { preset seq_bn }`),
    ).toEqual(["E0003 3:8 '{'"]);
  });
});
