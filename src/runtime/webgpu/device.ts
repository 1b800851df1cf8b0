import { AdaptRuntimeError } from '../errors.js';
import { acquireGpu, describeAdapter, type AdapterDescription } from './acquire.js';
import { gpuWait } from './wait.js';

/**
 * One WebGPU device and what is known about it. If the device is lost while in use, `recover`
 * asks for a new one; models rebuild their GPU state on it at their next run.
 */
export class GpuDevice {
  device!: GPUDevice;
  adapter!: AdapterDescription;
  /** Bumped each time a new device replaces a lost one. */
  generation = 0;
  lost: string | undefined;
  private disposed = false;

  private constructor(private readonly gpu: GPU) {}

  static async create(given?: GPU): Promise<GpuDevice> {
    const device = new GpuDevice(await acquireGpu(given));
    await device.open();
    return device;
  }

  private async open(): Promise<void> {
    const adapter = await gpuWait(() => this.gpu.requestAdapter());
    if (!adapter) throw new AdaptRuntimeError('no WebGPU adapter is available');
    this.adapter = describeAdapter(adapter);
    const limits = adapter.limits;
    this.device = await gpuWait(() =>
      adapter.requestDevice({
        // Timestamps let `adapt bench --profile` time each dispatch; nothing else needs them.
        requiredFeatures: adapter.features.has('timestamp-query') ? ['timestamp-query'] : [],
        requiredLimits: {
          maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
          maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
          maxBufferSize: limits.maxBufferSize,
        },
      }),
    );
    const device = this.device;
    void device.lost.then((info) => {
      if (this.disposed || device !== this.device) return;
      this.lost = `${info.reason}${info.message ? `: ${info.message}` : ''}`;
    });
  }

  /** Whether the device is lost, waiting briefly for a loss that is not reported yet. */
  async confirmLost(): Promise<boolean> {
    if (this.lost !== undefined) return true;
    const reported = this.device.lost.then(() => true);
    const quiet = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 100));
    return (await Promise.race([reported, quiet])) && this.lost !== undefined;
  }

  /** A new device after a loss; the caller rebuilds its buffers and pipelines on it. */
  async recover(): Promise<void> {
    await this.open();
    this.lost = undefined;
    this.generation++;
  }

  get storageBindingLimit(): number {
    return this.device.limits.maxStorageBuffersPerShaderStage;
  }

  dispose(): void {
    this.disposed = true;
    this.device.destroy();
  }
}

/**
 * Runs `work` inside validation and out-of-memory error scopes; a GPU error becomes one clear
 * throw (it explains more than whatever `work` itself threw because of it).
 */
export async function withErrorScopes<T>(
  device: GPUDevice,
  what: string,
  work: () => T | Promise<T>,
): Promise<T> {
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  let outcome: { value: T } | { error: unknown };
  try {
    outcome = { value: await work() };
  } catch (error) {
    outcome = { error };
  }
  const validation = await gpuWait(() => device.popErrorScope());
  const memory = await gpuWait(() => device.popErrorScope());
  if (memory) throw new AdaptRuntimeError(`out of GPU memory while ${what}: ${memory.message}`);
  if (validation)
    throw new AdaptRuntimeError(`GPU validation error while ${what}: ${validation.message}`);
  if ('error' in outcome) throw outcome.error;
  return outcome.value;
}
