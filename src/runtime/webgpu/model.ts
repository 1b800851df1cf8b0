import { AdaptRuntimeError, ProgramError, ResourceError } from '../errors.js';
import {
  prepareInputs,
  type ModelInputs,
  type PreparedInputs,
  type RunOptions,
} from '../inputs.js';
import { assertRunFits, formatBytes } from '../memory.js';
import {
  evaluateSize,
  type GpuPlan,
  type Program,
  type WeightPart,
  type WeightSpec,
  type WeightUpload,
} from '../program.js';
import { elementCount, resolveShape } from '../tensor.js';
import { roundUp16 } from './buffer-bytes.js';
import { BufferUsage, MapMode } from './constants.js';
import { formatDuration, withDeadline } from './deadline.js';
import { withErrorScopes, type GpuDevice } from './device.js';
import { dispatchFlat } from './flat-dispatch.js';
import { createKernelPipeline } from './kernel-pipeline.js';
import { gpuWait } from './wait.js';
import { packUpload } from './weight-upload.js';
import { checkWeightWrite, WritableWeights } from '../validate/weight-write.js';

/** The elements of one part of an upload: the weight, or the window of its columns. */
function partLength(part: WeightPart, shape: readonly number[]): number {
  if (!part.columns) return elementCount(shape);
  const width = part.columns[1] - part.columns[0];
  if (shape.length === 1) return width;
  return (part.transpose ? shape[1]! : shape[0]!) * width;
}

/** Per-dispatch times of one forward pass, in the order of the plan's dispatches. */
export interface DispatchProfile {
  readonly method: 'timestamp-query' | 'one dispatch at a time';
  readonly ms: readonly number[];
}

