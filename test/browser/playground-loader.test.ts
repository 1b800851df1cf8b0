import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../examples/web/src/checkpoint.js';
import { folderSource, type CheckpointSource } from '../../examples/web/src/checkpoint-source.js';
import { readShardIndex } from '../../examples/web/src/shard-index.js';
import { checkpointFor, readSpecFile, useCheckpoint } from '../../examples/web/src/spec-files.js';

// The page's checkpoint loader, run in Node on sources built from memory.

const FIXTURES = 'test/fixtures/hf/';

function memorySource(dir: string, files: Record<string, Uint8Array | string>): CheckpointSource {
  const bytes = (value: Uint8Array | string) =>
    typeof value === 'string' ? new TextEncoder().encode(value) : value;
  return {
    dir,
    read: async (name) => (name in files ? bytes(files[name]!) : undefined),
    has: async (name) => name in files,
  };
}

function fixtureFiles(name: string): Record<string, Uint8Array> {
  const dir = join(FIXTURES, name);
  return Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f))]));
}

describe("the playground's checkpoint loader", () => {
  it('reads a sharded checkpoint: every tensor of both shards, and the tokenizer', async () => {
    const loaded = await loadCheckpoint(
      memorySource('checkpoints/roberta-seq-cls', fixtureFiles('roberta-seq-cls')),
    );
    // In the order the index first names each shard.
    expect([...loaded.files].sort()).toEqual([
      'checkpoints/roberta-seq-cls/model-00001-of-00002.safetensors',
      'checkpoints/roberta-seq-cls/model-00002-of-00002.safetensors',
    ]);
    const index = JSON.parse(
      readFileSync(join(FIXTURES, 'roberta-seq-cls/model.safetensors.index.json'), 'utf8'),
    ) as { weight_map: Record<string, string> };
    expect([...loaded.tensors.keys()].sort()).toEqual(Object.keys(index.weight_map).sort());
    const encoded = loaded.tokenizer!.encodeBatch(['Hello world!'], { maxLength: 30 });
    expect(encoded.tokens[0]).toEqual(['<s>', 'Hello', 'Ġworld', '!', '</s>']);
  });

  it('names the file, and the key or tensor, of what it cannot read', async () => {
    const files = fixtureFiles('roberta-seq-cls');
    const load = (changes: Record<string, Uint8Array | string | undefined>) => {
      const next = Object.fromEntries(
        Object.entries({ ...files, ...changes }).filter(
          (entry): entry is [string, Uint8Array | string] => entry[1] !== undefined,
        ),
      );
      return loadCheckpoint(memorySource('ck', next));
    };
    await expect(load({ 'config.json': undefined })).rejects.toThrow('ck/config.json: not found');
    await expect(load({ 'model.safetensors': new Uint8Array(8) })).rejects.toThrow(
      'ck: holds both model.safetensors and model.safetensors.index.json',
    );
    await expect(load({ 'model.safetensors.index.json': undefined })).rejects.toThrow(
      'ck: no weights: neither model.safetensors nor model.safetensors.index.json',
    );
    await expect(load({ 'model.safetensors.index.json': '{"weight_map": ' })).rejects.toThrow(
      /^ck\/model\.safetensors\.index\.json: not JSON/,
    );
    await expect(load({ 'model-00002-of-00002.safetensors': undefined })).rejects.toThrow(
      /^ck\/model\.safetensors\.index\.json: weight_map\[".*"\]: the shard ck\/model-00002-of-00002\.safetensors does not exist$/,
    );
    await expect(
      load({ 'model-00002-of-00002.safetensors': files['model-00001-of-00002.safetensors'] }),
    ).rejects.toThrow(/is listed in model-00002-of-00002\.safetensors, but/);
    await expect(load({ 'tokenizer_config.json': '[]' })).rejects.toThrow(
      'ck/tokenizer_config.json: must be a JSON object',
    );
    await expect(load({ 'tokenizer.json': new Uint8Array([0xff, 0xfe]) })).rejects.toThrow(
      'ck/tokenizer.json: not valid UTF-8',
    );
    await expect(
      load({ 'model-00001-of-00002.safetensors': new Uint8Array([1, 2, 3]) }),
    ).rejects.toThrow(/^ck\/model-00001-of-00002\.safetensors: /);
  });

  it('reads a shard index strictly', () => {
    const read = (value: unknown) => () => readShardIndex(value, 'index.json');
    expect(readShardIndex({ weight_map: { a: 's1', b: 's2', c: 's1' } }, 'i')).toEqual(
      new Map([
        ['s1', ['a', 'c']],
        ['s2', ['b']],
      ]),
    );
    expect(read([])).toThrow('index.json: the file: must be a JSON object');
    expect(read({ weight_map: {}, extra: 1 })).toThrow(
      "index.json: extra: is not a key of a shard index ('metadata', 'weight_map')",
    );
    expect(read({ weight_map: { a: '../x' } })).toThrow(
      `index.json: weight_map["a"]: '../x' is not a file name; shards sit beside the index`,
    );
    expect(read({ weight_map: { a: 3 } })).toThrow(
      'index.json: weight_map["a"]: must be the file name of a shard',
    );
    expect(read({ weight_map: {} })).toThrow('index.json: weight_map: lists no tensors');
    expect(read({ metadata: 1, weight_map: { a: 's' } })).toThrow(
      'index.json: metadata: must be an object',
    );
  });

  it('takes the one folder of picked files that holds a config.json', async () => {
    const file = (path: string, text = '{}') => {
      const made = new File([text], path.slice(path.lastIndexOf('/') + 1));
      Object.defineProperty(made, 'webkitRelativePath', { value: path });
      return made;
    };
    const source = folderSource([file('hf/bert/config.json', '{"a":1}'), file('hf/README.md')]);
    expect(source.dir).toBe('hf/bert');
    await expect(source.has('README.md')).resolves.toBe(false);
    expect(new TextDecoder().decode(await source.read('config.json'))).toBe('{"a":1}');
    expect(() => folderSource([file('x/a.txt')])).toThrow('holds no config.json');
    expect(() => folderSource([file('x/a/config.json'), file('x/b/config.json')])).toThrow(
      'the picked folder holds 2 checkpoints (x/a, x/b): pick one of them',
    );
  });

  it("serves the loaded config.json to the compiler where the spec's directory names it", async () => {
    const loaded = await loadCheckpoint(
      memorySource('checkpoints/bert-seq-cls/', fixtureFiles('bert-seq-cls')),
    );
    useCheckpoint(loaded);
    const config = readFileSync(join(FIXTURES, 'bert-seq-cls/config.json'), 'utf8');
    expect(readSpecFile('bert-seq-cls/config.json')).toBe(config);
    expect(readSpecFile('checkpoints/bert-seq-cls/config.json')).toBe(config);
    expect(readSpecFile('../models/bert-seq-cls/config.json')).toBe(config);
    expect(readSpecFile('bert-seq-cls/tokenizer.json')).toBeUndefined();
    expect(readSpecFile('roberta-seq-cls/config.json')).toBeUndefined();
    expect(checkpointFor('./bert-seq-cls/')).toBe(loaded);
  });
});
