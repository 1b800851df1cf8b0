import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, runCli } from './helpers/cli.js';

const fixtures = join(repoRoot, 'test/fixtures/adapterhub');
const init = (args: string[], cwd = fixtures) => runCli(['init', ...args], cwd);

const scratch = mkdtempSync(join(tmpdir(), 'adapt-init-'));
let count = 0;

/** A fresh folder holding the given files (JSON values are written as JSON, strings as they are). */
function folder(files: Record<string, unknown>): string {
  const root = join(scratch, `case-${count++}`);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(
      join(root, path),
      typeof content === 'string' ? content : JSON.stringify(content),
    );
  }
  return root;
}

const checkpoint = { 'bert/config.json': { model_type: 'bert' }, 'bert/model.safetensors': '' };
const adapter = (dir: string, name: string) => ({
  [`${dir}/adapter_config.json`]: { config: {}, name },
  [`${dir}/adapter.safetensors`]: '',
});
const fusion = (dir: string, name: string) => ({
  [`${dir}/adapter_fusion_config.json`]: { config: {}, name },
  [`${dir}/model_adapter_fusion.safetensors`]: '',
});

describe('adapt init', () => {
  it('writes an adapter and its head saved apart', async () => {
    const result = await init(['bert-tiny', 'seq-bn-head/sentiment', 'seq-bn-head/sentiment-head']);
    expect(result).toEqual({
      code: 0,
      stderr: '',
      stdout: [
        '# Written by adapt init from bert-tiny, seq-bn-head/sentiment, seq-bn-head/sentiment-head.',
        'model bert-tiny from "bert-tiny"',
        '',
        'adapter sentiment from "seq-bn-head/sentiment"',
        'head sentiment from "seq-bn-head/sentiment-head"',
        '',
        'graph default = sentiment',
        '',
      ].join('\n'),
    });
  });

  it('writes a fusion of three adapters as the default graph', async () => {
    const result = await init(['bert-tiny', 'fusion/a', 'fusion/b', 'fusion/c', 'fusion/fusion']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      [
        '# Written by adapt init from bert-tiny, fusion/a, fusion/b, fusion/c, fusion/fusion.',
        'model bert-tiny from "bert-tiny"',
        '',
        'adapter a from "fusion/a"',
        'adapter b from "fusion/b"',
        'adapter c from "fusion/c"',
        'fusion a_b_c from "fusion/fusion"',
        '',
        'graph default = a_b_c',
        '',
      ].join('\n'),
    );
  });

  it('stacks several adapters in the order given, the model first wherever it is given', async () => {
    const result = await init(
      ['adapterhub/stack/task', 'adapterhub/stack/lang', 'adapterhub/bert-tiny/'],
      join(fixtures, '..'),
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      [
        '# Written by adapt init from adapterhub/stack/task, adapterhub/stack/lang, adapterhub/bert-tiny.',
        'model bert-tiny from "adapterhub/bert-tiny"',
        '',
        'adapter task from "adapterhub/stack/task"',
        'adapter lang from "adapterhub/stack/lang"',
        '',
        'graph default = stack(task, lang)',
        '',
      ].join('\n'),
    );
  });

  it('notes a head saved in the adapter directory, and writes no graph without adapters', async () => {
    const root = folder({
      ...checkpoint,
      ...adapter('tags', 'tags'),
      'tags/head_config.json': { config: {}, name: 'tags' },
      'tags/pytorch_model_head.bin': '',
      'alone/head_config.json': { config: {}, name: 'alone' },
      'alone/model_head.safetensors': '',
    });
    expect((await init(['bert', 'tags'], root)).stdout).toBe(
      [
        '# Written by adapt init from bert, tags.',
        'model bert from "bert"',
        '',
        'adapter tags from "tags"  # with its head',
        '',
        'graph default = tags',
        '',
      ].join('\n'),
    );
    expect((await init(['bert', 'alone'], root)).stdout).toBe(
      [
        '# Written by adapt init from bert, alone.',
        'model bert from "bert"',
        '',
        'head alone from "alone"',
        '',
      ].join('\n'),
    );
    expect((await init(['bert'], root)).stdout).toBe(
      '# Written by adapt init from bert.\nmodel bert from "bert"\n',
    );
  });

  it('makes saved names identifiers and lists a renamed fusion its adapters', async () => {
    const root = folder({
      'bert.v2/config.json': { model_type: 'bert' },
      ...adapter('lang', 'en.wiki'),
      ...adapter('task', '2task'),
      ...fusion('fused', 'en.wiki,2task'),
    });
    const result = await init(['bert.v2', 'lang', 'task', 'fused'], root);
    expect(result.stdout).toBe(
      [
        '# Written by adapt init from bert.v2, lang, task, fused.',
        'model bert_v2 from "bert.v2"',
        '',
        'adapter en_wiki from "lang"  # saved as "en.wiki"',
        'adapter _2task from "task"  # saved as "2task"',
        'fusion en_wiki_2task from "fused" { adapters en_wiki, _2task }',
        '',
        'graph default = en_wiki_2task',
        '',
      ].join('\n'),
    );
  });

  it('writes one graph per fusion, the first also the default', async () => {
    const root = folder({
      ...checkpoint,
      ...adapter('a', 'a'),
      ...adapter('b', 'b'),
      ...adapter('c', 'c'),
      ...fusion('ab', 'a,b'),
      ...fusion('cb', 'c,b'),
    });
    const result = await init(['bert', 'a', 'b', 'c', 'ab', 'cb'], root);
    expect(result.stdout.split('\n\n')[2]).toBe(
      'graph a_b = a_b\ngraph c_b = c_b\ngraph default = a_b\n',
    );
  });

  it('escapes quotes and backslashes in paths', async () => {
    const root = folder({ ...checkpoint, ...adapter('say "hi"\\now', 'hi') });
    const result = await init(['bert', 'say "hi"\\now'], root);
    expect(result.stdout).toContain('adapter hi from "say \\"hi\\"\\\\now"\n');
  });

  it('writes the paths relative to the output file, and never over an existing file', async () => {
    const root = folder({ ...checkpoint, ...adapter('hub/lang', 'lang') });
    mkdirSync(join(root, 'specs'));
    const result = await init(['bert', 'hub/lang', '-o', 'specs/lang.adapt'], root);
    expect(result).toEqual({ code: 0, stdout: 'wrote specs/lang.adapt\n', stderr: '' });
    const written = readFileSync(join(root, 'specs/lang.adapt'), 'utf8');
    expect(written).toBe(
      [
        '# Written by adapt init from ../bert, ../hub/lang.',
        'model bert from "../bert"',
        '',
        'adapter lang from "../hub/lang"',
        '',
        'graph default = lang',
        '',
      ].join('\n'),
    );

    const again = await init(['bert', '-o', 'specs/lang.adapt'], root);
    expect(again).toEqual({
      code: 2,
      stdout: '',
      stderr: 'adapt: error: specs/lang.adapt exists; pass --force to replace it\n',
    });
    expect(readFileSync(join(root, 'specs/lang.adapt'), 'utf8')).toBe(written);
  });

  it('writes no file when a directory is bad', async () => {
    const root = folder({ ...checkpoint });
    const result = await init(['bert', 'missing', '-o', 'spec.adapt'], root);
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: 'missing: error: cannot read the directory (no such file)\n',
    });
    expect(existsSync(join(root, 'spec.adapt'))).toBe(false);
  });

  const failures: [string, Record<string, unknown>, string[], string][] = [
    [
      'a directory that holds none of the configurations',
      { ...checkpoint, 'empty/readme.txt': '' },
      ['bert', 'empty'],
      'empty: error: neither a checkpoint nor a saved adapter, head or fusion (no config.json, adapter_config.json, head_config.json, adapter_fusion_config.json)',
    ],
    [
      'a file given as a directory',
      { ...checkpoint },
      ['bert/config.json'],
      'bert/config.json: error: not a directory',
    ],
    [
      'no model',
      { ...adapter('a', 'a') },
      ['a'],
      'adapt: error: no model directory among a; give the Hugging Face checkpoint (the directory with config.json) too',
    ],
    [
      'two models',
      { ...checkpoint, 'other/config.json': {} },
      ['bert', 'other'],
      'adapt: error: 2 model directories (bert, other); give exactly one',
    ],
    [
      'JSON that is not valid',
      { ...checkpoint, 'a/adapter_config.json': '{"name": "a",\n "name": "b"}' },
      ['bert', 'a'],
      'a/adapter_config.json:2:2: error: key "name" appears twice in one object',
    ],
    [
      'a configuration without a name',
      { ...checkpoint, 'h/head_config.json': { config: {} }, 'h/model_head.safetensors': '' },
      ['bert', 'h'],
      "h/head_config.json: error: 'name' must be a string; it is missing",
    ],
    [
      'a name that is not a string',
      { ...checkpoint, 'a/adapter_config.json': { name: 3 } },
      ['bert', 'a'],
      "a/adapter_config.json: error: 'name' must be a string",
    ],
    [
      'an adapter without weights',
      { ...checkpoint, 'a/adapter_config.json': { name: 'a' } },
      ['bert', 'a'],
      'a: error: no adapter weights (looked for adapter.safetensors and pytorch_adapter.bin)',
    ],
    [
      'a fusion whose adapter is not given',
      { ...checkpoint, ...adapter('a', 'a'), ...fusion('f', 'a,b') },
      ['bert', 'a', 'f'],
      'f/adapter_fusion_config.json: error: the fusion\'s adapter "b" is not among the adapters given ("a"); give its directory too',
    ],
    [
      'two adapters that end up with one name',
      { ...checkpoint, ...adapter('x', 'en.wiki'), ...adapter('y', 'en_wiki') },
      ['bert', 'x', 'y'],
      "adapt: error: x and y both declare the adapter or fusion name 'en_wiki'; give one of them",
    ],
    [
      'a head given beside an adapter that holds a head of that name',
      {
        ...checkpoint,
        ...adapter('a', 'a'),
        'a/head_config.json': { name: 'tags' },
        'a/model_head.safetensors': '',
        'tags/head_config.json': { name: 'tags' },
        'tags/model_head.safetensors': '',
      },
      ['bert', 'a', 'tags'],
      "adapt: error: a and tags both declare the head name 'tags'; give one of them",
    ],
  ];
  for (const [what, files, args, message] of failures) {
    it(`refuses ${what} with one message`, async () => {
      const result = await init(args, folder(files));
      expect(result).toEqual({ code: 1, stdout: '', stderr: `${message}\n` });
    });
  }
});

describe('adapt check on what adapt init wrote', () => {
  const specs: Record<string, string[]> = {
    'an adapter and its head': ['bert-tiny', 'seq-bn-head/sentiment', 'seq-bn-head/sentiment-head'],
    'a fusion': ['bert-tiny', 'fusion/a', 'fusion/b', 'fusion/c', 'fusion/fusion'],
    'a stack': ['bert-tiny', 'stack/lang', 'stack/task'],
  };
  for (const [what, dirs] of Object.entries(specs)) {
    it(`accepts ${what}`, async () => {
      const spec = join(mkdtempSync(join(scratch, 'spec-')), 'init.adapt');
      const written = await init([...dirs.map((dir) => join(fixtures, dir)), '-o', spec]);
      expect(written.code).toBe(0);
      expect(await runCli(['check', spec])).toEqual({
        code: 0,
        stdout: `${spec}: ok\n`,
        stderr: '',
      });
    });
  }
});
