import { existsSync, readFileSync, rmSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { PLAYGROUND_FOLDER } from '../../src/cli/commands/playground.js';
import { serveFolder, type RunningServer } from '../../src/cli/static-server.js';
import { loadSafetensors } from '../../src/runtime/safetensors.js';
import {
  browserIt,
  CHROMIUM,
  launchChromium,
  OUTPUT_DIR,
  playgroundFolderWith,
} from '../helpers/browser.js';

const FIXTURES = 'test/fixtures/hf/';

interface FixtureText {
  readonly text: string;
  readonly tokens: string[];
  readonly token_labels?: string[];
  readonly next_token?: string;
  readonly label?: string;
  readonly scores?: Record<string, number>;
}
interface FixtureCase {
  readonly name: string;
  readonly dir: string;
  readonly labels: string[];
  readonly texts: FixtureText[];
}
const CASES = (
  JSON.parse(readFileSync(`${FIXTURES}cases.json`, 'utf8')) as { checkpoints: FixtureCase[] }
).checkpoints;
const fixture = (name: string) => CASES.find((c) => c.name === name)!;

let folder: string | undefined;
let server: RunningServer | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  if (!existsSync(`${PLAYGROUND_FOLDER}index.html`))
    throw new Error('dist/web is missing: run `npm run build`');
  // The playground with checkpoints beside it, fetched by URL relative to the page.
  folder = playgroundFolderWith([
    { from: `${FIXTURES}bert-seq-cls`, to: 'checkpoints/bert-seq-cls' },
    { from: `${FIXTURES}roberta-seq-cls`, to: 'checkpoints/roberta-seq-cls' },
    { from: `${FIXTURES}distilbert-token-cls`, to: 'checkpoints/distilbert-token-cls' },
    { from: `${FIXTURES}gpt2-lm`, to: 'checkpoints/gpt2-lm' },
    {
      from: `${FIXTURES}bert-seq-cls.fusion.adapters.safetensors`,
      to: 'checkpoints/bert-seq-cls.fusion.adapters.safetensors',
    },
  ]);
  server = await serveFolder(folder, 0);
  if (existsSync(CHROMIUM)) browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

async function open(webgpu = true): Promise<{ page: Page; errors: string[] }> {
  const page = await browser!.newPage({ viewport: { width: 1400, height: 900 } });
  // A browser without WebGPU, as most are without a flag.
  if (!webgpu) await page.addInitScript(() => Object.defineProperty(navigator, 'gpu', {}));
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(server!.url);
  await page.waitForSelector('body[data-ready=true]', { timeout: 60_000 });
  return { page, errors };
}

/** Loads a checkpoint directory (and extra weights) through the URL fields; returns the status. */
async function loadByUrl(page: Page, dir: string, extra = ''): Promise<string> {
  await page.fill('#checkpoint-url', dir);
  await page.fill('#extra-weights-url', extra);
  await page.click('#checkpoint-load');
  await page.waitForSelector('#checkpoint-status:is([data-state=loaded], [data-state=failed])');
  return (await page.textContent('#checkpoint-status')) ?? '';
}

async function writeSpec(page: Page, spec: string): Promise<void> {
  await page.click('.cm-content');
  await page.keyboard.press('Control+A');
  await page.keyboard.insertText(spec);
  // The text box shows once the spec, read from the checkpoint, checks clean.
  await page.waitForSelector('#texts', { state: 'visible', timeout: 10_000 });
  await page.waitForSelector('#run:not([disabled])');
}

interface ShownResult {
  readonly tokens: string[];
  readonly labels: { label: string; score: number }[];
  readonly words: { word: string; label: string }[];
}

/** Runs the texts and reads back what the page shows for each. */
async function runTexts(
  page: Page,
  texts: readonly string[],
  backend: 'webgpu' | 'cpu' = 'webgpu',
): Promise<ShownResult[]> {
  await page.fill('#texts', texts.join('\n'));
  await page.evaluate(() => delete window.adaptcRun);
  await page.click('#run');
  await page.waitForFunction(() => window.adaptcRun !== undefined, null, { timeout: 120_000 });
  const run = (await page.evaluate(() => window.adaptcRun)) as {
    error?: string;
    backend?: string;
    relativeError?: number;
    seeded?: string[];
  };
  expect(run.error).toBeUndefined();
  // Every weight came from the loaded files.
  expect(run.seeded).toEqual([]);
  expect(run.backend).toBe(backend);
  if (backend === 'webgpu') expect(run.relativeError).toBeLessThan(1e-4);
  return page.$$eval('.text-result', (sections) =>
    sections.map((section) => ({
      tokens: [...section.querySelectorAll('.token')].map((t) => t.textContent ?? ''),
      labels: [...section.querySelectorAll('table.scores tbody tr')].map((row) => ({
        label: row.querySelector('.label')!.textContent ?? '',
        score: Number(row.querySelector('.score')!.textContent),
      })),
      words: [...section.querySelectorAll('.entity')].map((entity) => ({
        word: entity.querySelector('.word')!.textContent ?? '',
        label: entity.querySelector('.label')!.textContent ?? '',
      })),
    })),
  );
}

/** PyTorch's scores by label, softmax of the expected logits of a sequence classification. */
function softmaxRows(logits: Float32Array, labels: readonly string[]): Record<string, number>[] {
  const rows: Record<string, number>[] = [];
  for (let b = 0; b < logits.length / labels.length; b++) {
    const row = [...logits.slice(b * labels.length, (b + 1) * labels.length)];
    const max = Math.max(...row);
    const sum = row.reduce((s, v) => s + Math.exp(v - max), 0);
    rows.push(Object.fromEntries(labels.map((l, i) => [l, Math.exp(row[i]! - max) / sum])));
  }
  return rows;
}

function expectShown(
  shown: ShownResult,
  tokens: readonly string[],
  scores: Record<string, number>,
): void {
  expect(shown.tokens).toEqual(tokens);
  const best = Object.entries(scores).sort((a, b) => b[1] - a[1])[0]![0];
  expect(shown.labels[0]!.label).toBe(best);
  expect(shown.labels.map((l) => l.label).sort()).toEqual(Object.keys(scores).sort());
  for (const { label, score } of shown.labels)
    expect(Math.abs(score - scores[label]!), label).toBeLessThan(1e-4);
}

describe('the playground on text, in headless Chromium', () => {
  browserIt(
    "loads a checkpoint by URL, whole or sharded, and shows PyTorch's labels and scores",
    async () => {
      const { page, errors } = await open();
      for (const name of ['bert-seq-cls', 'roberta-seq-cls']) {
        const entry = fixture(name);
        const status = await loadByUrl(page, `checkpoints/${entry.dir}`);
        expect(status).toContain(`loaded checkpoints/${entry.dir}`);
        await writeSpec(page, `model tiny from "${entry.dir}"\n`);
        const shown = await runTexts(
          page,
          entry.texts.map((t) => t.text),
        );
        expect(shown).toHaveLength(entry.texts.length);
        entry.texts.forEach((text, b) => {
          if (text.label) expect(shown[b]!.labels[0]!.label).toBe(text.label);
          expectShown(shown[b]!, text.tokens, text.scores!);
        });
        await page.screenshot({ path: `${OUTPUT_DIR}playground-text-${name}.png` });
      }
      expect(errors).toEqual([]);
      await page.close();
    },
  );

  browserIt(
    'shows each word with its entity, and the likeliest next token of a language model',
    async () => {
      const { page, errors } = await open();
      const tokens = fixture('distilbert-token-cls');
      await loadByUrl(page, 'checkpoints/distilbert-token-cls');
      await writeSpec(page, 'model tiny from "distilbert-token-cls"\n');
      const shown = await runTexts(
        page,
        tokens.texts.map((t) => t.text),
      );
      tokens.texts.forEach((text, b) => {
        // A word's entity is its first token's label; [CLS] and [SEP] are no word.
        const words: { word: string; label: string }[] = [];
        text.tokens.slice(1, -1).forEach((token, t) => {
          if (token.startsWith('##')) words[words.length - 1]!.word += token.slice(2);
          else words.push({ word: token, label: text.token_labels![t + 1]! });
        });
        expect(shown[b]!.words).toEqual(words);
      });
      await page.screenshot({ path: `${OUTPUT_DIR}playground-text-token-cls.png` });

      const lm = fixture('gpt2-lm');
      await loadByUrl(page, 'checkpoints/gpt2-lm');
      await writeSpec(page, 'model tiny from "gpt2-lm"\n');
      const next = await runTexts(
        page,
        lm.texts.map((t) => t.text),
      );
      lm.texts.forEach((text, b) => {
        expect(next[b]!.tokens).toEqual(text.tokens);
        expect(next[b]!.labels[0]!.label).toBe(text.next_token);
      });
      expect(errors).toEqual([]);
      await page.close();
    },
  );

  browserIt('loads a sharded checkpoint from a picked folder', async () => {
    const { page, errors } = await open();
    await page.setInputFiles('#checkpoint-folder', `${FIXTURES}roberta-seq-cls`);
    await page.waitForSelector('#checkpoint-status:is([data-state=loaded], [data-state=failed])');
    await expect(page.textContent('#checkpoint-status')).resolves.toContain(
      'loaded roberta-seq-cls: ',
    );
    await expect(page.textContent('#checkpoint-status')).resolves.toContain('from 2 shards');
    const entry = fixture('roberta-seq-cls');
    await writeSpec(page, 'model tiny from "roberta-seq-cls"\n');
    const shown = await runTexts(page, [entry.texts[0]!.text]);
    expectShown(shown[0]!, entry.texts[0]!.tokens, entry.texts[0]!.scores!);
    expect(errors).toEqual([]);
    await page.close();
  });

  browserIt(
    'runs an AdapterFusion spec on the checkpoint: its scores, and α per real token',
    async () => {
      const { page, errors } = await open();
      const entry = fixture('bert-seq-cls');
      const status = await loadByUrl(
        page,
        'checkpoints/bert-seq-cls',
        'checkpoints/bert-seq-cls.fusion.adapters.safetensors',
      );
      expect(status).toContain('bert-seq-cls.fusion.adapters.safetensors: 28 tensors');
      await writeSpec(page, readFileSync(`${FIXTURES}bert-seq-cls.fusion.adapt`, 'utf8'));
      const expected = loadSafetensors(
        readFileSync(`${FIXTURES}bert-seq-cls.fusion.expected.safetensors`),
      );
      const mask = expected.get('attention_mask')!;
      const scores = softmaxRows(expected.get('logits')!.data as Float32Array, entry.labels);
      const shown = await runTexts(
        page,
        entry.texts.map((t) => t.text),
      );
      entry.texts.forEach((text, b) => {
        // The fixture's batch is these texts: as many real tokens as the tokenizer gives.
        const real = [...mask.data.slice(b * mask.shape[1]!, (b + 1) * mask.shape[1]!)];
        expect(real.filter((m) => m === 1)).toHaveLength(text.tokens.length);
        expectShown(shown[b]!, text.tokens, scores[b]!);
      });

      // The heat map: one row per real token of the chosen text, named by the token.
      await page.waitForSelector('.heatmap');
      await expect(page.locator('.heatmap thead th').allTextContents()).resolves.toEqual([
        'token',
        'a',
        'b',
      ]);
      for (const [b, text] of entry.texts.entries()) {
        await page.selectOption('.heatmap-text', String(b));
        await expect(page.locator('.heatmap tbody th').allTextContents()).resolves.toEqual(
          text.tokens,
        );
      }
      await expect(page.locator('.heatmap-site option').allTextContents()).resolves.toEqual([
        'L0/ffn/fusion:f',
        'L1/ffn/fusion:f',
      ]);
      await page.screenshot({ path: `${OUTPUT_DIR}playground-text-fusion.png` });
      expect(errors).toEqual([]);
      await page.close();
    },
  );

  browserIt('runs text on the CPU reference where the browser has no WebGPU', async () => {
    const { page, errors } = await open(false);
    const entry = fixture('bert-seq-cls');
    await loadByUrl(page, 'checkpoints/bert-seq-cls');
    await writeSpec(page, 'model tiny from "bert-seq-cls"\n');
    const shown = await runTexts(
      page,
      entry.texts.map((t) => t.text),
      'cpu',
    );
    entry.texts.forEach((text, b) => expectShown(shown[b]!, text.tokens, text.scores!));
    await expect(page.textContent('#run-result dd')).resolves.toContain('the CPU reference');
    expect(errors).toEqual([]);
    await page.close();
  });

  browserIt('names the missing file when a checkpoint cannot be loaded', async () => {
    const { page, errors } = await open();
    await expect(loadByUrl(page, 'checkpoints/missing')).resolves.toBe(
      'checkpoints/missing/config.json: not found',
    );
    await page.click('.cm-content');
    await page.keyboard.press('Control+A');
    await page.keyboard.insertText('model tiny from "missing"\n');
    const diagnostic = page.locator('.diagnostic[data-code="E0114"]');
    await diagnostic.waitFor({ timeout: 10_000 });
    await expect(diagnostic.textContent()).resolves.toContain('no config.json in "missing"');
    await expect(page.isDisabled('#run')).resolves.toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  });
});
