import { cpSync, existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { PLAYGROUND_FOLDER } from '../../src/cli/commands/playground.js';
import { serveFolder, type RunningServer } from '../../src/cli/static-server.js';
import { compile } from '../../src/compiler/index.js';
import { maxTokens, textInputs } from '../../src/runtime/index.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { loadSavedDirectory } from '../../examples/web/src/adapterhub-directory.js';
import { loadCheckpoint } from '../../examples/web/src/checkpoint.js';
import type { CheckpointSource } from '../../examples/web/src/checkpoint-source.js';
import { savedWeightsFor } from '../../examples/web/src/saved-weights.js';
import {
  readSpecFile,
  useCheckpoint,
  useSavedDirectories,
} from '../../examples/web/src/spec-files.js';
import {
  browserIt,
  CHROMIUM,
  launchChromium,
  OUTPUT_DIR,
  playgroundFolderWith,
} from '../helpers/browser.js';

// The playground with AdapterHub directories beside it, fetched by URL relative to the page.

const ROOT = 'test/fixtures/adapterhub';
// bert-tiny's vocabulary is the first 40 entries of this tokenizer's; the texts use only those.
const TOKENIZER = 'test/fixtures/hf/bert-seq-cls';
const TEXTS = ['the movie was great!', 'i love this film.'];
const SPEC = readFileSync(join(ROOT, 'specs/seq-bn-head.adapt'), 'utf8');
const LABELS = ['neg', 'neu', 'pos'];

let folder: string | undefined;
let server: RunningServer | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  if (!existsSync(`${PLAYGROUND_FOLDER}index.html`))
    throw new Error('dist/web is missing: run `npm run build`');
  folder = playgroundFolderWith([
    { from: `${ROOT}/bert-tiny`, to: 'checkpoints/bert-tiny' },
    { from: `${TOKENIZER}/tokenizer.json`, to: 'checkpoints/bert-tiny/tokenizer.json' },
    {
      from: `${TOKENIZER}/tokenizer_config.json`,
      to: 'checkpoints/bert-tiny/tokenizer_config.json',
    },
    { from: `${ROOT}/seq-bn-head`, to: 'adapterhub/seq-bn-head' },
    { from: `${ROOT}/seq-bn-head/sentiment`, to: 'adapterhub/both' },
  ]);
  cpSync(
    `${ROOT}/double-seq-bn-bin/houlsby/pytorch_adapter.bin`,
    join(folder, 'adapterhub/both/pytorch_adapter.bin'),
  );
  server = await serveFolder(folder, 0);
  if (existsSync(CHROMIUM)) browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

async function open(webgpu = false): Promise<{ page: Page; errors: string[] }> {
  const page = await browser!.newPage({ viewport: { width: 1400, height: 900 } });
  // A browser without WebGPU runs text on the CPU reference.
  if (!webgpu) await page.addInitScript(() => Object.defineProperty(navigator, 'gpu', {}));
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(server!.url);
  await page.waitForSelector('body[data-ready=true]', { timeout: 60_000 });
  return { page, errors };
}

async function load(page: Page, checkpoint: string, saved: string): Promise<string> {
  await page.fill('#checkpoint-url', checkpoint);
  await page.fill('#extra-weights-url', '');
  await page.fill('#adapterhub-url', saved);
  await page.click('#checkpoint-load');
  await page.waitForSelector('#checkpoint-status:is([data-state=loaded], [data-state=failed])');
  return (await page.textContent('#checkpoint-status')) ?? '';
}

/** A directory's files, and single files beside them (the tokenizer). */
function memorySource(dir: string, path: string, extra: readonly string[] = []): CheckpointSource {
  const files = new Map<string, Uint8Array>();
  for (const name of readdirSync(path)) files.set(name, readFileSync(join(path, name)));
  for (const file of extra) files.set(file.slice(file.lastIndexOf('/') + 1), readFileSync(file));
  return {
    dir,
    read: async (name) => files.get(name),
    has: async (name) => files.has(name),
  };
}

/** The scores by label for each text, from the page's functions run on the CPU in Node. */
async function scoresInNode(): Promise<Record<string, number>[]> {
  const checkpoint = await loadCheckpoint(
    memorySource('bert-tiny', `${ROOT}/bert-tiny`, [
      `${TOKENIZER}/tokenizer.json`,
      `${TOKENIZER}/tokenizer_config.json`,
    ]),
  );
  useCheckpoint(checkpoint);
  useSavedDirectories([
    await loadSavedDirectory(memorySource('sentiment', `${ROOT}/seq-bn-head/sentiment`)),
    await loadSavedDirectory(memorySource('sentiment-head', `${ROOT}/seq-bn-head/sentiment-head`)),
  ]);
  const compiled = compile(SPEC, { fuse: false, target: 'software', readFile: readSpecFile });
  const program = compiled.program!;
  const runtime = await Runtime.create({ backend: 'cpu' });
  const loaded = await runtime.load(program, [
    checkpoint.tensors,
    ...savedWeightsFor(compiled.model!, 'default'),
  ]);
  const text = program.model.text!;
  const encoded = checkpoint.tokenizer!.encodeBatch(TEXTS, {
    maxLength: maxTokens(text),
    ...(text.padId === undefined ? {} : { padId: text.padId }),
  });
  const logits = (await loaded.run(textInputs(program, encoded))).logits!.data;
  loaded.dispose();
  return TEXTS.map((_, b) => {
    const row = [...logits.slice(b * LABELS.length, (b + 1) * LABELS.length)];
    const max = Math.max(...row);
    const sum = row.reduce((s, v) => s + Math.exp(v - max), 0);
    return Object.fromEntries(LABELS.map((l, i) => [l, Math.exp(row[i]! - max) / sum]));
  });
}

/** Loads the fixture by URL, runs its texts and checks the scores against Node's CPU run. */
async function runSeqBnHead(backend: 'cpu' | 'webgpu'): Promise<void> {
  const { page, errors } = await open(backend === 'webgpu');
  const status = await load(
    page,
    'checkpoints/bert-tiny',
    'adapterhub/seq-bn-head/sentiment, adapterhub/seq-bn-head/sentiment-head',
  );
  expect(status).toContain('loaded checkpoints/bert-tiny');
  expect(status).toContain('adapterhub/seq-bn-head/sentiment: adapter (8 tensors)');
  expect(status).toContain('adapterhub/seq-bn-head/sentiment-head: head (4 tensors)');
  await page.click('.cm-content');
  await page.keyboard.press('Control+A');
  await page.keyboard.insertText(SPEC);
  await page.waitForSelector('#texts', { state: 'visible', timeout: 10_000 });
  await page.waitForSelector('#run:not([disabled])');
  await page.fill('#texts', TEXTS.join('\n'));
  await page.evaluate(() => delete window.adaptcRun);
  await page.click('#run');
  await page.waitForFunction(() => window.adaptcRun !== undefined, null, { timeout: 120_000 });
  const run = (await page.evaluate(() => window.adaptcRun)) as {
    error?: string;
    backend?: string;
    relativeError?: number;
    seeded?: string[];
    predictions?: { labels?: { label: string; score: number }[] }[];
  };
  expect(run.error).toBeUndefined();
  expect(run.seeded).toEqual([]);
  expect(run.backend).toBe(backend);
  if (backend === 'webgpu') expect(run.relativeError).toBeLessThan(1e-4);
  const expected = await scoresInNode();
  expect(run.predictions).toHaveLength(TEXTS.length);
  run.predictions!.forEach((prediction, b) => {
    expect(prediction.labels!.map((l) => l.label).sort()).toEqual(LABELS);
    for (const { label, score } of prediction.labels!)
      expect(Math.abs(score - expected[b]![label]!), label).toBeLessThan(1e-4);
  });
  await page.screenshot({ path: `${OUTPUT_DIR}playground-adapterhub-${backend}.png` });
  expect(errors).toEqual([]);
  await page.close();
}

describe('the playground with AdapterHub directories, in headless Chromium', () => {
  browserIt(
    'loads an adapter and its head by URL and runs them on text, every weight from their files',
    async () => {
      for (const backend of ['cpu', 'webgpu'] as const) await runSeqBnHead(backend);
    },
  );

  browserIt(
    'names the directory it cannot load: both weights files, or no AdapterHub config',
    async () => {
      const { page, errors } = await open();
      await expect(load(page, '', 'adapterhub/both')).resolves.toBe(
        'adapterhub/both: holds both adapter.safetensors and pytorch_adapter.bin; keep the one the adapter was saved as',
      );
      await expect(load(page, '', 'adapterhub/missing')).resolves.toBe(
        'adapterhub/missing: not an AdapterHub directory: it holds none of adapter_config.json, head_config.json, adapter_fusion_config.json',
      );
      expect(errors).toEqual([]);
      await page.close();
    },
  );
});
