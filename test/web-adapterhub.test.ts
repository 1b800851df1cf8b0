import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { compile } from '../src/compiler/index.js';
import { Runtime } from '../src/runtime/runtime.js';
import { loadSafetensors, type TensorMap } from '../src/runtime/safetensors.js';
import {
  loadSavedDirectory,
  SAVED_CONFIG_FILES,
} from '../examples/web/src/adapterhub-directory.js';
import { loadCheckpoint } from '../examples/web/src/checkpoint.js';
import {
  markedFolderSources,
  type CheckpointSource,
} from '../examples/web/src/checkpoint-source.js';
import { savedWeightsFor } from '../examples/web/src/saved-weights.js';
import {
  addSavedDirectories,
  readSpecFile,
  savedDirectoryFor,
  useCheckpoint,
  useSavedDirectories,
} from '../examples/web/src/spec-files.js';

// The page's AdapterHub loading, run in Node on sources built from the fixture directories.

const ROOT = 'test/fixtures/adapterhub';

function memorySource(dir: string, files: Record<string, Uint8Array | string>): CheckpointSource {
  const bytes = (value: Uint8Array | string) =>
    typeof value === 'string' ? new TextEncoder().encode(value) : value;
  return {
    dir,
    read: async (name) => (name in files ? bytes(files[name]!) : undefined),
    has: async (name) => name in files,
  };
}

function fixtureFiles(path: string): Record<string, Uint8Array> {
  const dir = join(ROOT, path);
  return Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f))]));
}

const fixtureSource = (path: string, dir = `adapterhub/${path}`) =>
  memorySource(dir, fixtureFiles(path));

const SPEC = readFileSync(join(ROOT, 'specs/seq-bn-head.adapt'), 'utf8');

/** The fixture spec with the adapter and head declared under another name than they were saved. */
const RENAMED_SPEC = SPEC.replace('adapter sentiment', 'adapter mood')
  .replace('head sentiment', 'head mood')
  .replace('graph default = sentiment', 'graph default = mood');

async function loadSeqBnHead(): Promise<void> {
  useCheckpoint(await loadCheckpoint(fixtureSource('bert-tiny')));
  useSavedDirectories([
    await loadSavedDirectory(fixtureSource('seq-bn-head/sentiment')),
    await loadSavedDirectory(fixtureSource('seq-bn-head/sentiment-head')),
  ]);
}

