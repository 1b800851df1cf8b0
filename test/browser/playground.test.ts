import type { Page } from 'playwright-core';
import { describe, expect } from 'vitest';
import { compile } from '../../src/compiler/index.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { inputsFor, playgroundWeights } from '../../examples/web/src/run.js';
import { browserIt, OUTPUT_DIR } from '../helpers/browser.js';
import { relativeError } from '../helpers/numerics.js';
import { servedPlayground } from '../helpers/playground-page.js';

const playground = servedPlayground();

async function open(example: string): Promise<Page> {
  const { page, errors } = await playground.open({ query: `?example=${example}` });
  expect(errors).toEqual([]);
  return page;
}

describe('the playground in headless Chromium', () => {
  browserIt('loads, checks the example clean and draws the graph', async () => {
    const page = await open('bert-base-houlsby.adapt');
    await expect(page.textContent('#tab-diagnostics')).resolves.toContain('No problems');
    await page.click('[data-tab="graph"]');
    await page.waitForSelector('#tab-graph svg');
    await page.click('[data-tab="wgsl"]');
    await expect(page.textContent('#kernel-code')).resolves.toContain('@compute');
    await page.click('[data-tab="params"]');
    await expect(page.textContent('#tab-params')).resolves.toContain('2,379,264');
    await page.close();
  });

  browserIt('runs a fusion example on WebGPU, matching the CPU reference within 1e-4', async () => {
    const page = await open('bert-base-fusion.adapt');
    await page.fill('#seq', '4');
    await page.click('#run');
    await page.waitForFunction(() => window.adaptcRun !== undefined, null, { timeout: 280_000 });
    const result = (await page.evaluate(() => window.adaptcRun)) as {
      relativeError: number;
      head: number[];
      error?: string;
    };
    expect(result.error).toBeUndefined();
    expect(result.relativeError).toBeLessThan(1e-4);
    await page.screenshot({ path: `${OUTPUT_DIR}playground-fusion-run.png` });

    // The same seed in Node's CPU reference gives the same numbers.
    const source =
      (await page.evaluate(() => document.querySelector('.cm-content')!.textContent)) ?? '';
    expect(source).toContain('fusion multitask');
    const reference = compile(
      (await import('node:fs')).readFileSync('examples/bert-base-fusion.adapt', 'utf8'),
      {
        fuse: false,
      },
    ).program!;
    const rt = await Runtime.create({ backend: 'cpu' });
    const expected = await (
      await rt.load(reference, playgroundWeights(reference, 'vivid'))
    ).run(inputsFor(reference, 4));
    expect(relativeError(result.head, expected.hidden_states.data.slice(0, 64))).toBeLessThan(1e-4);
    // The heatmap shows one row per token and one column per adapter.
    await expect(page.locator('.heatmap tbody tr').count()).resolves.toBe(4);
    await expect(page.locator('.heatmap thead th').allTextContents()).resolves.toEqual([
      'token',
      'sentiment',
      'ner',
      'nli',
    ]);
    await page.close();
  });

  browserIt('shows located diagnostics for a broken spec', async () => {
    const page = await open('worked-example.adapt');
    await page.click('.cm-content');
    await page.keyboard.press('Control+A');
    await page.keyboard.insertText(
      'model m {\n  hidden 768\n  heads 10\n  ffn 3072\n  layers 12\n}\n',
    );
    const diagnostic = page.locator('.diagnostic[data-code="E0104"]');
    await diagnostic.waitFor({ timeout: 10_000 });
    await expect(diagnostic.textContent()).resolves.toContain(
      'playground.adapt:3:9: error[E0104]: heads (10) must divide hidden (768)',
    );
    await expect(page.isDisabled('#run')).resolves.toBe(true);
    await page.screenshot({ path: `${OUTPUT_DIR}playground-diagnostics.png` });
    await page.close();
  });
});
