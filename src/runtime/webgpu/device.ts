import { AdaptRuntimeError } from '../errors.js';
import { acquireGpu, describeAdapter, type AdapterDescription } from './acquire.js';
import { gpuWait } from './wait.js';

/**
 * One WebGPU device and what is known about it. If the device is lost while in use, `recover`
 * asks for a new one; models rebuild their GPU state on it at their next run. GPU work of every
 * model on the device runs one call at a time, in call order (`exclusive`).
 */
export class GpuDevice {
  device!: GPUDevice;
  adapter!: AdapterDescription;
  /** Bumped each time a new device replaces a lost one. */
  generation = 0;
  /** Dawn's reason for the loss not yet recovered from. */
  lost: string | undefined;
  /** How many losses were reported, and the reason of the last one. */
  losses = 0;
  lastLoss: string | undefined;
  private disposed = false;
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly gpu: GPU,
    /**
     * How long a run may take, in milliseconds, from its call (waiting behind earlier runs
     * included) to its result; undefined: as long as the GPU takes.
     */
    public runTimeoutMs: number | undefined,
  ) {}

  static async create(given?: GPU, runTimeoutMs?: number): Promise<GpuDevice> {
    const device = new GpuDevice(await acquireGpu(given), runTimeoutMs);
    await device.open();
    return device;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /**
   * Runs `work` once all GPU work queued before it has settled. Error scopes are one stack per
   * device, and a model resizes, binds and maps its buffers between awaits, so the work of
   * concurrent calls must not interleave; the GPU queue runs one pass at a time anyway.
   */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(work);
    this.tail = result.catch(() => undefined);
    return result;
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
    if (this.disposed) {
      // The runtime was disposed while this device was being opened for a recovery.
      device.destroy();
      throw new AdaptRuntimeError('this runtime was disposed');
    }
    void device.lost.then((info) => {
      if (this.disposed || device !== this.device) return;
      this.lost = `${info.reason}${info.message ? `: ${info.message}` : ''}`;
      this.lastLoss = this.lost;
      this.losses++;
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
    if (this.disposed) throw new AdaptRuntimeError('this runtime was disposed');
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
