import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkSource } from '../src/compiler/frontend.js';
import { bottleneckAt, ARTICLE_FIELDS } from '../src/compiler/model.js';

/**
 * The checker's reading of AdapterHub directories (`adapter/head/fusion NAME from "DIR"`) and
 * of inline AdapterHub semantics, on files held in memory.
 */
const ROOT = 'test/fixtures/adapterhub';
const BERT = readFileSync(`${ROOT}/bert-tiny/config.json`, 'utf8');
const SEQ_BN = JSON.parse(
  readFileSync(`${ROOT}/seq-bn-head/sentiment/adapter_config.json`, 'utf8'),
) as { config: Record<string, unknown>; [key: string]: unknown };
const HEAD = JSON.parse(
  readFileSync(`${ROOT}/seq-bn-head/sentiment-head/head_config.json`, 'utf8'),
) as { config: Record<string, unknown>; [key: string]: unknown };
const FUSION = readFileSync(`${ROOT}/fusion/fusion/adapter_fusion_config.json`, 'utf8');

function check(source: string, files: Record<string, unknown>) {
  const readFile = (path: string) => {
    if (path === 'bert/config.json') return BERT;
    if (!Object.hasOwn(files, path)) return undefined;
    const file = files[path];
    return typeof file === 'string' ? file : JSON.stringify(file);
  };
  const result = checkSource(source, 'spec.adapt', { readFile });
  return {
    model: result.model,
    messages: result.diagnostics.map((d) => `${d.code} ${d.message}`),
  };
}

const withConfig = (changes: Record<string, unknown>) => ({
  ...SEQ_BN,
  config: { ...SEQ_BN.config, ...changes },
});

describe('adapter NAME from "DIR"', () => {
  it('reads the config as the adapters library saved it', () => {
    const { model, messages } = check('model m from "bert"\nadapter s from "s"', {
      's/adapter_config.json': SEQ_BN,
    });
    expect(messages).toEqual([]);
    const adapter = model!.adapters.get('s')!;
    expect(adapter.semantics).toBe('adapterhub');
    expect(adapter.bottleneck).toBe(4); // int(32 // 8)
    expect(adapter.placements).toEqual({ ffn: 'sequential' });
    expect(adapter.layers).toEqual([0, 1]);
    expect(adapter.source).toEqual({ dir: 's', savedName: 'sentiment' });
    expect(adapter.fields).toEqual({
      ...ARTICLE_FIELDS,
      originalLnBefore: true,
    });
  });

  it('reads a per-layer reduction factor, leave_out, is_parallel and a learned scaling', () => {
    const { model, messages } = check('model m from "bert"\nadapter s from "s"', {
      's/adapter_config.json': withConfig({
        reduction_factor: { '0': 4, default: 16 },
        is_parallel: true,
        mh_adapter: true,
        scaling: 'channel',
        leave_out: [5],
      }),
    });
    expect(messages).toEqual([]);
    const adapter = model!.adapters.get('s')!;
    expect([0, 1].map((l) => bottleneckAt(adapter, l))).toEqual([8, 2]);
    expect(adapter.placements).toEqual({ attn: 'parallel', ffn: 'parallel' });
    expect(adapter.fields.scaling).toBe('channel');
  });

  it("sizes the bottleneck as Python's int(hidden // reduction_factor) does", () => {
    const sized = (factor: number) =>
      check('model m from "bert"\nadapter s from "s"', {
        's/adapter_config.json': withConfig({ reduction_factor: factor }),
      }).model!.adapters.get('s')!.bottleneck;
    // 32 / 0.1 rounds to 320 in a double; the floor of the exact quotient is 319.
    expect([sized(0.1), sized(3.3), sized(64)]).toEqual([319, 9, 1]);
  });

  it('declares the head saved beside the adapter, under the adapter name', () => {
    const { model, messages } = check('model m from "bert"\nadapter s from "s"', {
      's/adapter_config.json': SEQ_BN,
      's/head_config.json': HEAD,
    });
    expect(messages).toEqual([]);
    const head = model!.heads.get('s')!;
    expect(head.type).toBe('classification');
    expect(head.labels).toEqual(['neg', 'neu', 'pos']);
    expect(head.source?.savedName).toBe('sentiment');
  });

  it.each([
    [{}, 'E0120 no adapter_config.json in "s" (looked for s/adapter_config.json)'],
    [
      { 's/adapter_config.json': withConfig({ phm_layer: true }) },
      'E0121 s/adapter_config.json: config.phm_layer: true is not supported (parameterized hypercomplex adapters)',
    ],
    [
      { 's/adapter_config.json': withConfig({ non_linearity: 'mish' }) },
      'E0121 s/adapter_config.json: non_linearity: activation "mish" is not supported',
    ],
    [
      { 's/adapter_config.json': { ...SEQ_BN, hidden_size: 768 } },
      "E0121 s/adapter_config.json: hidden_size: 768, but the model's hidden size is 32",
    ],
    [
      {
        's/adapter_config.json': withConfig({
          original_ln_before: false,
          residual_before_ln: 'post_add',
        }),
      },
      'E0121 s/adapter_config.json: residual_before_ln: "post_add" needs original_ln_before true',
    ],
    [{ 's/adapter_config.json': '{"config": {,}}' }, 'E0121 s/adapter_config.json:1:13'],
  ])('refuses what it cannot run, naming the file and the field (%#)', (files, message) => {
    const { model, messages } = check('model m from "bert"\nadapter s from "s"', files);
    expect(model).toBeUndefined();
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain(message);
  });

  it('takes no properties: they come from the directory', () => {
    const { messages } = check('model m from "bert"\nadapter s from "s" { bottleneck 8 }', {
      's/adapter_config.json': SEQ_BN,
    });
    expect(messages).toEqual(["E0106 unknown property 'bottleneck' in adapter 's'"]);
  });
});

