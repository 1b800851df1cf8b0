import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCheckpoint } from '../../src/cli/checkpoint-files.js';
import { readSavedWeights } from '../../src/cli/saved-weights.js';
import {
  pythonFloatRepr,
  pythonJsonDump,
  trainedDirectoryFiles,
} from '../../src/runtime/adapterhub/save/index.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { loadSafetensors, type TensorMap } from '../../src/runtime/safetensors.js';
import { initialTrainedWeights } from '../../src/runtime/training/init/index.js';
import { compileSpec, ROOT, SPECS } from './helpers.js';

/**
 * Adapters and heads declared in the spec, written as AdapterHub directories: the article's
 * adapter as the BnConfig that computes it, which loads back and computes the same; what no
 * config computes is refused by name.
 */

const TMP = mkdtempSync(join(tmpdir(), 'adaptc-inline-save-'));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

const SPEC = join(SPECS, 'inline-save.adapt');
const MODEL = 'model bert-tiny from "../bert-tiny"\n';
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

function asTensors(
  weights: ReadonlyMap<string, Float32Array>,
  shapes: Map<string, readonly number[]>,
): TensorMap {
  return new Map(
    [...weights].map(([name, data]) => [
      name,
      { dtype: 'F32' as const, shape: shapes.get(name)!, data },
    ]),
  );
}

async function run(source: string, extra: TensorMap[]) {
  const { model, program } = compileSpec(source, SPEC);
  const checkpoint = readCheckpoint('.', SPEC, model.base.checkpoint!.dir, { tokenizer: false });
  const saved = readSavedWeights('.', SPEC, model, program.graph).tensors;
  const runtime = await Runtime.create({ backend: 'cpu' });
  const loaded = await runtime.load(program, [checkpoint.weights.tensors, ...saved, ...extra]);
  const batch = loadSafetensors(readFileSync(join(ROOT, 'seq-bn-head.expected.safetensors')));
  const outputs = await loaded.run({
    input_ids: batch.get('input_ids')!,
    attention_mask: batch.get('attention_mask')!,
    token_type_ids: batch.get('token_type_ids')!,
  });
  loaded.dispose();
  return outputs;
}

