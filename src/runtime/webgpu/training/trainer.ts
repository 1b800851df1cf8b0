import type {
  TrainingBinding,
  TrainingDispatch,
  TrainingPlan,
} from '../../../compiler/training/index.js';
import { AdaptRuntimeError, ResourceError } from '../../errors.js';
import { formatBytes } from '../../memory.js';
import { evaluateSize } from '../../program.js';
import type {
  BatchLoss,
  OptimizerTensorState,
  StepSettings,
  TrainingBackend,
  TrainingBatch,
  TrainingSetup,
} from '../../training/backend.js';
import { roundUp16 } from '../buffer-bytes.js';
import { BufferUsage, MapMode } from '../constants.js';
import { withErrorScopes } from '../device.js';
import { dispatchFlat } from '../flat-dispatch.js';
import { createKernelPipeline } from '../kernel-pipeline.js';
import { gpuWait } from '../wait.js';
import { packUpload } from '../weight-upload.js';
import { adamwHyper } from './hyper.js';
import { checkLabels } from './labels.js';
import { SizedBuffers } from './sized-buffers.js';
import { plannedBytes, type TrainingMemory } from './planned-bytes.js';

interface TrainedBuffers {
  readonly param: GPUBuffer;
  readonly grad: GPUBuffer;
  readonly moments: GPUBuffer;
  readonly hyper: GPUBuffer;
}

/**
 * One training setup on a WebGPU device: the plan's kernels, the weight uploads, the trained
 * tensors with their gradients and AdamW's moments, and the buffers of one step. Every step is
 * one submit; only the loss and the logits come back. A step runs the plan's training forward
 * pass (with its dropout), an evaluation the plain one.
 */