describe('head NAME from "DIR"', () => {
  it.each([
    [
      { ...HEAD, config: { ...HEAD.config, head_type: 'question_answering' } },
      'config.head_type: "question_answering" is not supported',
    ],
    [
      { ...HEAD, config: { ...HEAD.config, label2id: { a: 0, b: 0, c: 2 } } },
      'config.label2id: ids must be distinct',
    ],
    [{ ...HEAD, config: { ...HEAD.config, extra: 1 } }, 'config.extra: unknown key'],
  ])('refuses a head it cannot run (%#)', (head, message) => {
    const { messages } = check('model m from "bert"\nhead h from "h"', {
      'h/head_config.json': head,
    });
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain(`E0121 h/head_config.json: ${message}`);
  });

  it('is read from a directory or declared inline with a type and labels', () => {
    const { messages } = check('model m from "bert"\nhead h { layers 2 }', {});
    expect(messages).toEqual(["E0123 head 'h' has no 'type'", "E0123 head 'h' has no 'labels'"]);
  });
});

describe('fusion NAME from "DIR"', () => {
  const adapters = {
    'a/adapter_config.json': { ...SEQ_BN, name: 'a' },
    'b/adapter_config.json': { ...SEQ_BN, name: 'b' },
    'c/adapter_config.json': { ...SEQ_BN, name: 'c' },
  };
  const spec = 'model m from "bert"\nadapter a from "a"\nadapter b from "b"\nadapter c from "c"\n';

  it('fuses the adapters its file names, at the sites they share', () => {
    const { model, messages } = check(`${spec}fusion f from "f"`, {
      ...adapters,
      'f/adapter_fusion_config.json': FUSION,
    });
    expect(messages).toEqual([]);
    const fusion = model!.fusions.get('f')!;
    expect(fusion.adapters).toEqual(['a', 'b', 'c']);
    expect(fusion.hub).toEqual({
      query: true,
      key: true,
      value: true,
      valueBeforeSoftmax: true,
      queryBeforeLn: false,
      residualBefore: false,
    });
    expect(fusion.source).toEqual({ dir: 'f', savedName: 'a,b,c' });
    expect(fusion.covers.map((c) => `${c.layer}/${c.site}`)).toEqual(['0/ffn', '1/ffn']);
  });

  it('maps saved member names to declared ones with `adapters`, in order', () => {
    const { model, messages } = check(
      'model m from "bert"\nadapter x from "a"\nadapter y from "b"\nadapter z from "c"\nfusion f from "f" { adapters x, y, z }',
      { ...adapters, 'f/adapter_fusion_config.json': FUSION },
    );
    expect(messages).toEqual([]);
    expect(model!.fusions.get('f')!.adapters).toEqual(['x', 'y', 'z']);
  });

  it('names a member the spec does not declare', () => {
    const { messages } = check(
      'model m from "bert"\nadapter a from "a"\nadapter b from "b"\nfusion f from "f"',
      { ...adapters, 'f/adapter_fusion_config.json': FUSION },
    );
    expect(messages).toEqual(["E0302 f: fuses adapter 'c', which is not declared"]);
  });

  it("refuses temperature true: the library's T changes on every call", () => {
    const config = JSON.parse(FUSION) as { config: Record<string, unknown> };
    config.config.temperature = true;
    const { messages } = check(`${spec}fusion f from "f"`, {
      ...adapters,
      'f/adapter_fusion_config.json': config,
    });
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain(
      'E0121 f/adapter_fusion_config.json: config.temperature: true is not supported',
    );
  });
});

