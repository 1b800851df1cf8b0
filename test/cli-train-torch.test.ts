import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../src/cli/load-model.js';
import { readSavedWeights } from '../src/cli/saved-weights.js';
import { loadSafetensors, type TensorMap } from '../src/runtime/safetensors.js';
import { repoRoot, runCli } from './helpers/cli.js';
import { relativeError } from './helpers/numerics.js';
import { loadTrainingCase, TRAINING_CASES } from './helpers/training-cases.js';

const dir = mkdtempSync(join(tmpdir(), 'adapt-train-torch-'));

/**
 * The trained directory read back as `adapter NAME from "OUT"` (its head_config.json beside declares the head): the
 * tensors the spec binds are the trained ones, and it classifies.
 */
async function loadsBack(
  fixture: ReturnType<typeof loadTrainingCase>,
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
  const text =
    'text' in fixture.rows[0]! ? fixture.rows[0].text : fixture.rows[0]!.tokens.join(' ');
  const result = await runCli(['run', spec, '--text', text, '--backend', 'cpu']);
  expect(result.code, result.stderr).toBe(0);
  const labels = fixture.program.model.text!.head!.labels;
  expect(labels.some((label) => result.stdout.includes(label))).toBe(true);
}

/**
 * `adapt train` on each PyTorch training fixture (test/fixtures/training/generate.py), on the CPU
 * reference: the trained tensors after the fixture's steps land within 1e-4 (relative, per
 * tensor) of torch.optim.AdamW's, and the trained directory loads back as the fixture's spec reads
 * the saved ones.
 */
describe('adapt train against PyTorch', () => {
  for (const name of TRAINING_CASES) {
    it(name, async () => {
      const fixture = loadTrainingCase(name, { gpu: false });
      const { config } = fixture;
      const out = join(dir, name);
      const target = config.train.adapter
        ? ['--adapter', config.train.adapter]
        : ['--fusion', config.train.fusion!];
      const result = await runCli([
        'train',
        fixture.specPath,
        ...target,
        '--data',
        join(fixture.dir, config.data),
        '--steps',
        String(config.steps),
        '--batch',
        String(config.batch),
        '--no-shuffle',
        '--lr',
        String(config.lr),
        '--weight-decay',
        String(config.weight_decay),
        '--warmup-steps',
        String(config.warmup_steps),
        '--schedule',
        config.schedule,
        '--backend',
        'cpu',
        '--out',
        out,
      ]);
      expect(result.code, result.stderr).toBe(0);
      const trained = loadSafetensors(readFileSync(join(out, 'trained_weights.safetensors')));
      expect([...trained.keys()].sort()).toEqual([...config.trained].sort());
      const state = JSON.parse(readFileSync(join(out, 'trainer_state.json'), 'utf8')) as {
        log_history: { loss: number; lr: number }[];
      };
      expect(state.log_history.map((entry) => entry.lr)).toEqual(config.lr_per_step);
      expect(
        relativeError(
          state.log_history.map((entry) => entry.loss),
          config.losses,
        ),
      ).toBeLessThan(1e-5);
      for (const tensor of config.trained) {
        // A gradient zero in exact arithmetic is rounding noise, which AdamW scales to ±lr.
        if (config.zero_gradient.includes(tensor)) continue;
        const got = trained.get(tensor)!.data as Float32Array;
        expect(relativeError(got, fixture.expected.after.get(tensor)!), tensor).toBeLessThan(1e-4);
      }
      if (config.train.adapter) await loadsBack(fixture, config.train.adapter, out, trained);
    });
  }
});
