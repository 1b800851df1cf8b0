import { GpuDevice } from '../../src/runtime/webgpu/device.js';

let shared: Promise<GpuDevice> | undefined;

/** One device for a test file's trainers: creating one costs time, and Dawn keeps one per process. */
export function sharedDevice(): Promise<GpuDevice> {
  shared ??= GpuDevice.create();
  return shared;
}

export async function disposeSharedDevice(): Promise<void> {
  if (!shared) return;
  const device = await shared.catch(() => undefined);
  device?.dispose();
  shared = undefined;
}