describe('inline AdapterHub semantics', () => {
  const MODEL = 'model m { hidden 32 heads 2 ffn 64 layers 2 }\n';

  it("keeps the article's meaning unless a preset or a field is written", () => {
    const { model } = check(`${MODEL}adapter a { bottleneck 4 at ffn }`, {});
    expect(model!.adapters.get('a')!.semantics).toBe('article');
    expect(model!.adapters.get('a')!.fields).toEqual(ARTICLE_FIELDS);
  });

  it('takes a preset with its defaults, and properties over them', () => {
    const { model, messages } = check(
      `${MODEL}adapter p { preset seq_bn }\nadapter h { preset houlsby reduction 8 ln_after true }`,
      {},
    );
    expect(messages).toEqual([]);
    const p = model!.adapters.get('p')!;
    expect([p.semantics, p.bottleneck, p.activation, p.placements]).toEqual([
      'adapterhub',
      2,
      'relu',
      { ffn: 'sequential' },
    ]);
    expect(p.fields.originalLnBefore).toBe(true);
    const h = model!.adapters.get('h')!;
    expect([h.bottleneck, h.activation, h.placements]).toEqual([
      4,
      'silu',
      { attn: 'sequential', ffn: 'sequential' },
    ]);
    expect(h.fields).toEqual({ ...ARTICLE_FIELDS, lnAfter: true });
  });

  it('takes the fields themselves, and a learned scaling', () => {
    const { model, messages } = check(
      `${MODEL}adapter a { bottleneck 4 at ffn original_ln_before true residual_before_ln post_add scale channel }`,
      {},
    );
    expect(messages).toEqual([]);
    const a = model!.adapters.get('a')!;
    expect(a.semantics).toBe('adapterhub');
    expect(a.fields).toEqual({
      ...ARTICLE_FIELDS,
      originalLnBefore: true,
      residualBeforeLn: 'post_add',
      scaling: 'channel',
    });
  });

  it("takes AdapterHub's fusion with preset, without the article's options", () => {
    const { model, messages } = check(
      `${MODEL}adapter a { preset seq_bn }\nadapter b { preset seq_bn }\nfusion f { adapters a, b preset static scale none }`,
      {},
    );
    expect(model).toBeUndefined();
    expect(messages).toEqual([
      "E0106 'scale' sets the article's fusion; fusion 'f' is AdapterHub's (it has a preset)",
    ]);
  });
});

