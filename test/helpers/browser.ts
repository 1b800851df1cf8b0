import { cpSync, existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { it } from 'vitest';
import { PLAYGROUND_FOLDER } from '../../src/cli/commands/playground.js';
import { requireGpu } from './gpu.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const OUTPUT_DIR = new URL('../../test-output/', import.meta.url).pathname;

/**
 * Headless Debian Chromium with WebGPU on its bundled SwiftShader (docs/design.md §6). The flags keep
 * it from reaching for the network, which is closed here.
 */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--enable-unsafe-webgpu',
      '--enable-features=Vulkan',
      '--use-angle=swiftshader',
      '--no-sandbox',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
    ],
  });
}

/** `it` for browser tests: skipped without Chromium, failed without it under ADAPT_REQUIRE_GPU=1. */
export function browserIt(name: string, body: () => Promise<void>, timeout = 300_000): void {
  it(
    name,
    async (context) => {
      if (!existsSync(CHROMIUM)) {
        if (requireGpu)
          throw new Error(`ADAPT_REQUIRE_GPU=1 but Chromium is missing at ${CHROMIUM}`);
        context.skip(`no Chromium at ${CHROMIUM}`);
      }
      mkdirSync(OUTPUT_DIR, { recursive: true });
      await body();
    },
    timeout,
  );
}

/**
 * A temporary folder to serve: the built playground with extra files beside it (a checkpoint
 * directory, weight files), each copied from `from` in the repository to `to` under the folder.
 */
export function playgroundFolderWith(files: readonly { from: string; to: string }[]): string {
  const folder = mkdtempSync(join(tmpdir(), 'adaptc-playground-'));
  cpSync(PLAYGROUND_FOLDER, folder, { recursive: true });
  for (const { from, to } of files) cpSync(from, join(folder, to), { recursive: true });
  return folder;
}
