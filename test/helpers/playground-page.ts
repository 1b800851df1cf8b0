import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { PLAYGROUND_FOLDER } from '../../src/cli/commands/playground.js';
import { serveFolder, type RunningServer } from '../../src/cli/static-server.js';
import { CHROMIUM, launchChromium } from './browser.js';

export interface PlaygroundPage {
  readonly page: Page;
  /** The page's uncaught errors, as they come. */
  readonly errors: string[];
}

export interface OpenOptions {
  /** After the URL, such as `?example=NAME`. */
  readonly query?: string;
  /** Runs before the page loads (an init script). */
  readonly beforeLoad?: (page: Page) => Promise<unknown>;
}

/**
 * The built playground served and headless Chromium launched for a test file's tests (its
 * beforeAll and afterAll): `open` gives a new page once the playground is ready.
 */
export function servedPlayground(): { open(options?: OpenOptions): Promise<PlaygroundPage> } {
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    if (!existsSync(`${PLAYGROUND_FOLDER}index.html`))
      throw new Error('dist/web is missing: run `npm run build`');
    server = await serveFolder(PLAYGROUND_FOLDER, 0);
    if (existsSync(CHROMIUM)) browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });
  return {
    async open(options = {}) {
      const page = await browser!.newPage({ viewport: { width: 1400, height: 900 } });
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await options.beforeLoad?.(page);
      await page.goto(`${server!.url}${options.query ?? ''}`);
      await page.waitForSelector('body[data-ready=true]', { timeout: 60_000 });
      return { page, errors };
    },
  };
}