describe('parallel(...)', () => {
  const MODEL =
    'model m { hidden 32 heads 2 ffn 64 layers 2 }\nadapter a { bottleneck 4 at ffn }\nadapter b { preset seq_bn }\n';

  it('takes adapters and fusions, as the whole graph expression', () => {
    const { model, messages } = check(`${MODEL}graph g = parallel(a, b)`, {});
    expect(messages).toEqual([]);
    expect(model!.graphs.get('g')!.composition).toEqual({
      kind: 'parallel',
      branches: [
        { kind: 'adapter', name: 'a' },
        { kind: 'adapter', name: 'b' },
      ],
    });
  });

  it.each([
    [
      'stack(parallel(a, b), a)',
      'E0406 parallel(...) runs every branch on the whole batch and must be the whole graph expression',
    ],
    [
      'parallel(stack(a, b), a)',
      'E0405 parallel(...) takes adapters and fusions: its outputs are named after them',
    ],
    ['parallel(a, a)', "E0206 'a' is listed twice"],
  ])('refuses %s', (expression, message) => {
    const { messages } = check(`${MODEL}graph g = ${expression}`, {});
    expect(messages).toEqual([message]);
  });
});

describe('what the adapters library refuses in a composition', () => {
  const MODEL = 'model m { hidden 32 heads 2 ffn 64 layers 2 }\n';

  it('a fusion inside parallel(...)', () => {
    const { messages } = check(
      `${MODEL}adapter a { preset seq_bn }\nadapter b { preset seq_bn }\nfusion f { adapters a, b preset dynamic }\ngraph g = parallel(f, a)`,
      {},
    );
    expect(messages).toEqual([
      "E0405 graph 'g': AdapterHub's Parallel runs adapters, not the fusion 'f'",
    ]);
  });

  it('an average where some but not all of several members sit at a site', () => {
    const { messages } = check(
      `${MODEL}adapter a { preset houlsby }\nadapter b { preset houlsby }\nadapter c { preset seq_bn }\ngraph g = average(a, b, c)`,
      {},
    );
    expect(messages).toEqual([
      "E0122 graph 'g': at attn in layer 0, 2 of the 3 averaged adapters are present ('a', 'b'); the adapters library cannot average them there",
    ]);
  });

  it('an AdapterHub fusion of adapters at different sites, or without its last adapter', () => {
    expect(
      check(
        `${MODEL}adapter a { preset houlsby }\nadapter b { preset seq_bn }\nfusion f { adapters a, b preset dynamic }`,
        {},
      ).messages,
    ).toEqual([
      "E0303 fusion 'f' is AdapterHub's, whose adapters must sit at the same sites: 'a' is at attn, ffn, 'b' at ffn",
    ]);
    expect(
      check(
        `${MODEL}adapter a { preset seq_bn }\nadapter b { preset seq_bn layers 0 }\nfusion f { adapters a, b preset dynamic }`,
        {},
      ).messages,
    ).toEqual([
      "E0303 fusion 'f' fuses at ffn in layer 1, where its last adapter 'b' is left out; the adapters library computes a fusion from its last adapter's pre_forward and fails there",
    ]);
  });

  it('an AdapterHub fusion fuses where only its last adapter is present, as the library does', () => {
    const { model, messages } = check(
      `${MODEL}adapter a { preset seq_bn layers 0 }\nadapter b { preset seq_bn }\nfusion f { adapters a, b preset dynamic }`,
      {},
    );
    expect(messages).toEqual([]);
    expect(model!.fusions.get('f')!.covers).toEqual([
      { layer: 0, site: 'ffn', members: ['a', 'b'] },
      { layer: 1, site: 'ffn', members: ['b'] },
    ]);
  });
});
