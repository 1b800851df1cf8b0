import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { PLAYGROUND_FOLDER } from '../../src/cli/commands/playground.js';
import type { TrainTabState } from '../../examples/web/src/train-panel.js';
import {
  classifySentence,
  prepareSession,
  trainSession,
} from '../../examples/web/src/train-session.js';
import { curvePoints } from '../../examples/web/src/train-curve.js';
import { parseSentences } from '../../examples/web/src/train-data.js';
import { TINY_CONFIG, TINY_DIR, tinyCheckpoint } from '../../examples/web/src/tiny-model.js';
import { saveSafetensors, type SafetensorsEntry } from '../../src/runtime/safetensors.js';
import { runCli } from '../helpers/cli.js';
import { browserIt, OUTPUT_DIR } from '../helpers/browser.js';
import {
  servedPlayground,
  type OpenOptions,
  type PlaygroundPage,
} from '../helpers/playground-page.js';

const SENTENCES = [
  'positive: a wonderful film',
  'positive: i loved this movie',
  'positive: great story and fine actors',
  'negative: a boring plot',
  'negative: the worst film i have seen',
  'negative: awful and slow',
].join('\n');
const STEPS = 20;

const playground = servedPlayground();

async function openTrainTab(options?: OpenOptions): Promise<PlaygroundPage> {
  const opened = await playground.open(options);
  await opened.page.click('[data-tab="train"]');
  return opened;
}

/** Types the sentences and settings, presses Train, and waits for the run to end. */
async function trainIn(page: Page, sentences: string, steps: number): Promise<TrainTabState> {
  await page.fill('#train-sentences', sentences);
  await page.fill('#train-steps', String(steps));
  await page.evaluate(() => delete window.adaptcTrain);
  await page.click('#train-start');
  await page.waitForFunction(
    () => window.adaptcTrain !== undefined && window.adaptcTrain.state !== 'training',
    null,
    { timeout: 240_000 },
  );
  return (await page.evaluate(() => window.adaptcTrain))!;
}

/**
 * `adapt run --text` (the CPU reference) on the built-in model, written as a checkpoint
 * directory, and the trained directory: each label's score.
 */
