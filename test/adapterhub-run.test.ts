import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile, type Model } from '../src/compiler/index.js';
import { readCheckpoint } from '../src/cli/checkpoint-files.js';
import { readSavedWeights } from '../src/cli/saved-weights.js';
import type { Program } from '../src/runtime/program.js';
import { Runtime } from '../src/runtime/runtime.js';
import { loadSafetensors, type TensorMap } from '../src/runtime/safetensors.js';
import { gpuIt, gpuRuntime } from './helpers/gpu.js';

/**
 * The AdapterHub fixtures (test/fixtures/adapterhub/, written by its generate.py from the
 * `adapters` library's forward, transcribed): each spec of specs/ reads the base checkpoint and
 * the adapter, head and fusion directories alone, and must give PyTorch's outputs.
 */
const ROOT = 'test/fixtures/adapterhub';
const INPUT_NAMES = ['input_ids', 'attention_mask', 'token_type_ids', 'adapter_index'];
const SPECS = join(ROOT, 'specs');

const CASES = (
  JSON.parse(readFileSync(join(ROOT, 'cases.json'), 'utf8')) as {
    cases: { name: string; head?: unknown }[];
  }
).cases.map((c) => c.name);

function compileCase(name: string, fuse: boolean): { program: Program; model: Model } {
  const path = join(SPECS, `${name}.adapt`);
  const compiled = compile(readFileSync(path, 'utf8'), {
    fileName: path,
    fuse,
    target: 'software',
    readFile: (file) => {
      const full = join(SPECS, file);
      return existsSync(full) ? readFileSync(full, 'utf8') : undefined;
    },
  });
  expect(compiled.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return { program: compiled.program!, model: compiled.model! };
}

function weightsOf(name: string, model: Model): TensorMap[] {
  const path = join(SPECS, `${name}.adapt`);
  const checkpoint = readCheckpoint('.', path, model.base.checkpoint!.dir, { tokenizer: false });
  return [checkpoint.weights.tensors, ...readSavedWeights('.', path, model, 'default').tensors];
}

async function runCase(name: string, runtime: Runtime, fuse: boolean) {
  const { program, model } = compileCase(name, fuse);
  const loaded = await runtime.load(program, weightsOf(name, model));
  const expected = loadSafetensors(readFileSync(join(ROOT, `${name}.expected.safetensors`)));
  const adapterIndex = expected.get('adapter_index');
  const outputs = await loaded.run({
    input_ids: expected.get('input_ids')!,
    attention_mask: expected.get('attention_mask')!,
    token_type_ids: expected.get('token_type_ids')!,
    ...(adapterIndex ? { adapter_index: adapterIndex } : {}),
  });
  loaded.dispose();
  const worst: Record<string, number> = {};
  // Every tensor of the expected file but the inputs is an output PyTorch computed.
  const outputNames = [...expected.keys()].filter((name) => !INPUT_NAMES.includes(name));
  expect(outputNames.length, name).toBeGreaterThan(0);
  expect(Object.keys(outputs).sort()).toEqual(outputNames.sort());
  for (const output of outputNames) {
    const want = expected.get(output)!;
    const got = outputs[output]!;
    expect(got.shape).toEqual(want.shape);
    worst[output] = got.data.reduce((m, v, i) => Math.max(m, Math.abs(v - want.data[i]!)), 0);
  }
  return worst;
}

describe('AdapterHub directories on the CPU reference', () => {
  it.each(CASES)("%s: PyTorch's outputs within 1e-4", async (name) => {
    const runtime = await Runtime.create({ backend: 'cpu' });
    const worst = await runCase(name, runtime, false);
    for (const [output, error] of Object.entries(worst))
      expect(error, `${name} ${output}`).toBeLessThan(1e-4);
  });
});

describe('AdapterHub directories on WebGPU', () => {
  gpuIt("every case, fused: PyTorch's outputs within 1e-4", async () => {
    const runtime = await gpuRuntime();
    try {
      for (const name of CASES) {
        const worst = await runCase(name, runtime, true);
        for (const [output, error] of Object.entries(worst))
          expect(error, `${name} ${output}`).toBeLessThan(1e-4);
      }
    } finally {
      runtime.dispose();
    }
  });
});
