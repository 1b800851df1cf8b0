import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCheckpoint } from '../src/cli/checkpoint-files.js';
import { readSavedWeights } from '../src/cli/saved-weights.js';
import { compile } from '../src/compiler/index.js';
import { forward64 } from '../src/runtime/cpu/backward/graph-backward.js';
import { loadSafetensors } from '../src/runtime/safetensors.js';
import { bindWeights } from '../src/runtime/weights.js';
import { spawnCli } from './helpers/cli.js';
import { gpuIt } from './helpers/gpu.js';
import { relativeError } from './helpers/numerics.js';
import {
  loadTrainingCase,
  TRAINING_CASES,
  trainingBatch,
  type TrainingCase,
} from './helpers/training-cases.js';
import { trainFixture } from './training/train-case.js';

/**
 * `adapt train` on the PyTorch training fixtures (test/fixtures/training/generate.py), on both
 * backends: each step's lr and loss as PyTorch's and the trained tensors within 1e-4 (relative,
 * per tensor) of those torch.optim.AdamW reached (trainFixture); the AdapterHub directory it
 * writes, read back as a spec reads it, holds those very tensors; `adapt run --text` on it, as a
 * user runs it (the built CLI, bin/adapt.js), classifies, with the logits of the CPU reference's
 * forward pass under PyTorch's trained weights.
 */
const LOGIT_TOLERANCE = 1e-4;
const TIMEOUT = 300_000;

const dir = mkdtempSync(join(tmpdir(), 'adapt-train-fixtures-'));

/**
 * The fixture's spec reading the trained directory `out`: the trained adapter (whose directory
 * declares its head) or the fusion and its head from `out`, every other directory from the fixture.
 */
function loadBackSpec(c: TrainingCase, out: string, backend: string): string {
  const trained = c.config.train.adapter ?? c.config.train.fusion!;
  const lines = c.source.split('\n').flatMap((line) => {
    const match = /^(model|adapter|fusion|head) (\S+) from "([^"]+)"(.*)$/.exec(line);
    if (!match) return [line];
    const [, kind, name, path, rest] = match;
    if (kind === 'head' && name === trained && c.config.train.adapter) return [];
    const from = kind !== 'model' && name === trained ? out : resolve(c.dir, path!);
    return [`${kind} ${name} from "${from}"${rest}`];
  });
  const spec = join(dir, `${c.name}-${backend}.adapt`);
  writeFileSync(spec, lines.join('\n'));
  return spec;
}

/** Every weight the spec binds, by the program's names, read as `adapt run` reads them. */
function boundWeights(spec: string): ReadonlyMap<string, Float32Array> {
  const compiled = compile(readFileSync(spec, 'utf8'), {
    fileName: spec,
    fuse: false,
    gpu: false,
    readFile: (file) => {
      const full = resolve(dirname(spec), file);
      return existsSync(full) ? readFileSync(full, 'utf8') : undefined;
    },
  });
  const { program, model } = compiled;
  expect(compiled.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  const checkpoint = readCheckpoint('.', spec, model!.base.checkpoint!.dir);
  return bindWeights(program!, [
    checkpoint.weights.tensors,
    ...readSavedWeights('.', spec, model!, program!.graph).tensors,
  ]).tensors;
}

async function trainsAndLoadsBack(c: TrainingCase, backend: 'cpu' | 'webgpu'): Promise<void> {
  const out = join(dir, `${c.name}-${backend}`);
  // Each step's lr and loss, and the trained tensors it wrote within 1e-4 of PyTorch's.
  const trained = await trainFixture(c, backend, out);

  const spec = loadBackSpec(c, out, backend);
  const weights = boundWeights(spec);
  const zero = new Set(c.config.zero_gradient);
  // AdamW's bias-corrected step is at most lr at the first step and under 0.2% more after.
  const bound = 1.01 * c.config.lr_per_step.reduce((a, b) => a + b, 0);
  for (const tensor of c.trained) {
    const got = weights.get(tensor);
    expect(got, tensor).toBeDefined();
    expect([...got!], tensor).toEqual([...trained.get(tensor)!.data]);
    if (zero.has(tensor)) {
      // Zero gradient in exact arithmetic: rounding noise, which AdamW scales to about ±lr.
      const start = c.weights.get(tensor)!;
      got!.forEach((w, i) =>
        expect(Math.abs(w - start[i]!), `${tensor}[${i}]`).toBeLessThanOrEqual(bound),
      );
    }
  }

  const row = c.rows[0]!;
  const text = 'text' in row ? row.text : row.tokens.join(' ');
  const outputs = join(dir, `${c.name}-${backend}-run.safetensors`);
  const run = spawnCli(['run', spec, '--text', text, '--backend', backend, '--output', outputs]);
  expect(run.code, run.stderr).toBe(0);
  const labels = c.program.model.text!.head!.labels;
  expect(
    labels.some((label) => run.stdout.includes(label)),
    run.stdout,
  ).toBe(true);

  const written = loadSafetensors(readFileSync(outputs));
  const { inputs } = trainingBatch(c.program, c.tokenizer, [row]);
  expect([...written.get('input_ids')!.data]).toEqual([...inputs.values.get('input_ids')!]);
  const trainedByPyTorch = new Map(c.weights);
  for (const [name, value] of c.expected.after) trainedByPyTorch.set(name, value);
  const reference = forward64(c.program, trainedByPyTorch, inputs).outputs.logits!.data;
  expect(
    relativeError(written.get('logits')!.data as Float32Array, reference),
    'logits',
  ).toBeLessThan(LOGIT_TOLERANCE);
}

describe.each(TRAINING_CASES)('adapt train on the training fixture %s', (name) => {
  const c = loadTrainingCase(name, { gpu: false });

  it(
    'on the CPU reference: the directory holds the PyTorch update and classifies',
    () => trainsAndLoadsBack(c, 'cpu'),
    TIMEOUT,
  );

  gpuIt(
    'on WebGPU: the directory holds the PyTorch update and classifies',
    () => trainsAndLoadsBack(c, 'webgpu'),
    TIMEOUT,
  );
});
