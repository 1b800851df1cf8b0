import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { it } from 'vitest';
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