function compileInPage(source: string) {
  const compiled = compile(source, {
    fileName: 'playground.adapt',
    fuse: false,
    target: 'software',
    readFile: readSpecFile,
  });
  expect(compiled.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return { program: compiled.program!, model: compiled.model! };
}

async function worstErrors(program: Parameters<Runtime['load']>[0], weights: TensorMap[]) {
  const runtime = await Runtime.create({ backend: 'cpu' });
  const loaded = await runtime.load(program, weights);
  const expected = loadSafetensors(readFileSync(join(ROOT, 'seq-bn-head.expected.safetensors')));
  const outputs = await loaded.run({
    input_ids: expected.get('input_ids')!,
    attention_mask: expected.get('attention_mask')!,
    token_type_ids: expected.get('token_type_ids')!,
  });
  loaded.dispose();
  const worst: Record<string, number> = {};
  for (const output of ['last_hidden_state', 'logits'] as const) {
    const want = expected.get(output)!;
    const got = outputs[output]!;
    expect(got.shape).toEqual(want.shape);
    worst[output] = got.data.reduce((m, v, i) => Math.max(m, Math.abs(v - want.data[i]!)), 0);
  }
  return worst;
}

beforeEach(() => useSavedDirectories([]));

describe("the playground's AdapterHub directories", () => {
  it('serves a loaded directory’s config files to the compiler where the spec names it', async () => {
    await loadSeqBnHead();
    const config = readFileSync(join(ROOT, 'seq-bn-head/sentiment/adapter_config.json'), 'utf8');
    const head = readFileSync(join(ROOT, 'seq-bn-head/sentiment-head/head_config.json'), 'utf8');
    expect(readSpecFile('../seq-bn-head/sentiment/adapter_config.json')).toBe(config);
    expect(readSpecFile('adapterhub/seq-bn-head/sentiment/adapter_config.json')).toBe(config);
    expect(readSpecFile('sentiment/adapter_config.json')).toBe(config);
    expect(readSpecFile('../seq-bn-head/sentiment-head/head_config.json')).toBe(head);
    // The adapter's directory holds no head_config.json, and no other file is served.
    expect(readSpecFile('../seq-bn-head/sentiment/head_config.json')).toBeUndefined();
    expect(readSpecFile('../seq-bn-head/sentiment/adapter.safetensors')).toBeUndefined();
    expect(readSpecFile('../other/adapter_config.json')).toBeUndefined();
    // The checkpoint's config.json is still served beside them.
    expect(readSpecFile('../bert-tiny/config.json')).toBe(
      readFileSync(join(ROOT, 'bert-tiny/config.json'), 'utf8'),
    );
  });

  it('matches the directory sharing the most last segments, the same one first', async () => {
    const a = await loadSavedDirectory(fixtureSource('fusion/a'));
    const averageA = await loadSavedDirectory(fixtureSource('average/a'));
    useSavedDirectories([a, averageA]);
    expect(savedDirectoryFor('../fusion/a')).toBe(a);
    expect(savedDirectoryFor('adapterhub/fusion/a/')).toBe(a);
    expect(savedDirectoryFor('../average/a')).toBe(averageA);
    // Equals: the one loaded last.
    expect(savedDirectoryFor('elsewhere/a')).toBe(averageA);
    expect(savedDirectoryFor('../fusion/b')).toBeUndefined();
    // Loading a directory again replaces it, and moves it last.
    const again = await loadSavedDirectory(fixtureSource('fusion/a'));
    addSavedDirectories([again]);
    expect(savedDirectoryFor('elsewhere/a')).toBe(again);
    expect(savedDirectoryFor('../average/a')).toBe(averageA);
    expect(savedDirectoryFor('../fusion/a')).toBe(again);
  });

  it("builds seq-bn-head's weights renamed, and the CPU runtime gives PyTorch's outputs within 1e-4", async () => {
    await loadSeqBnHead();
    for (const [source, name] of [
      [SPEC, 'sentiment'],
      [RENAMED_SPEC, 'mood'],
    ] as const) {
      const { program, model } = compileInPage(source);
      const saved = savedWeightsFor(model, 'default');
      expect(saved).toHaveLength(2);
      const [adapter, head] = saved as [TensorMap, TensorMap];
      expect([...adapter.keys()].every((t) => t.includes(`.adapters.${name}.`))).toBe(true);
      expect(adapter.has(`bert.encoder.layer.0.output.adapters.${name}.adapter_up.weight`)).toBe(
        true,
      );
      expect([...head.keys()].every((t) => t.startsWith(`heads.${name}.`))).toBe(true);
      const worst = await worstErrors(program, [
        (await loadCheckpoint(fixtureSource('bert-tiny'))).tensors,
        ...saved,
      ]);
      expect(worst.last_hidden_state).toBeLessThan(1e-4);
      expect(worst.logits).toBeLessThan(1e-4);
    }
  });

  it('reads pytorch_adapter.bin as the library saved it', async () => {
    const loaded = await loadSavedDirectory(fixtureSource('double-seq-bn-bin/houlsby'));
    const weights = loaded.weights.get('adapter')!;
    expect(weights.file).toBe('adapterhub/double-seq-bn-bin/houlsby/pytorch_adapter.bin');
    const reference = loadSafetensors(
      readFileSync(join(ROOT, 'double-seq-bn-bin/houlsby/adapter.reference.safetensors')),
    );
    expect([...weights.tensors.keys()].sort()).toEqual([...reference.keys()].sort());
    for (const [name, tensor] of reference)
      expect([...weights.tensors.get(name)!.data]).toEqual([...tensor.data]);
  });

  it('names the directory, and the file and tensor, of what it cannot read', async () => {
    const files = fixtureFiles('seq-bn-head/sentiment');
    const load = (changes: Record<string, Uint8Array | string | undefined>) => {
      const next = Object.fromEntries(
        Object.entries({ ...files, ...changes }).filter(
          (entry): entry is [string, Uint8Array | string] => entry[1] !== undefined,
        ),
      );
      return loadSavedDirectory(memorySource('ah/sentiment', next));
    };
    await expect(load({ 'pytorch_adapter.bin': new Uint8Array(8) })).rejects.toThrow(
      'ah/sentiment: holds both adapter.safetensors and pytorch_adapter.bin; keep the one the adapter was saved as',
    );
    await expect(load({ 'adapter.safetensors': undefined })).rejects.toThrow(
      'ah/sentiment: no weights for its adapter_config.json: neither adapter.safetensors nor pytorch_adapter.bin',
    );
    await expect(load({ 'adapter_config.json': undefined })).rejects.toThrow(
      'ah/sentiment: not an AdapterHub directory: it holds none of adapter_config.json, head_config.json, adapter_fusion_config.json',
    );
    await expect(load({ 'adapter_config.json': '{"config": ' })).rejects.toThrow(
      /^ah\/sentiment\/adapter_config\.json: not JSON/,
    );
    await expect(load({ 'adapter_config.json': '[]' })).rejects.toThrow(
      'ah/sentiment/adapter_config.json: must be a JSON object',
    );
    await expect(load({ 'adapter_config.json': new Uint8Array([0xff]) })).rejects.toThrow(
      'ah/sentiment/adapter_config.json: not valid UTF-8',
    );
    await expect(load({ 'adapter.safetensors': new Uint8Array([1, 2, 3]) })).rejects.toThrow(
      /^ah\/sentiment\/adapter\.safetensors: /,
    );
    await expect(
      load({ 'adapter.safetensors': undefined, 'pytorch_adapter.bin': new Uint8Array([1, 2]) }),
    ).rejects.toThrow(/^ah\/sentiment\/pytorch_adapter\.bin: /);
  });

  it('names the file and tensor of weights that are not of the saved module', async () => {
    await loadSeqBnHead();
    const { model } = compileInPage(SPEC);
    const head = fixtureFiles('seq-bn-head/sentiment-head');
    // In place of the head loaded before; the adapter stays.
    addSavedDirectories([
      await loadSavedDirectory(
        memorySource('adapterhub/seq-bn-head/sentiment-head', {
          ...head,
          'model_head.safetensors': fixtureFiles('seq-bn-head/sentiment')['adapter.safetensors']!,
        }),
      ),
    ]);
    expect(() => savedWeightsFor(model, 'default')).toThrow(
      /^adapterhub\/seq-bn-head\/sentiment-head\/model_head\.safetensors: \d+ tensors are not of head 'sentiment'/,
    );
    useSavedDirectories([]);
    expect(() => savedWeightsFor(model, 'default')).toThrow(
      "../seq-bn-head/sentiment: the adapter 'sentiment' reads this directory, but no loaded AdapterHub directory with adapter_config.json matches it: load it",
    );
  });

  it('takes every folder of picked files that holds an AdapterHub config file', async () => {
    const file = (path: string, text = '{}') => {
      const made = new File([text], path.slice(path.lastIndexOf('/') + 1));
      Object.defineProperty(made, 'webkitRelativePath', { value: path });
      return made;
    };
    const markers = Object.values(SAVED_CONFIG_FILES);
    const sources = markedFolderSources(
      [
        file('hub/sentiment/adapter_config.json', '{"a":1}'),
        file('hub/sentiment/adapter.safetensors'),
        file('hub/fusion/adapter_fusion_config.json'),
        file('hub/README.md'),
      ],
      markers,
    );
    expect(sources.map((s) => s.dir)).toEqual(['hub/fusion', 'hub/sentiment']);
    await expect(sources[1]!.has('adapter.safetensors')).resolves.toBe(true);
    await expect(sources[1]!.has('adapter_fusion_config.json')).resolves.toBe(false);
    expect(new TextDecoder().decode(await sources[1]!.read('adapter_config.json'))).toBe('{"a":1}');
    expect(() => markedFolderSources([file('x/config.json')], markers)).toThrow(
      'the picked folder holds none of adapter_config.json, head_config.json, adapter_fusion_config.json',
    );
  });
});
