import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { describe, expect, it } from 'vitest';
import { readTensorFile } from '../../src/cli/weights-files.js';
import { trainedDirectoryFiles, type SavedFile } from '../../src/runtime/adapterhub/save/index.js';
import { loadSafetensors, type TensorMap } from '../../src/runtime/safetensors.js';
import { CASES, compileSpec, ROOT, runWeights, SPECS } from './helpers.js';

/**
 * Every directory of test/fixtures/adapterhub written again from the weights `adapt run` binds:
 * the JSON is what the fixture holds (which generate.py transcribes from the adapters library's
 * save functions, then prettier formats), and the tensors are the fixture's, name for name and
 * bit for bit.
 */

function file(files: readonly SavedFile[], name: string): Uint8Array {
  const found = files.find((f) => f.name === name);
  expect(found, name).toBeDefined();
  return found!.bytes;
}

async function expectJson(bytes: Uint8Array, fixture: string, rename?: [string, string]) {
  let want = readFileSync(fixture, 'utf8');
  if (rename) want = want.replace(`"name": "${rename[0]}"`, `"name": "${rename[1]}"`);
  const text = new TextDecoder().decode(bytes);
  expect(text.endsWith('\n')).toBe(false);
  expect(JSON.parse(text)).toEqual(JSON.parse(want));
  const options = (await resolveConfig(fixture)) ?? {};
  expect(await format(text, { ...options, filepath: fixture })).toBe(want);
}

/** The fixture's weights file, or the safetensors copy generate.py writes beside a `.bin`. */
function fixtureTensors(directory: string, weights: string): TensorMap {
  const reference = join(ROOT, directory, 'adapter.reference.safetensors');
  if (weights.endsWith('.bin') && existsSync(reference))
    return loadSafetensors(readFileSync(reference));
  return readTensorFile('.', join(ROOT, directory, weights));
}

function expectTensors(bytes: Uint8Array, want: TensorMap, rename?: [string, string]) {
  const got = loadSafetensors(bytes);
  const renamed = new Map(
    [...want].map(([name, t]) => [rename ? name.replace(rename[0], rename[1]) : name, t]),
  );
  expect([...got.keys()].sort()).toEqual([...renamed.keys()].sort());
  for (const [name, tensor] of renamed) {
    const mine = got.get(name)!;
    expect(mine.dtype, name).toBe('F32');
    expect(mine.shape, name).toEqual(tensor.shape);
    expect(new Uint8Array(mine.data.buffer, mine.data.byteOffset, mine.data.byteLength)).toEqual(
      new Uint8Array(Float32Array.from(tensor.data).buffer),
    );
  }
}

describe('trainedDirectoryFiles writes the fixtures again', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (name, fixture) => {
    const path = join(SPECS, `${name}.adapt`);
    const { model, program } = compileSpec(readFileSync(path, 'utf8'), path);
    const weights = runWeights(model, program, path);
    for (const [adapter, saved] of Object.entries(fixture.adapters)) {
      const files = trainedDirectoryFiles(model, program, { adapter }, weights);
      await expectJson(
        file(files, 'adapter_config.json'),
        join(ROOT, saved.directory, 'adapter_config.json'),
      );
      expectTensors(
        file(files, 'adapter.safetensors'),
        fixtureTensors(saved.directory, saved.weights),
      );
      const head = fixture.head && model.heads.get(adapter) ? fixture.head : undefined;
      expect(files.map((f) => f.name)).toEqual([
        'adapter_config.json',
        'adapter.safetensors',
        ...(head ? ['head_config.json', 'model_head.safetensors'] : []),
      ]);
      if (!head) continue;
      // A head saved under another name (bn-post-add's `tags`) is declared under the adapter's.
      const rename = head.name === adapter ? undefined : ([head.name, adapter] as [string, string]);
      await expectJson(
        file(files, 'head_config.json'),
        join(ROOT, head.directory, 'head_config.json'),
        rename,
      );
      expectTensors(
        file(files, 'model_head.safetensors'),
        readTensorFile('.', join(ROOT, head.directory, head.weights)),
        rename && [`heads.${rename[0]}.`, `heads.${rename[1]}.`],
      );
    }
    if (fixture.fusion) {
      const declared = [...model.fusions.keys()][0]!;
      const files = trainedDirectoryFiles(model, program, { fusion: declared }, weights);
      expect(files.map((f) => f.name)).toEqual([
        'adapter_fusion_config.json',
        'model_adapter_fusion.safetensors',
      ]);
      await expectJson(
        file(files, 'adapter_fusion_config.json'),
        join(ROOT, fixture.fusion.directory, 'adapter_fusion_config.json'),
      );
      expectTensors(
        file(files, 'model_adapter_fusion.safetensors'),
        readTensorFile('.', join(ROOT, fixture.fusion.directory, fixture.fusion.weights)),
      );
    }
  });
});