export interface GpuModelStats {
  readonly liveBuffers: number;
  readonly dispatchesPerRun: number;
  readonly kernels: number;
  /** Bytes of the planned activation buffers at the last run's sizes. */
  readonly activationBytes: number;
  readonly weightBytes: number;
}

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}${error.message ? `: ${error.message}` : ''}`;
  return String(error);
}

type RunResult = { data: Float32Array; shape: number[] };
/** Every output of one run, by name, in the program's order. */
export type RunResults = ReadonlyMap<string, RunResult>;

/** Awaits a GPU promise that `start` begins, as gpuWait does. */
export type GpuWaiter = <T>(start: () => Promise<T>) => Promise<T>;

const disposedDuringRun = () =>
  new AdaptRuntimeError('the model was disposed while a run was in progress');

/**
 * The GPU state of one loaded program: weight buffers, pipelines, activation buffers. Runs and
 * profiles may be called concurrently: each waits for its turn on the device (`exclusive`), so
 * one pass owns the buffers from its first write to its last read.
 */
export class GpuModel {
  private readonly buffers = new Set<GPUBuffer>();
  private uploads: GPUBuffer[] = [];
  private pipelines: GPUComputePipeline[] = [];
  private activations: GPUBuffer[] = [];
  private activationBytes: number[] = [];
  private bindGroups: GPUBindGroup[] | undefined;
  private params: GPUBuffer | undefined;
  private staging: GPUBuffer | undefined;
  private generation = -1;
  private weightBytes = 0;
  private lastActivationBytes = 0;
  private disposed = false;
  /** Rejects when the model is disposed, so that runs waiting on the GPU stop waiting. */
  private readonly disposal: Promise<never>;
  private rejectDisposal!: (error: AdaptRuntimeError) => void;

  private readonly weightSpecs: ReadonlyMap<string, WeightSpec>;
  /** The host copy the weight buffers are built from, again after a device loss. */
  private readonly weights: WritableWeights;

  /**
   * How a forward pass waits for its output to be mapped. gpuWait by default; the kernel
   * benchmark sets a plain await on the same model to measure what gentle waiting saves.
   */
  readbackWait: GpuWaiter = gpuWait;

  constructor(
    private readonly gpu: GpuDevice,
    readonly program: Program,
    private readonly plan: GpuPlan,
    weights: ReadonlyMap<string, Float32Array>,
    private readonly onNotice: (message: string) => void,
    private readonly memoryLimitBytes?: number,
  ) {
    this.weights = new WritableWeights(weights);
    this.weightSpecs = new Map(program.weights.map((w) => [w.name, w]));
    const needed = Math.max(...plan.kernels.map((k) => k.storageBindings));
    if (needed > gpu.storageBindingLimit) {
      throw new ProgramError(
        `a kernel of this program needs ${needed} storage buffers, but this device allows ${gpu.storageBindingLimit} per shader`,
      );
    }
    this.disposal = new Promise<never>((_, reject) => (this.rejectDisposal = reject));
    this.disposal.catch(() => {});
  }

  private get device(): GPUDevice {
    return this.gpu.device;
  }

  private createBuffer(size: number, usage: number, label: string): GPUBuffer {
    // A run resumed after dispose() must not allocate what nothing would free.
    if (this.disposed) throw disposedDuringRun();
    const buffer = this.device.createBuffer({ size, usage, label });
    this.buffers.add(buffer);
    return buffer;
  }

  private destroyBuffer(buffer: GPUBuffer | undefined): void {
    if (!buffer) return;
    buffer.destroy();
    this.buffers.delete(buffer);
  }

  /** Uploads the weights once and creates every pipeline, in parallel. */
  initialize(): Promise<void> {
    return this.gpu.exclusive(async () => {
      try {
        await this.build();
      } catch (error) {
        // The caller never gets the model, so nothing else would free what was uploaded.
        this.dispose();
        throw error;
      }
    });
  }

  private async build(): Promise<void> {
    for (const buffer of this.buffers) buffer.destroy();
    this.buffers.clear();
    this.activations = [];
    this.activationBytes = [];
    this.bindGroups = undefined;
    this.staging = undefined;
    await withErrorScopes(this.device, 'uploading weights', () => {
      this.weightBytes = 0;
      this.uploads = this.plan.uploads.map((upload, i) => this.upload(upload, i));
      this.params = this.createBuffer(16, BufferUsage.UNIFORM | BufferUsage.COPY_DST, 'params');
    });
    this.pipelines = await withErrorScopes(this.device, 'creating pipelines', () =>
      gpuWait(() =>
        Promise.all(
          this.plan.kernels.map((kernel) =>
            createKernelPipeline(this.device, kernel.name, kernel.wgsl, kernel.storageBindings),
          ),
        ),
      ),
    );
    await withErrorScopes(this.device, 'computing weights at load', () => this.computeAtLoad());
    this.generation = this.gpu.generation;
  }

  /**
   * Runs the plan's load dispatches once, in one submit, then frees the uploads that only they
   * read (the W_Q that M = W_Kᵀ·W_Q replaces): what forward passes bind stays.
   */
  private async computeAtLoad(): Promise<void> {
    const loads = this.plan.loadDispatches ?? [];
    if (loads.length === 0) return;
    const zeros = new Uint32Array(4);
    this.device.queue.writeBuffer(this.params!, 0, zeros.buffer, 0, 16);
    const encoder = this.device.createCommandEncoder({ label: 'load-time weights' });
    const pass = encoder.beginComputePass({ label: 'load-time weights' });
    for (const dispatch of loads) {
      const pipeline = this.pipelines[dispatch.kernel]!;
      const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: this.params! } }];
      dispatch.args.forEach((arg, i) => {
        if (arg.kind !== 'weights') throw new ProgramError('a load dispatch binds weights only');
        entries.push({ binding: i + 1, resource: { buffer: this.uploads[arg.upload]! } });
      });
      const group = this.device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries,
        label: dispatch.label,
      });
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, group);
      dispatchFlat(pass, evaluateSize(dispatch.groups, 1, 1));
    }
    pass.end();
    this.device.queue.submit([encoder.finish()]);
    await gpuWait(() => this.device.queue.onSubmittedWorkDone());
    const bound = new Set<number>();
    for (const dispatch of this.plan.dispatches)
      for (const arg of dispatch.args) if (arg.kind === 'weights') bound.add(arg.upload);
    const readAtLoadOnly = new Set(
      loads.flatMap((d) => d.args.flatMap((a) => (a.kind === 'weights' ? [a.upload] : []))),
    );
    for (const upload of readAtLoadOnly) {
      if (bound.has(upload)) continue;
      this.weightBytes -= this.uploads[upload]!.size;
      this.destroyBuffer(this.uploads[upload]);
    }
  }

  private upload(upload: WeightUpload, index: number): GPUBuffer {
    if (upload.parts.length === 0) {
      const bytes = roundUp16(4 * (upload.elements ?? 0));
      this.weightBytes += bytes;
      return this.createBuffer(bytes, BufferUsage.STORAGE, `computed weights ${index}`);
    }
    const packed = packUpload(upload, (name) => {
      const data = this.weights.map.get(name);
      const spec = this.weightSpecs.get(name);
      if (!data || !spec) {
        throw new ProgramError(`the GPU plan reads weight '${name}', which was not loaded`);
      }
      return { data, shape: spec.shape };
    });
    const buffer = this.createBuffer(
      packed.byteLength,
      BufferUsage.STORAGE | BufferUsage.COPY_DST,
      `weights ${index}`,
    );
    this.device.queue.writeBuffer(buffer, 0, packed.buffer, packed.byteOffset, packed.byteLength);
    this.weightBytes += packed.byteLength;
    return buffer;
  }

  /**
   * Refuses, before anything is allocated, a run whose activation buffers this device cannot
   * create or bind: the limits are the device's, so the compiler cannot have checked them.
   */
  private assertBindable({ batch, seq }: PreparedInputs): void {
    const limits = this.device.limits;
    const limit = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
    this.plan.buffers.forEach((size, i) => {
      const bytes = roundUp16(4 * evaluateSize(size, batch, seq));
      if (bytes > limit)
        throw new ResourceError(
          `graph '${this.program.graph}' at batch ${batch}, seq ${seq}: activation buffer ${i} needs ${formatBytes(bytes)}; this GPU binds at most ${formatBytes(limit)} per buffer`,
        );
    });
  }

  /** Activation buffers for these sizes: grown when too small, kept otherwise. */
  private ensureActivations(batch: number, seq: number): void {
    let changed = this.activations.length !== this.plan.buffers.length;
    this.lastActivationBytes = 0;
    this.plan.buffers.forEach((size, i) => {
      const bytes = roundUp16(4 * evaluateSize(size, batch, seq));
      this.lastActivationBytes += bytes;
      if ((this.activationBytes[i] ?? 0) >= bytes) return;
      this.destroyBuffer(this.activations[i]);
      this.activations[i] = this.createBuffer(
        bytes,
        BufferUsage.STORAGE | BufferUsage.COPY_DST | BufferUsage.COPY_SRC,
        `activations ${i}`,
      );
      this.activationBytes[i] = bytes;
      changed = true;
    });
    if (changed) this.bindGroups = undefined;
  }

  private bindGroupsFor(): GPUBindGroup[] {
    if (this.bindGroups) return this.bindGroups;
    this.bindGroups = this.plan.dispatches.map((dispatch) => {
      const pipeline = this.pipelines[dispatch.kernel]!;
      const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: this.params! } }];
      dispatch.args.forEach((arg, i) => {
        const buffer =
          arg.kind === 'buffer' ? this.activations[arg.buffer]! : this.uploads[arg.upload]!;
        entries.push({ binding: i + 1, resource: { buffer } });
      });
      return this.device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries,
        label: dispatch.label,
      });
    });
    return this.bindGroups;
  }

  /** Runs once; the program's first output. */
  async run(inputs: ModelInputs, options?: RunOptions): Promise<RunResult> {
    const results = await this.runOutputs(inputs, options);
    return results.values().next().value!;
  }

  /** Runs once; every output of the program, by name. */
  runOutputs(inputs: ModelInputs, options?: RunOptions): Promise<RunResults> {
    return this.schedule(inputs, options, (prepared) => this.runNow(prepared));
  }

  /**
   * Checks the inputs now (copying them, so the caller may reuse its arrays), then runs `work`
   * in turn. The caller stops waiting when the model is disposed or the runtime's timeout passes.
   */
  private async schedule<T>(
    inputs: ModelInputs,
    options: RunOptions | undefined,
    work: (prepared: PreparedInputs) => Promise<T>,
  ): Promise<T> {
    if (this.disposed) throw new AdaptRuntimeError('this model was disposed');
    const prepared = prepareInputs(this.program, inputs, options);
    assertRunFits(this.program, prepared, 'webgpu', this.memoryLimitBytes);
    this.assertBindable(prepared);
    const timeout = this.gpu.runTimeoutMs;
    // A loss reported but not yet recovered from falls to this run too.
    const lossesBefore = this.gpu.losses - (this.gpu.lost === undefined ? 0 : 1);
    const turn = this.gpu.exclusive(async () => {
      try {
        if (this.disposed) throw disposedDuringRun();
        return await work(prepared);
      } catch (error) {
        throw this.disposed ? disposedDuringRun() : error;
      }
    });
    return withDeadline(Promise.race([turn, this.disposal]), timeout, () => {
      const loss = this.gpu.losses !== lossesBefore ? this.gpu.lastLoss : undefined;
      const lost = loss === undefined ? '' : `; the device was lost meanwhile (${loss})`;
      return new AdaptRuntimeError(
        `the GPU run did not finish within ${formatDuration(timeout!)}${lost}`,
      );
    });
  }

  /** One forward pass; a device lost before or during it is replaced and the pass run again. */
  private async runNow(prepared: PreparedInputs): Promise<RunResults> {
    await this.recoverIfLost();
    if (this.generation !== this.gpu.generation) await this.build();
    try {
      return await this.forward(prepared);
    } catch (error) {
      // A device lost while the work was queued fails the work before the loss is reported.
      if (this.disposed || !(await this.gpu.confirmLost())) {
        if (error instanceof AdaptRuntimeError) throw error;
        throw new AdaptRuntimeError(`the GPU run failed: ${describeError(error)}`);
      }
    }
    await this.recoverIfLost();
    await this.build();
    try {
      return await this.forward(prepared);
    } catch (error) {
      if (this.disposed || !(await this.gpu.confirmLost())) throw error;
      throw new AdaptRuntimeError(
        `the GPU device was lost during the run, twice (${this.gpu.lost ?? 'no reason given'})`,
      );
    }
  }

  private async recoverIfLost(): Promise<void> {
    if (this.gpu.lost === undefined) return;
    const reason = this.gpu.lost;
    await this.gpu.recover();
    this.onNotice(`the GPU device was lost (${reason}); created a new one`);
  }

  /** One forward pass: inputs written, every dispatch in one compute pass, one submit, outputs read. */
  private async forward(prepared: PreparedInputs): Promise<RunResults> {
    const { batch, seq } = prepared;
    // Each output at a 16-byte aligned offset of one staging buffer, read back with one map.
    let total = 0;
    const outputs = this.plan.outputs.map((output) => {
      const spec = this.program.outputs.find((io) => io.name === output.name)!;
      const shape = resolveShape(spec.shape, batch, seq);
      const bytes = elementCount(shape) * 4;
      const entry = { ...output, shape, bytes, offset: total };
      total += roundUp16(bytes);
      return entry;
    });
    const results = await withErrorScopes(this.device, 'running the program', async () => {
      const groups = this.stage(prepared);
      if (!this.staging || this.staging.size < total) {
        this.destroyBuffer(this.staging);
        this.staging = this.createBuffer(
          total,
          BufferUsage.MAP_READ | BufferUsage.COPY_DST,
          'output',
        );
      }
      const encoder = this.device.createCommandEncoder({ label: 'forward' });
      const pass = encoder.beginComputePass({ label: 'forward' });
      this.plan.dispatches.forEach((_, i) => this.dispatch(pass, i, groups, batch, seq));
      pass.end();
      const staging = this.staging;
      for (const output of outputs) {
        const source = this.activations[output.buffer]!;
        encoder.copyBufferToBuffer(source, 0, staging, output.offset, roundUp16(output.bytes));
      }
      this.device.queue.submit([encoder.finish()]);
      await this.readbackWait(() => staging.mapAsync(MapMode.READ, 0, total));
      const mapped = staging.getMappedRange(0, total);
      const read = new Map<string, RunResult>();
      for (const output of outputs) {
        const data = new Float32Array(mapped.slice(output.offset, output.offset + output.bytes));
        read.set(output.name, { data, shape: output.shape });
      }
      staging.unmap();
      return read;
    });
    return results;
  }

  /** Sizes the buffers for the run and writes its inputs and params; returns the bind groups. */
  private stage(prepared: PreparedInputs): GPUBindGroup[] {
    const { batch, seq } = prepared;
    this.ensureActivations(batch, seq);
    const queue = this.device.queue;
    for (const input of this.plan.inputs) {
      const value = prepared.values.get(input.name)!;
      queue.writeBuffer(
        this.activations[input.buffer]!,
        0,
        value.buffer,
        value.byteOffset,
        value.byteLength,
      );
    }
    const params = new Uint32Array([batch, seq, batch * seq, 0]);
    queue.writeBuffer(this.params!, 0, params.buffer, 0, 16);
    return this.bindGroupsFor();
  }

  private dispatch(
    pass: GPUComputePassEncoder,
    i: number,
    groups: GPUBindGroup[],
    batch: number,
    seq: number,
  ): void {
    const dispatch = this.plan.dispatches[i]!;
    const count = evaluateSize(dispatch.groups, batch, seq);
    if (count === 0) return;
    pass.setPipeline(this.pipelines[dispatch.kernel]!);
    pass.setBindGroup(0, groups[i]!);
    dispatchFlat(pass, count);
  }

  /**
   * Time of every dispatch of one forward pass, in milliseconds: from timestamp queries where the
   * device has them (each dispatch in a pass of its own), else by submitting one dispatch at a time.
   */
  profile(inputs: ModelInputs, options?: RunOptions): Promise<DispatchProfile> {
    return this.schedule(inputs, options, async (prepared) => {
      await this.runNow(prepared);
      return this.profileNow(prepared);
    });
  }

  private profileNow(prepared: PreparedInputs): Promise<DispatchProfile> {
    const { batch, seq } = prepared;
    const count = this.plan.dispatches.length;
    return withErrorScopes(this.device, 'profiling the program', async () => {
      const groups = this.stage(prepared);
      if (this.device.features.has('timestamp-query')) {
        const resolved = this.createBuffer(
          16 * count,
          BufferUsage.QUERY_RESOLVE | BufferUsage.COPY_SRC,
          'profile timestamps',
        );
        const readable = this.createBuffer(
          16 * count,
          BufferUsage.MAP_READ | BufferUsage.COPY_DST,
          'profile readback',
        );
        const querySet = this.device.createQuerySet({ type: 'timestamp', count: 2 * count });
        try {
          return await this.timestamps(querySet, resolved, readable, groups, batch, seq);
        } finally {
          querySet.destroy();
          this.destroyBuffer(resolved);
          this.destroyBuffer(readable);
        }
      }
      const ms: number[] = [];
      for (let i = 0; i < count; i++) {
        const encoder = this.device.createCommandEncoder();
        const pass = encoder.beginComputePass();
        this.dispatch(pass, i, groups, batch, seq);
        pass.end();
        const start = performance.now();
        this.device.queue.submit([encoder.finish()]);
        await gpuWait(() => this.device.queue.onSubmittedWorkDone());
        ms.push(performance.now() - start);
      }
      return { method: 'one dispatch at a time', ms };
    });
  }

  /** Each dispatch in a compute pass of its own, timed by the GPU's timestamps. */
  private async timestamps(
    querySet: GPUQuerySet,
    resolved: GPUBuffer,
    readable: GPUBuffer,
    groups: GPUBindGroup[],
    batch: number,
    seq: number,
  ): Promise<DispatchProfile> {
    const count = this.plan.dispatches.length;
    const encoder = this.device.createCommandEncoder({ label: 'profile' });
    for (let i = 0; i < count; i++) {
      const pass = encoder.beginComputePass({
        timestampWrites: {
          querySet,
          beginningOfPassWriteIndex: 2 * i,
          endOfPassWriteIndex: 2 * i + 1,
        },
      });
      this.dispatch(pass, i, groups, batch, seq);
      pass.end();
    }
    encoder.resolveQuerySet(querySet, 0, 2 * count, resolved, 0);
    encoder.copyBufferToBuffer(resolved, 0, readable, 0, 16 * count);
    this.device.queue.submit([encoder.finish()]);
    await gpuWait(() => readable.mapAsync(MapMode.READ));
    const stamps = new BigUint64Array(readable.getMappedRange().slice(0));
    readable.unmap();
    const ms = Array.from(
      { length: count },
      (_, i) => Number(stamps[2 * i + 1]! - stamps[2 * i]!) / 1e6,
    );
    return { method: 'timestamp-query', ms };
  }

  /**
   * Writes elements [offset, offset + data.length) of a weight into every upload that holds it
   * as stored, and into the host copy, in turn with runs. A weight the plan holds transposed or
   * as a window of its columns, or reads at load, cannot be written in place: a ProgramError.
   */
  async writeWeights(name: string, offset: number, data: Float32Array): Promise<void> {
    if (this.disposed) throw new AdaptRuntimeError('this model was disposed');
    checkWeightWrite(this.program, name, offset, data);
    const targets = this.uploadsHolding(name);
    const copy = data.slice();
    await this.gpu.exclusive(async () => {
      if (this.disposed) throw new AdaptRuntimeError('this model was disposed');
      this.weights.write(name, offset, copy);
      // A device lost meanwhile rebuilds every buffer from the host copy at the next run.
      if (this.generation !== this.gpu.generation) return;
      for (const { upload, elementOffset } of targets) {
        const buffer = this.uploads[upload]!;
        this.device.queue.writeBuffer(
          buffer,
          4 * (elementOffset + offset),
          copy.buffer,
          0,
          copy.byteLength,
        );
      }
    });
  }

  /** The forward uploads holding weight `name` whole and as stored, with its element offset. */
  private uploadsHolding(name: string): { upload: number; elementOffset: number }[] {
    const refuse = (why: string) =>
      new ProgramError(
        `writeWeights: the GPU plan holds weight '${name}' ${why}; it cannot be written in place`,
      );
    for (const dispatch of this.plan.loadDispatches ?? [])
      for (const arg of dispatch.args)
        if (
          arg.kind === 'weights' &&
          this.plan.uploads[arg.upload]!.parts.some((p) => p.weight === name)
        )
          throw refuse('as an input of a value computed at load');
    const targets: { upload: number; elementOffset: number }[] = [];
    this.plan.uploads.forEach((upload, index) => {
      let elementOffset = 0;
      for (const part of upload.parts) {
        if (part.weight === name) {
          if (part.transpose) throw refuse('transposed');
          if (part.columns) throw refuse('as a window of its columns');
          targets.push({ upload: index, elementOffset });
        }
        elementOffset += partLength(part, this.weightSpecs.get(part.weight)!.shape);
      }
    });
    return targets;
  }

  stats(): GpuModelStats {
    return {
      liveBuffers: this.buffers.size,
      dispatchesPerRun: this.plan.dispatches.length,
      kernels: this.plan.kernels.length,
      activationBytes: this.lastActivationBytes,
      weightBytes: this.weightBytes,
    };
  }

  /** Frees every buffer now; a run in progress or waiting its turn rejects as disposed. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.rejectDisposal(disposedDuringRun());
    for (const buffer of this.buffers) buffer.destroy();
    this.buffers.clear();
    this.bindGroups = undefined;
  }
}