async function runSavedDirectory(
  files: readonly { name: string; bytes: number[] }[],
  text: string,
): Promise<Map<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'adaptc-train-tab-'));
  try {
    const base = tinyCheckpoint();
    mkdirSync(join(dir, TINY_DIR));
    writeFileSync(join(dir, TINY_DIR, 'config.json'), TINY_CONFIG);
    writeFileSync(join(dir, TINY_DIR, 'tokenizer.json'), JSON.stringify(base.tokenizerJson));
    writeFileSync(
      join(dir, TINY_DIR, 'model.safetensors'),
      saveSafetensors(
        [...base.tensors].map(([name, t]): [string, SafetensorsEntry] => [
          name,
          { shape: t.shape, data: t.data as Float32Array },
        ]),
      ),
    );
    mkdirSync(join(dir, 'trained'));
    for (const file of files)
      writeFileSync(join(dir, 'trained', file.name), Uint8Array.from(file.bytes));
    writeFileSync(
      join(dir, 'spec.adapt'),
      `model tiny from "${TINY_DIR}"\nadapter task from "trained"\ngraph default = task\n`,
    );
    const result = await runCli(
      ['run', 'spec.adapt', '--text', text, '--json', '--top-k', '2', '--backend', 'cpu'],
      dir,
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as {
      texts: { labels: { label: string; score: number }[] }[];
    };
    return new Map(report.texts[0]!.labels.map((l) => [l.label, l.score]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the playground trains in headless Chromium', () => {
  browserIt(
    'trains an adapter and head on typed sentences on WebGPU, draws the loss, then classifies',
    async () => {
      const { page, errors } = await openTrainTab();
      const trained = await trainIn(page, SENTENCES, STEPS);
      expect(trained.error).toBeUndefined();
      expect(trained.state).toBe('trained');
      expect(trained.backend).toBe('webgpu');
      expect(trained.labels).toEqual(['positive', 'negative']);
      expect(trained.losses).toHaveLength(STEPS);
      // Two labels of equal share: the untrained head starts near ln 2.
      expect(Math.abs(trained.losses[0]! - Math.LN2)).toBeLessThan(0.05);
      expect(trained.losses.at(-1)!).toBeLessThan(trained.losses[0]! / 2);
      expect(trained.stepsPerSecond).toBeGreaterThan(0);
      // The curve has a point per step.
      const points = await page.getAttribute('#train-loss', 'points');
      expect(points!.trim().split(/\s+/)).toHaveLength(STEPS);
      await expect(page.textContent('#train-speed')).resolves.toMatch(/steps\/s/);
      // The trained adapter and head, as an AdapterHub directory to save.
      await expect(page.locator('#train-files a').allTextContents()).resolves.toEqual([
        'adapter_config.json',
        'adapter.safetensors',
        'head_config.json',
        'model_head.safetensors',
      ]);

      for (const [sentence, label] of [
        ['a wonderful film', 'positive'],
        ['awful and slow', 'negative'],
      ] as const) {
        await page.fill('#train-text', sentence);
        await page.evaluate(() => {
          if (window.adaptcTrain)
            delete (window.adaptcTrain as { classified?: unknown }).classified;
        });
        await page.click('#train-classify');
        await page.waitForFunction(
          (s) => window.adaptcTrain?.classified?.sentence === s,
          sentence,
          { timeout: 60_000 },
        );
        const shown = await page.$$eval('#train-scores tbody tr', (rows) =>
          rows.map((row) => ({
            label: row.querySelector('.label')!.textContent,
            probability: Number(row.querySelector('.score')!.textContent),
          })),
        );
        expect(shown[0]!.label).toBe(label);
        expect(shown[0]!.probability).toBeGreaterThan(0.5);
        expect(shown.reduce((s, r) => s + r.probability, 0)).toBeCloseTo(1, 3);
      }
      await page.screenshot({ path: `${OUTPUT_DIR}playground-train.png` });

      // The saved directory loads back in `adapt run` and classifies as the page did.
      const files = await page.$$eval('#train-files a', (links) =>
        Promise.all(
          links.map(async (link) => ({
            name: (link as HTMLAnchorElement).download,
            bytes: [
              ...new Uint8Array(
                await (await fetch((link as HTMLAnchorElement).href)).arrayBuffer(),
              ),
            ],
          })),
        ),
      );
      const shownScores = await page.evaluate(() => window.adaptcTrain!.classified!.scores);
      const scores = await runSavedDirectory(files, 'awful and slow');
      for (const { label, probability } of shownScores)
        expect(Math.abs(scores.get(label)! - probability), label).toBeLessThan(1e-4);
      expect(errors).toEqual([]);
      await page.close();
    },
  );

  browserIt(
    'shows one clear message for a line without a label, a single label, an unknown word, a bad rate',
    async () => {
      const { page, errors } = await openTrainTab();
      const unlabelled = await trainIn(page, `${SENTENCES}\na film without a label`, 5);
      expect(unlabelled.state).toBe('failed');
      expect(unlabelled.error).toBe(
        'line 7: "a film without a label" has no label; write the label, a colon, then the sentence (positive: a wonderful film)',
      );
      await expect(page.textContent('#train-status')).resolves.toBe(unlabelled.error);
      const single = await trainIn(page, 'good: a film\ngood: a movie', 5);
      expect(single.error).toBe(
        "every sentence has the label 'good': a classifier needs at least two labels, with a few sentences each",
      );
      await expect(page.isDisabled('#train-classify')).resolves.toBe(true);
      const unknown = await trainIn(page, `${SENTENCES}\nnegative: 😀 dull`, 5);
      expect(unknown.error).toBe(
        `line 7: the word "😀" has no tokens in the built-in model's vocabulary (letters, digits and common punctuation); leave it out`,
      );
      await page.fill('#train-lr', '0');
      const rate = await trainIn(page, SENTENCES, 5);
      expect(rate.error).toBe(
        'learning rate: expected a number above 0 and at most 1 (such as 0.003)',
      );
      expect(errors).toEqual([]);
      await page.close();
    },
  );
  browserIt('trains on the CPU reference where the browser has no WebGPU', async () => {
    const { page, errors } = await openTrainTab({
      beforeLoad: (page) => page.addInitScript(() => Object.defineProperty(navigator, 'gpu', {})),
    });
    const trained = await trainIn(page, SENTENCES, 4);
    expect(trained.error).toBeUndefined();
    expect(trained.backend).toBe('cpu');
    expect(trained.losses).toHaveLength(4);
    await expect(page.textContent('#train-status')).resolves.toContain('the CPU reference');
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe('the train tab without a browser', () => {
  it('reads label: text lines, the labels in the order they first appear, one row a line', () => {
    const parsed = parseSentences('b: one two\n\n  a :  three \nb: four');
    expect(parsed.labels).toEqual(['b', 'a']);
    expect(parsed.rows).toEqual([
      { line: 1, label: 'b', text: 'one two' },
      { line: 3, label: 'a', text: 'three' },
      { line: 4, label: 'b', text: 'four' },
    ]);
    expect(parsed.jsonl.split('\n')).toEqual([
      '{"text":"one two","label":"b"}',
      '',
      '{"text":"three","label":"a"}',
      '{"text":"four","label":"b"}',
    ]);
    expect(() => parseSentences('a: x\nb c: y')).toThrow(
      `line 2: the label "b c" may hold only letters, digits, '_' and '-'`,
    );
    expect(() => parseSentences('a: x\nb:')).toThrow(
      "line 2: the label 'b' has no sentence after it",
    );
    expect(() => parseSentences('\n \n')).toThrow('no sentences');
  });

  it('draws a point per step, the largest loss at the top and 0 at the bottom', () => {
    expect(curvePoints([2, 1, 0], 5)).toBe('36.0,8.0 125.0,74.0 214.0,140.0');
  });

  it('names the line of a word that has no tokens', () => {
    expect(() => prepareSession(`${SENTENCES}\nnegative: 😀 dull`)).toThrow(
      `line 7: the word "😀" has no tokens in the built-in model's vocabulary (letters, digits and common punctuation); leave it out`,
    );
  });

  it('trains on the CPU reference as the page does, to the labels of its sentences', async () => {
    const session = prepareSession(SENTENCES);
    expect(session.spec).toContain(
      'head task { type classification labels "positive", "negative" }',
    );
    const { createCpuTrainer } = await import('../../src/runtime/index.js');
    const backend = createCpuTrainer(session.setup);
    const losses = await trainSession(session, backend, { steps: STEPS, lr: 3e-3 }, () => {});
    expect(losses).toHaveLength(STEPS);
    expect(losses.at(-1)!).toBeLessThan(losses[0]! / 2);
    const scores = await classifySentence(session, backend, 'the worst film i have seen');
    expect(scores[0]!.label).toBe('negative');
    backend.dispose();
  });

  it('the runtime bundle (dist/web/adaptc-runtime.js) trains a step with what it exports', async () => {
    const bundle = `${PLAYGROUND_FOLDER}adaptc-runtime.js`;
    const runtime = (await import(
      pathToFileURL(bundle).href
    )) as typeof import('../../src/runtime/index.js');
    for (const name of [
      'createWebGpuTrainer',
      'initialTrainedWeights',
      'trainedDirectoryFiles',
    ] as const)
      expect(typeof runtime[name], name).toBe('function');
    const session = prepareSession(SENTENCES);
    const prepared = runtime.prepareTraining(
      { model: session.model, program: session.program },
      { target: { adapter: 'task' }, weights: [tinyCheckpoint().tensors], seed: 0 },
    );
    const tokenizer = runtime.loadTokenizer(tinyCheckpoint().tokenizerJson!);
    const data = runtime.encodeTrainingData(
      runtime.parseTrainingData(
        '{"text": "a wonderful film", "label": "positive"}\n{"text": "awful and slow", "label": "negative"}',
        'two.jsonl',
        prepared.head,
      ),
      session.program.model.text!,
      tokenizer,
    );
    const backend = runtime.createCpuTrainer(prepared.setup);
    const result = await runtime.train(backend, {
      program: session.program,
      data,
      batchSize: 2,
      shuffle: false,
      seed: 0,
      schedule: { kind: 'constant', lr: 1e-3, warmupSteps: 0, totalSteps: 1 },
      optimizer: { weightDecay: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8 },
    });
    expect(result.steps).toBe(1);
    expect(Math.abs(result.losses[0]! - Math.LN2)).toBeLessThan(0.05);
    // The step moved the head and the adapter, and the trained directory is AdapterHub's.
    const after = await backend.trainedWeights();
    const weights = new Map(prepared.setup.weights);
    for (const [name, tensor] of after) weights.set(name, tensor);
    const files = runtime.trainedDirectoryFiles(
      session.model,
      session.program,
      { adapter: 'task' },
      weights,
    );
    expect(files.map((f) => f.name).sort()).toEqual([
      'adapter.safetensors',
      'adapter_config.json',
      'head_config.json',
      'model_head.safetensors',
    ]);
    const moved = [...after].filter(([name, t]) =>
      t.some((v, i) => v !== prepared.setup.weights.get(name)![i]),
    );
    expect(moved.length).toBe(after.size);
    backend.dispose();
  });
});