export class WebGpuTrainer implements TrainingBackend {
  readonly name = 'webgpu';
  private pipelines: GPUComputePipeline[] = [];
  private uploads: GPUBuffer[] = [];
  private trainedBuffers: TrainedBuffers[] = [];
  private readonly activations: SizedBuffers;
  private readonly gradients: SizedBuffers;
  private labels: GPUBuffer | undefined;
  private labelBytes = 0;
  private readonly params: GPUBuffer;
  private readonly loss: GPUBuffer;
  /** The run's seed and the step's number, [seed, step, 0, 0] u32, that the dropout kernels read. */
  private readonly dropout: GPUBuffer;
  private readonly steps: number[];
  /** What a training step dispatches, and what an evaluation does: fixed by the plan. */
  private readonly stepDispatches: readonly TrainingDispatch[];
  private readonly evaluateDispatches: readonly TrainingDispatch[];
  private bindGroups = new Map<TrainingDispatch, GPUBindGroup>();
  private disposed = false;
  /** Why the device was lost, once it was: its buffers, the trained weights among them, are gone. */
  private lost: string | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly device: GPUDevice,
    readonly plan: TrainingPlan,
    private readonly setup: TrainingSetup,
    private readonly onDispose: () => void = () => {},
  ) {
    void device.lost.then((info) => {
      this.lost = `${info.reason}${info.message ? `: ${info.message}` : ''}`;
    });
    this.evaluateDispatches = [...plan.forward, ...plan.loss];
    this.stepDispatches = [...plan.trainForward, ...plan.loss, ...plan.backward, ...plan.update];
    this.activations = new SizedBuffers(device, plan.activations, 'activations');
    this.gradients = new SizedBuffers(device, plan.gradients, 'gradients');
    this.params = device.createBuffer({
      size: 16,
      usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST,
      label: 'params',
    });
    this.loss = device.createBuffer({
      size: 16,
      usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC,
      label: 'loss',
    });
    this.dropout = device.createBuffer({
      size: 16,
      usage: BufferUsage.STORAGE | BufferUsage.COPY_DST,
      label: 'dropout seed and step',
    });
    this.steps = plan.trained.map((t) => setup.optimizerState?.get(t.name)?.step ?? 0);
  }

  /** Uploads the weights and the optimizer state, and builds every pipeline. */
  async initialize(): Promise<void> {
    const shapes = new Map(this.setup.program.weights.map((w) => [w.name, w.shape]));
    const weight = (name: string) => {
      const data = this.setup.weights.get(name);
      const shape = shapes.get(name);
      if (!data || !shape) throw new Error(`no value for weight '${name}'`);
      return { data, shape };
    };
    await withErrorScopes(this.device, 'uploading the weights', () => {
      this.uploads = this.plan.uploads.map((upload, i) =>
        this.storage(packUpload(upload, weight), `weights ${i}`),
      );
      this.trainedBuffers = this.plan.trained.map((t) => {
        const value = this.setup.weights.get(t.name);
        if (!value || value.length !== t.elements) {
          throw new AdaptRuntimeError(
            `no value of ${t.elements} elements for trained weight '${t.name}'`,
          );
        }
        const state = this.setup.optimizerState?.get(t.name);
        const moments = new Float32Array(2 * t.elements);
        if (state) {
          if (state.expAvg.length !== t.elements || state.expAvgSq.length !== t.elements) {
            throw new AdaptRuntimeError(
              `the optimizer state of '${t.name}' has ${state.expAvg.length} and ${state.expAvgSq.length} elements, the weight ${t.elements}`,
            );
          }
          moments.set(state.expAvg, 0);
          moments.set(state.expAvgSq, t.elements);
        }
        return {
          param: this.storage(value, `${t.name}`),
          grad: this.storage(new Float32Array(t.elements), `${t.name} gradient`),
          moments: this.storage(moments, `${t.name} moments`),
          hyper: this.storage(new Float32Array(8), `${t.name} AdamW`),
        };
      });
    });
    this.pipelines = await withErrorScopes(this.device, 'creating the training pipelines', () =>
      gpuWait(() =>
        Promise.all(
          this.plan.kernels.map((k) =>
            createKernelPipeline(this.device, k.name, k.wgsl, k.storageBindings),
          ),
        ),
      ),
    );
  }

  private storage(data: Float32Array, label: string): GPUBuffer {
    const buffer = this.device.createBuffer({
      size: roundUp16(data.byteLength),
      usage: BufferUsage.STORAGE | BufferUsage.COPY_DST | BufferUsage.COPY_SRC,
      label,
    });
    this.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    return buffer;
  }

  /** The GPU memory a step at batch B and sequence length T takes, as planned. */
  plannedMemory(batch: number, seq: number): TrainingMemory {
    return plannedBytes(this.plan, batch, seq);
  }

  private lostError(): AdaptRuntimeError {
    return new AdaptRuntimeError(
      `the GPU device was lost (${this.lost}), and with it the trained weights since the last checkpoint; resume from it`,
    );
  }

  /** Runs GPU work one call at a time, in call order; after a device loss, none. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    if (this.disposed) return Promise.reject(new AdaptRuntimeError('this trainer was disposed'));
    const result = this.queue.then(() => {
      if (this.lost !== undefined) throw this.lostError();
      return work().catch((error: unknown) => {
        throw this.lost !== undefined ? this.lostError() : error;
      });
    });
    this.queue = result.catch(() => undefined);
    return result;
  }

  step(batch: TrainingBatch, settings: StepSettings): Promise<BatchLoss> {
    return this.exclusive(() => this.run(batch, settings));
  }

  evaluate(batch: TrainingBatch): Promise<BatchLoss> {
    return this.exclusive(() => this.run(batch, undefined));
  }

  private labelRows(batch: TrainingBatch): number {
    const { batch: b, seq } = batch.inputs;
    return this.plan.output.rows === 'token' ? b * seq : b;
  }

  /** One forward pass and loss, and with settings the backward pass and AdamW: one submit. */
  private async run(batch: TrainingBatch, settings: StepSettings | undefined): Promise<BatchLoss> {
    const { batch: b, seq } = batch.inputs;
    const rows = this.labelRows(batch);
    const { classes } = this.plan.output;
    checkLabels(
      batch.labels,
      rows,
      classes,
      this.plan.output.rows === 'token' ? 'one per token' : 'one per sequence',
    );
    return withErrorScopes(
      this.device,
      settings ? 'running a training step' : 'evaluating',
      async () => {
        this.prepare(batch);
        if (settings && this.plan.dropout > 0) {
          const seedAndStep = new Uint32Array([this.setup.dropout!.seed, settings.step ?? 0, 0, 0]);
          this.device.queue.writeBuffer(this.dropout, 0, seedAndStep.buffer, 0, 16);
        }
        if (settings) {
          this.plan.trained.forEach((_, t) => {
            const hyper = adamwHyper(settings, this.steps[t]! + 1);
            this.device.queue.writeBuffer(
              this.trainedBuffers[t]!.hyper,
              0,
              hyper.buffer,
              0,
              hyper.byteLength,
            );
          });
        }
        const logitBytes = 4 * rows * classes;
        const staging = this.device.createBuffer({
          size: 16 + roundUp16(logitBytes),
          usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST,
          label: 'loss read-back',
        });
        try {
          const encoder = this.device.createCommandEncoder({ label: 'training step' });
          const pass = encoder.beginComputePass({ label: 'training step' });
          const dispatches = settings ? this.stepDispatches : this.evaluateDispatches;
          for (const dispatch of dispatches) this.dispatch(pass, dispatch, b, seq);
          pass.end();
          encoder.copyBufferToBuffer(this.loss, 0, staging, 0, 16);
          const logits = this.activations.buffers[this.plan.output.buffer]!;
          encoder.copyBufferToBuffer(logits, 0, staging, 16, roundUp16(logitBytes));
          this.device.queue.submit([encoder.finish()]);
          await gpuWait(() => staging.mapAsync(MapMode.READ));
          const mapped = staging.getMappedRange();
          const loss = new Float32Array(mapped, 0, 1)[0]!;
          const values = new Float32Array(mapped.slice(16, 16 + logitBytes));
          staging.unmap();
          if (settings) this.steps.forEach((s, t) => (this.steps[t] = s + 1));
          return { loss, logits: values };
        } finally {
          staging.destroy();
        }
      },
    );
  }

  /** Sizes the buffers for the batch and writes its inputs, labels and params. */
  private prepare(batch: TrainingBatch): void {
    const { batch: b, seq, values } = batch.inputs;
    const limit = Math.min(
      this.device.limits.maxStorageBufferBindingSize,
      this.device.limits.maxBufferSize,
    );
    for (const sizes of [this.plan.activations, this.plan.gradients]) {
      for (const size of sizes) {
        const bytes = 4 * evaluateSize(size, b, seq);
        if (bytes > limit) {
          throw new ResourceError(
            `batch ${b}, seq ${seq}: a training buffer needs ${formatBytes(bytes)}; this GPU binds at most ${formatBytes(limit)} per buffer`,
          );
        }
      }
    }
    const grown = [this.activations.ensure(b, seq), this.gradients.ensure(b, seq)].some(Boolean);
    const labelBytes = roundUp16(batch.labels.byteLength);
    if (!this.labels || this.labelBytes < labelBytes) {
      this.labels?.destroy();
      this.labels = this.device.createBuffer({
        size: labelBytes,
        usage: BufferUsage.STORAGE | BufferUsage.COPY_DST,
        label: 'labels',
      });
      this.labelBytes = labelBytes;
      this.bindGroups.clear();
    }
    if (grown) this.bindGroups.clear();
    const queue = this.device.queue;
    for (const input of this.plan.inputs) {
      const value = values.get(input.name);
      if (!value) throw new AdaptRuntimeError(`the batch has no input '${input.name}'`);
      queue.writeBuffer(
        this.activations.buffers[input.buffer]!,
        0,
        value.buffer,
        value.byteOffset,
        value.byteLength,
      );
    }
    const labels = batch.labels;
    queue.writeBuffer(this.labels, 0, labels.buffer, labels.byteOffset, labels.byteLength);
    const params = new Uint32Array([b, seq, b * seq, 0]);
    queue.writeBuffer(this.params, 0, params.buffer, 0, 16);
  }

  private buffer(binding: TrainingBinding): GPUBuffer {
    switch (binding.space) {
      case 'activation':
        return this.activations.buffers[binding.buffer]!;
      case 'gradient':
        return this.gradients.buffers[binding.buffer]!;
      case 'upload':
        return this.uploads[binding.upload]!;
      case 'trained':
        return this.trainedBuffers[binding.tensor]![binding.part];
      case 'labels':
        return this.labels!;
      case 'loss':
        return this.loss;
      case 'dropout':
        return this.dropout;
    }
  }

  private dispatch(
    pass: GPUComputePassEncoder,
    dispatch: TrainingDispatch,
    batch: number,
    seq: number,
  ): void {
    const count = evaluateSize(dispatch.groups, batch, seq);
    if (count === 0) return;
    const pipeline = this.pipelines[dispatch.kernel]!;
    let group = this.bindGroups.get(dispatch);
    if (!group) {
      const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: this.params } }];
      dispatch.bindings.forEach((binding, i) =>
        entries.push({ binding: i + 1, resource: { buffer: this.buffer(binding) } }),
      );
      group = this.device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries,
        label: dispatch.label,
      });
      this.bindGroups.set(dispatch, group);
    }
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    dispatchFlat(pass, count);
  }

  /** Reads one buffer of each trained tensor back, its first `elements(t)` f32 values from `offset(t)`. */
  private readTrained(
    part: 'param' | 'grad' | 'moments',
    elements: (t: number) => number,
  ): Promise<Float32Array[]> {
    return this.exclusive(() =>
      withErrorScopes(this.device, 'reading the trained tensors', async () => {
        const offsets: number[] = [];
        let total = 0;
        this.plan.trained.forEach((_, t) => {
          offsets.push(total);
          total += roundUp16(4 * elements(t));
        });
        const staging = this.device.createBuffer({
          size: Math.max(16, total),
          usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST,
          label: `${part} read-back`,
        });
        try {
          const encoder = this.device.createCommandEncoder();
          this.plan.trained.forEach((_, t) => {
            encoder.copyBufferToBuffer(
              this.trainedBuffers[t]![part],
              0,
              staging,
              offsets[t]!,
              roundUp16(4 * elements(t)),
            );
          });
          this.device.queue.submit([encoder.finish()]);
          await gpuWait(() => staging.mapAsync(MapMode.READ));
          const mapped = staging.getMappedRange();
          const result = this.plan.trained.map(
            (_, t) => new Float32Array(mapped.slice(offsets[t]!, offsets[t]! + 4 * elements(t))),
          );
          staging.unmap();
          return result;
        } finally {
          staging.destroy();
        }
      }),
    );
  }

  private byName<T>(values: readonly T[]): Map<string, T> {
    return new Map(this.plan.trained.map((t, i) => [t.name, values[i]!]));
  }

  async lastGradients(): Promise<ReadonlyMap<string, Float32Array>> {
    return this.byName(await this.readTrained('grad', (t) => this.plan.trained[t]!.elements));
  }

  async trainedWeights(): Promise<ReadonlyMap<string, Float32Array>> {
    return this.byName(await this.readTrained('param', (t) => this.plan.trained[t]!.elements));
  }

  async optimizerState(): Promise<ReadonlyMap<string, OptimizerTensorState>> {
    const moments = await this.readTrained('moments', (t) => 2 * this.plan.trained[t]!.elements);
    return this.byName(
      moments.map((m, t) => {
        const n = this.plan.trained[t]!.elements;
        return { step: this.steps[t]!, expAvg: m.slice(0, n), expAvgSq: m.slice(n) };
      }),
    );
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.activations.destroy();
    this.gradients.destroy();
    for (const buffer of this.uploads) buffer.destroy();
    for (const t of this.trainedBuffers) for (const buffer of Object.values(t)) buffer.destroy();
    this.labels?.destroy();
    this.params.destroy();
    this.loss.destroy();
    this.dropout.destroy();
    this.bindGroups.clear();
    this.onDispose();
  }
}