describe('an adapter declared in the spec, saved', () => {
  it.each([
    ['sequential', 'adapter a { bottleneck 4 at ffn scale 2 activation gelu_tanh layers 1 }'],
    ['parallel', 'adapter a { bottleneck 3 parallel attn, ffn }'],
    [
      'AdapterHub',
      'adapter a { preset seq_bn reduction 8 ln_after true gating true scale channel }',
    ],
  ])('%s: loads back from its directory and computes the same', async (_, declaration) => {
    const source = `${MODEL}${declaration}\nhead a { type classification labels "neg", "pos" }`;
    const { model, program } = compileSpec(source, SPEC);
    const weights = initialTrainedWeights(model, program, { adapter: 'a' }, 4);
    const shapes = new Map(program.weights.map((w) => [w.name, w.shape]));
    const before = await run(source, [asTensors(weights, shapes)]);
    const dir = join(TMP, declaration.length.toString());
    mkdirSync(dir, { recursive: true });
    for (const file of trainedDirectoryFiles(model, program, { adapter: 'a' }, weights))
      writeFileSync(join(dir, file.name), file.bytes);
    const after = await run(`${MODEL}adapter a from "${dir}"`, []);
    for (const output of ['last_hidden_state', 'logits']) {
      const want = before[output]!.data;
      const error = after[output]!.data.reduce((m, v, i) => Math.max(m, Math.abs(v - want[i]!)), 0);
      expect(error, output).toBeLessThan(1e-5);
    }
  });

  it('a fusion and its head: saved under the members joined, read back to the same outputs', async () => {
    const source = `${MODEL}adapter a { preset seq_bn reduction 8 }\nadapter b { preset seq_bn reduction 4 }\nfusion f { adapters a, b preset dynamic }\nhead f { type classification labels "x", "y", "z" }\ngraph default = f`;
    const { model, program } = compileSpec(source, SPEC);
    const shapes = new Map(program.weights.map((w) => [w.name, w.shape]));
    const weights = new Map([
      ...initialTrainedWeights(model, program, { adapter: 'a' }, 1),
      ...initialTrainedWeights(model, program, { adapter: 'b' }, 2),
      ...initialTrainedWeights(model, program, { fusion: 'f' }, 3),
    ]);
    const before = await run(source, [asTensors(weights, shapes)]);
    const dir = join(TMP, 'fusion');
    const targets = [
      ['a', { adapter: 'a' }],
      ['b', { adapter: 'b' }],
      ['f', { fusion: 'f' }],
    ] as const;
    for (const [sub, target] of targets) {
      mkdirSync(join(dir, sub), { recursive: true });
      for (const file of trainedDirectoryFiles(model, program, target, weights))
        writeFileSync(join(dir, sub, file.name), file.bytes);
    }
    const head = JSON.parse(readFileSync(join(dir, 'f', 'head_config.json'), 'utf8')) as {
      name: string;
    };
    expect(head.name).toBe('a,b');
    const headTensors = loadSafetensors(readFileSync(join(dir, 'f', 'model_head.safetensors')));
    expect([...headTensors.keys()]).toContain('heads.a,b.4.weight');
    const after = await run(
      `${MODEL}adapter a from "${dir}/a"\nadapter b from "${dir}/b"\nfusion f from "${dir}/f"\nhead f from "${dir}/f"`,
      [],
    );
    for (const output of ['last_hidden_state', 'logits']) {
      const want = before[output]!.data;
      const error = after[output]!.data.reduce((m, v, i) => Math.max(m, Math.abs(v - want[i]!)), 0);
      expect(error, output).toBeLessThan(1e-5);
    }
  });

  it("writes the article's adapter as BnConfig's fields, and a head's config dict", () => {
    const source = `${MODEL}adapter a { bottleneck 3 at ffn scale 2 activation silu layers 1 }\nhead a { type tagging labels "O", "B-PER" layers 1 }`;
    const { model, program } = compileSpec(source, SPEC);
    const weights = initialTrainedWeights(model, program, { adapter: 'a' }, 4);
    const files = trainedDirectoryFiles(model, program, { adapter: 'a' }, weights);
    const config = JSON.parse(decode(files[0]!.bytes)) as { config: Record<string, unknown> };
    expect(config.config).toMatchObject({
      mh_adapter: false,
      output_adapter: true,
      reduction_factor: 32 / 3,
      non_linearity: 'swish',
      original_ln_before: false,
      original_ln_after: true,
      residual_before_ln: true,
      scaling: 2,
      leave_out: [0],
      init_weights: 'bert',
      is_parallel: false,
    });
    expect(decode(files[0]!.bytes)).toContain('"reduction_factor": 10.666666666666666,\n');
    expect(decode(files[0]!.bytes)).toContain('"scaling": 2.0,\n');
    expect(decode(files[2]!.bytes)).toBe(
      [
        '{',
        '  "config": {',
        '    "activation_function": "tanh",',
        '    "dropout_prob": null,',
        '    "head_type": "tagging",',
        '    "label2id": {',
        '      "B-PER": 1,',
        '      "O": 0',
        '    },',
        '    "layers": 1,',
        '    "num_labels": 2',
        '  },',
        '  "hidden_size": 32,',
        '  "model_class": "BertAdapterModel",',
        '  "model_name": "bert-tiny",',
        '  "model_type": "bert",',
        '  "name": "a",',
        '  "version": "adapters.1.1.0"',
        '}',
      ].join('\n'),
    );
    expect([...loadSafetensors(files[3]!.bytes).keys()]).toEqual([
      'heads.a.1.bias',
      'heads.a.1.weight',
    ]);
  });

  it.each([
    [
      'model m { hidden 32 heads 2 ffn 64 layers 2 norm pre }\nadapter a { bottleneck 4 at ffn }',
      { adapter: 'a' },
      "adapter 'a' cannot be saved as an AdapterHub adapter: 'm' is pre-LN",
    ],
    [
      `${MODEL}adapter a { bottleneck 4 at attn parallel ffn }`,
      { adapter: 'a' },
      "adapter 'a' cannot be saved as an AdapterHub adapter: it is sequential at one site and parallel at the other",
    ],
    [
      `${MODEL}adapter a { bottleneck 4 at ffn }\nadapter b { bottleneck 4 at ffn }\nfusion f { adapters a, b }`,
      { fusion: 'f' },
      "fusion 'f' cannot be saved as an AdapterHub fusion: it has the article's semantics",
    ],
    [`${MODEL}adapter a { bottleneck 4 at ffn }`, { adapter: 'z' }, "no adapter 'z' in"],
  ])('refuses what no AdapterHub config computes (%#)', (source, target, message) => {
    const { model, program } = compileSpec(source, SPEC);
    expect(() => trainedDirectoryFiles(model, program, target, new Map())).toThrow(message);
  });
});

describe('Python json.dump(indent=2, sort_keys=True)', () => {
  it('prints floats as repr does', () => {
    const cases: [number, string][] = [
      [1, '1.0'],
      [0.0001, '0.0001'],
      [0.00001, '1e-05'],
      [1.5e-7, '1.5e-07'],
      [1e16, '1e+16'],
      [123456789012345.6, '123456789012345.6'],
      [-2.5, '-2.5'],
      [0.1, '0.1'],
      [1e22, '1e+22'],
      [-0, '-0.0'],
    ];
    for (const [value, text] of cases) expect(pythonFloatRepr(value), String(value)).toBe(text);
  });

  it('escapes every character outside printable ASCII and sorts keys by code point', () => {
    const value = new Map<string, Parameters<typeof pythonJsonDump>[0]>([
      ['b', 'é😀"\\\n\u007f'],
      ['a', [1, []]],
      ['\uffff', new Map()],
      ['\u{10000}', null],
    ]);
    expect(pythonJsonDump(value)).toBe(
      '{\n  "a": [\n    1,\n    []\n  ],\n  "b": "\\u00e9\\ud83d\\ude00\\"\\\\\\n\\u007f",\n  "\\uffff": {},\n  "\\ud800\\udc00": null\n}',
    );
  });
});
