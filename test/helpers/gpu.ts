import { it } from 'vitest';
import { Runtime } from '../../src/runtime/runtime.js';

/**
 * GPU tests run where a WebGPU adapter exists (Dawn on lavapipe here). Without one they are
 * skipped, unless ADAPT_REQUIRE_GPU=1 (as in CI), where they fail instead.
 */
export const requireGpu = process.env.ADAPT_REQUIRE_GPU === '1';

let probe: Promise<string | undefined> | undefined;

/** Why no GPU is usable here, or undefined when one is. */
export function gpuUnavailable(): Promise<string | undefined> {
  probe ??= Runtime.create({ backend: 'webgpu' })
    .then((rt) => {
      rt.dispose();
      return undefined;
    })
    .catch((error: unknown) => (error instanceof Error ? error.message : String(error)));
  return probe;
}

/** `it` for tests that need a GPU: skipped without one, failed without one under ADAPT_REQUIRE_GPU=1. */
export function gpuIt(name: string, body: () => Promise<void>, timeout = 600_000): void {
  it(
    name,
    async (context) => {
      const reason = await gpuUnavailable();
      if (reason !== undefined) {
        if (requireGpu) throw new Error(`ADAPT_REQUIRE_GPU=1 but no WebGPU adapter: ${reason}`);
        context.skip(`no WebGPU adapter: ${reason}`);
      }
      await body();
    },
    timeout,
  );
}

/** One runtime per test file: creating a device costs time, and Dawn keeps one per process anyway. */
export async function gpuRuntime(notices: string[] = []): Promise<Runtime> {
  return Runtime.create({ backend: 'webgpu', onNotice: (n) => notices.push(n) });
}
