import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Model } from '../../src/compiler/index.js';
import { trainedDirectoryFiles } from '../../src/runtime/adapterhub/save/index.js';
import type { Program } from '../../src/runtime/program.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { loadSafetensors } from '../../src/runtime/safetensors.js';
import { CASES, compileSpec, ROOT, runFiles, runWeights, SPECS } from './helpers.js';

/**
 * Each fixture's adapters and fusion written by trainedDirectoryFiles to a temporary directory,
 * then read back by the same spec with `from "TMP/…"`: the graph computes the same outputs on
 * the CPU reference, to the bit.
 */

const TMP = mkdtempSync(join(tmpdir(), 'adaptc-save-'));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

async function outputs(name: string, model: Model, program: Program, path: string) {
  const expected = loadSafetensors(readFileSync(join(ROOT, `${name}.expected.safetensors`)));
  const runtime = await Runtime.create({ backend: 'cpu' });
  const loaded = await runtime.load(program, runFiles(model, program, path));
  const index = expected.get('adapter_index');
  const result = await loaded.run({
    input_ids: expected.get('input_ids')!,
    attention_mask: expected.get('attention_mask')!,
    token_type_ids: expected.get('token_type_ids')!,
    ...(index ? { adapter_index: index } : {}),
  });
  loaded.dispose();
  return result;
}

describe('a written directory loads back', () => {
  it.each(CASES.map((c) => [c.name] as const))('%s', async (name) => {
    const path = join(SPECS, `${name}.adapt`);
    const source = readFileSync(path, 'utf8');
    const { model, program } = compileSpec(source, path);
    const weights = runWeights(model, program, path);
    const dir = join(TMP, name);
    const write = (sub: string, target: { adapter: string } | { fusion: string }) => {
      mkdirSync(join(dir, sub), { recursive: true });
      for (const file of trainedDirectoryFiles(model, program, target, weights))
        writeFileSync(join(dir, sub, file.name), file.bytes);
    };
    const lines = source.split('\n').flatMap((line) => {
      const match = /^(adapter|fusion|head) (\S+) from "[^"]+"(.*)$/.exec(line);
      if (!match) return [line];
      const [, kind, declared, rest] = match as unknown as [string, string, string, string];
      if (kind === 'head') return model.adapters.has(declared) ? [] : [line];
      write(declared, kind === 'adapter' ? { adapter: declared } : { fusion: declared });
      return [`${kind} ${declared} from "${join(dir, declared)}"${rest}`];
    });
    const again = compileSpec(lines.join('\n'), path);
    expect(again.program.weights.map((w) => w.name)).toEqual(program.weights.map((w) => w.name));
    const before = await outputs(name, model, program, path);
    const after = await outputs(name, again.model, again.program, path);
    expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
    for (const [output, tensor] of Object.entries(before))
      expect(Array.from(after[output]!.data), output).toEqual(Array.from(tensor!.data));
  });
});
