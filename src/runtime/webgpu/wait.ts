/**
 * Waiting for the GPU without burning a core. Dawn's Node binding polls for finished work by
 * re-arming itself with the global `setImmediate` while any of its promises is pending, which
 * keeps one core busy and starves lavapipe's worker threads (docs/design.md §6). It looks the function
 * up on every tick, so while we wait we swap in one that spins for a moment (short waits stay
 * short) and then polls on a timer.
 */

const SPIN_MS = 0.5;
const POLL_MS = 1;

let waiting = 0;
let original: typeof globalThis.setImmediate | undefined;

function install(): void {
  if (waiting++ > 0 || typeof globalThis.setImmediate !== 'function') return;
  original = globalThis.setImmediate;
  const start = performance.now();
  const gentle = ((callback: (...args: unknown[]) => void, ...args: unknown[]) => {
    if (performance.now() - start < SPIN_MS) return original!(callback, ...args);
    return setTimeout(callback, POLL_MS, ...args);
  }) as unknown as typeof globalThis.setImmediate;
  globalThis.setImmediate = gentle;
}

function uninstall(): void {
  if (--waiting > 0 || original === undefined) return;
  globalThis.setImmediate = original;
  original = undefined;
}

/** Awaits a GPU promise with gentle polling. In a browser there is nothing to swap. */
export async function gpuWait<T>(start: () => Promise<T>): Promise<T> {
  install();
  try {
    return await start();
  } finally {
    uninstall();
  }
}
