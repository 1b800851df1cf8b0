/**
 * The Chromium peer: a page in headless Chromium (WebGPU on its bundled SwiftShader) that runs
 * onnxruntime-web's WebGPU execution provider and adaptc's runtime bundle side by side
 * (bench/peers/chromium-page.ts). The bundles are built from this checkout's sources, so the page
 * runs the same adaptc as Node. Where Chromium cannot be launched, the outcome says why.
 */
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { chromium } from 'playwright-core';
import { summarizeTimes, type Timing } from '../../src/cli/bench/measure.js';
import { serveFolder } from '../../src/cli/static-server.js';
import { repositoryRoot } from '../kernels/root.js';
import { sumAsAdds } from '../onnx-runners.js';
import { benchInPage, type PageArgs } from './chromium-page.js';
import type { ChromiumRounds } from './chromium-rows.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags as the browser tests launch it: WebGPU on SwiftShader, nothing reaching the network. */
const CHROMIUM_ARGS = [
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-angle=swiftshader',
  '--no-sandbox',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
];

export interface ChromiumGroup {
  readonly name: string;
  readonly source: string;
  readonly fileName: string;
  readonly base: boolean;
  /** The same graph exported to ONNX with the same weights. */
  readonly onnx: Uint8Array;
  readonly rounds: ChromiumRounds;
}

export interface ChromiumGroupResult {
  readonly name: string;
  readonly adaptc: Timing;
  readonly ort: Timing;
  readonly relative_difference: number;
}

export type ChromiumOutcome =
  | {
      readonly ok: true;
      readonly browser: string;
      readonly adapter: string;
      readonly profile: string;
      readonly groups: ChromiumGroupResult[];
    }
  | { readonly ok: false; readonly reason: string };

export interface ChromiumSettings {
  readonly batch: number;
  readonly seq: number;
  /** Milliseconds the page may take for all groups. */
  readonly timeoutMs: number;
}

const require = createRequire(import.meta.url);

/**
 * The page's folder: the runtime and compiler bundled from src/ for the browser, ORT-web's WebGPU
 * build and its wasm (the asyncify build its WebGPU EP loads), the ONNX files. ORT's `.mjs` files are served as `.js`, whose type the
 * static server knows.
 */
async function pageFolder(groups: readonly ChromiumGroup[]): Promise<string> {
  const folder = mkdtempSync(join(tmpdir(), 'adaptc-bench-page-'));
  const root = repositoryRoot();
  const pluginModule = pathToFileURL(join(root, 'scripts/esbuild-chevrotain.mjs')).href;
  const { chevrotainPackage } = (await import(pluginModule)) as { chevrotainPackage: Plugin };
  for (const [entry, out] of [
    ['src/runtime/index.ts', 'adaptc-runtime.js'],
    ['src/compiler/index.ts', 'adaptc-compiler.js'],
  ] as const) {
    await build({
      entryPoints: [join(root, entry)],
      outfile: join(folder, out),
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      logLevel: 'error',
      plugins: [chevrotainPackage],
    });
  }
  const ortDist = dirname(require.resolve('onnxruntime-web'));
  copyFileSync(join(ortDist, 'ort.webgpu.min.mjs'), join(folder, 'ort-webgpu.js'));
  copyFileSync(
    join(ortDist, 'ort-wasm-simd-threaded.asyncify.mjs'),
    join(folder, 'ort-asyncify.js'),
  );
  copyFileSync(
    join(ortDist, 'ort-wasm-simd-threaded.asyncify.wasm'),
    join(folder, 'ort-asyncify.wasm'),
  );
  for (const group of groups) {
    writeFileSync(join(folder, `${group.name}.onnx`), sumAsAdds(group.onnx) ?? group.onnx);
  }
  writeFileSync(join(folder, 'index.html'), '<!doctype html><title>adaptc bench</title>\n');
  return folder;
}

/** The first line of an error, for a table cell. */
function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]!.slice(0, 200);
}

export async function benchInChromium(
  groups: readonly ChromiumGroup[],
  settings: ChromiumSettings,
): Promise<ChromiumOutcome> {
  if (groups.length === 0) return { ok: false, reason: 'no row chosen by BENCH_CHROMIUM' };
  if (!existsSync(CHROMIUM)) return { ok: false, reason: `no Chromium at ${CHROMIUM}` };
  let folder: string | undefined;
  let server: Awaited<ReturnType<typeof serveFolder>> | undefined;
  let browser: Awaited<ReturnType<typeof chromium.launch>> | undefined;
  try {
    folder = await pageFolder(groups);
    server = await serveFolder(folder, 0, () => {});
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.setDefaultTimeout(settings.timeoutMs);
    const base = server.url.endsWith('/') ? server.url : `${server.url}/`;
    await page.goto(`${base}index.html`);
    const args: PageArgs = {
      groups: groups.map((g) => ({
        name: g.name,
        source: g.source,
        fileName: g.fileName,
        base: g.base,
        onnxUrl: `${base}${g.name}.onnx`,
        warmup: g.rounds.warmup,
        iters: g.rounds.iters,
      })),
      batch: settings.batch,
      seq: settings.seq,
      urls: {
        runtime: `${base}adaptc-runtime.js`,
        compiler: `${base}adaptc-compiler.js`,
        ort: `${base}ort-webgpu.js`,
        ortMjs: `${base}ort-asyncify.js`,
        ortWasm: `${base}ort-asyncify.wasm`,
      },
    };
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(
        () => reject(new Error(`the page took over ${settings.timeoutMs / 1000} s`)),
        settings.timeoutMs,
      ).unref(),
    );
    const result = await Promise.race([page.evaluate(benchInPage, args), timeout]);
    if (errors.length > 0) return { ok: false, reason: `page error: ${errors[0]}` };
    return {
      ok: true,
      browser: `Chromium ${browser.version()} headless`,
      adapter: result.adapter,
      profile: result.profile,
      groups: result.groups.map((g) => ({
        name: g.name,
        adaptc: summarizeTimes(g.adaptcSamples),
        ort: summarizeTimes(g.ortSamples),
        relative_difference: g.relativeDifference,
      })),
    };
  } catch (error) {
    return { ok: false, reason: reasonOf(error) };
  } finally {
    await browser?.close();
    await server?.close();
    if (folder) rmSync(folder, { recursive: true, force: true });
  }
}
