import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../src/cli/load-model.js';
import { readSavedWeights } from '../src/cli/saved-weights.js';
import type { TensorMap } from '../src/runtime/safetensors.js';
import { repoRoot, runCli } from './helpers/cli.js';
import { loadTrainingCase, TRAINING_CASES, type TrainingCase } from './helpers/training-cases.js';
import { trainFixture } from './training/train-case.js';

const dir = mkdtempSync(join(tmpdir(), 'adapt-train-torch-'));

/**
 * The trained directory read back as `adapter NAME from "OUT"` (its head_config.json beside
 * declares the head): the tensors the spec binds are the trained ones, and it classifies.
 */
async function loadsBack(
  fixture: TrainingCase,
  name: string,
  out: string,
  trained: TensorMap,
): Promise<void> {
  const checkpoint = join(repoRoot, 'test/fixtures/hf/bert-seq-cls');
  const spec = join(out, '..', `${fixture.name}-back.adapt`);
  writeFileSync(
    spec,
    `model tiny from "${checkpoint}" { head none }\nadapter ${name} from "${out}"\ngraph default = ${name}\n`,
  );
  const quiet = { stdout: () => undefined, stderr: () => undefined, color: false, cwd: repoRoot };
  const model = loadModel(quiet, spec);
  const saved = readSavedWeights(repoRoot, spec, model, 'default').tensors;
  const bound = new Map(saved.flatMap((map) => [...map]));
  for (const tensor of fixture.config.trained) {
    const back = [...bound].find(([key]) => key.endsWith(tensor))?.[1];
    expect(back, tensor).toBeDefined();
    expect([...back!.data], tensor).toEqual([...trained.get(tensor)!.data]);
  }
  const first = fixture.rows[0]!;
  const text = 'text' in first ? first.text : first.tokens.join(' ');
  const result = await runCli(['run', spec, '--text', text, '--backend', 'cpu']);
  expect(result.code, result.stderr).toBe(0);
  const labels = fixture.program.model.text!.head!.labels;
  expect(labels.some((label) => result.stdout.includes(label))).toBe(true);
}

/**
 * `adapt train` on each PyTorch training fixture (test/fixtures/training/generate.py) on the CPU
 * reference lands within 1e-4 of torch.optim.AdamW (trainFixture), and an adapter's trained
 * directory loads back with its head.
 */
describe('adapt train against PyTorch', () => {
  for (const name of TRAINING_CASES) {
    it(name, async () => {
      const fixture = loadTrainingCase(name, { gpu: false });
      const out = join(dir, name);
      const trained = await trainFixture(fixture, 'cpu', out);
      const adapter = fixture.config.train.adapter;
      if (adapter) await loadsBack(fixture, adapter, out, trained);
    });
  }
});
