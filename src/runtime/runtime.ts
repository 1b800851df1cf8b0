import { interpret } from './cpu/interpreter.js';
import { AdaptError, AdaptRuntimeError, ArgumentError, ProgramError } from './errors.js';
import {
  describeValue,
  readingCallerValues,
  requireKnownKeys,
  requireLimit,
  requireRecord,
} from './guards.js';
import {
  prepareInputs,
  randomInputs,
  type ModelInputs,
  type RunInputs,
  type RunOptions,
  type TextInputs,
} from './inputs.js';
import { assertFits, assertRunFits, estimateWeights } from './memory.js';
import type { Program } from './program.js';
import type { TensorMap } from './safetensors.js';
import { validateProgram } from './validate-program.js';
import { checkWeightWrite, WritableWeights } from './validate/weight-write.js';
import type { AdapterDescription } from './webgpu/acquire.js';
import { requireRunTimeout } from './webgpu/deadline.js';
import { GpuDevice } from './webgpu/device.js';
import { GpuModel, type DispatchProfile, type GpuModelStats } from './webgpu/model.js';
import { bindWeights } from './weights.js';
import { loadOrt, ORT_MISSING } from './onnx/ort.js';
import { OnnxSession, requireOnnxSource, type OnnxModelSource } from './onnx/session.js';
import {
  classifyTexts,
  encodeTexts,
  type BatchTokenizer,
  type ClassifyOptions,
  type Encoding,
  type LabelScore,
  type TextOutputs,
  type TokenLabel,
} from './text/classify.js';

export type BackendName = 'cpu' | 'webgpu' | 'onnx';

const BACKENDS: readonly unknown[] = ['auto', 'webgpu', 'cpu', 'onnx'];

export interface RuntimeOptions {
  /**
   * 'auto' (the default) uses WebGPU when an adapter exists, else the CPU reference. 'onnx'
   * runs each program's ONNX model (LoadOptions.onnx) in ONNX Runtime on the CPU.
   */
  readonly backend?: BackendName | 'auto';
  /** A WebGPU entry point to use instead of navigator.gpu or Dawn. */
  readonly gpu?: GPU;
  /** Called with one-line notices (ignored tensors, fallbacks, recovered devices). */
  readonly onNotice?: (message: string) => void;
  /**
   * The most bytes a model's weights, inputs and activations may take together; a load or run
   * that would need more is refused with a ResourceError before anything is allocated. No limit
   * when absent.
   */
  readonly memoryLimitBytes?: number;
  /**
   * WebGPU only: the most milliseconds a run or profile may take from its call (waiting behind
   * earlier runs on the device included) to its result. A run past it rejects with "the GPU run
   * did not finish within …"; its pass still completes on the GPU, the model stays usable, and
   * later runs start after that pass. No limit when absent: on software Vulkan a large run can
   * legitimately take minutes, and a stuck hardware GPU is reset by its driver, which the
   * runtime reports as a lost device.
   */
  readonly runTimeoutMs?: number;
}

export interface RunOutputs {
  readonly hidden_states: { readonly data: Float32Array; readonly shape: readonly number[] };
}

export type { TextOutputs };

export interface LoadOptions {
  /** For a program read from a checkpoint: what `classify` and `encode` tokenize with. */
  readonly tokenizer?: BatchTokenizer;
  /** The onnx backend only: the program's ONNX model, or how to export it from the weights. */
  readonly onnx?: OnnxModelSource;
  /**
   * WebGPU only: run the graph once on one token before returning, so the first request does
   * not pay for the driver's shader compilation (lavapipe compiles a pipeline when it first
   * runs; docs/design.md §5). Default false.
   */
  readonly warmup?: boolean;
}

/** A program with its weights, ready to run. */
export interface LoadedModel {
  readonly program: Program;
  readonly backend: BackendName;
  /** Runs the graph once; NaN or ±Infinity in hidden_states is an InputError unless allowed. */
  run(inputs: RunInputs, options?: RunOptions): Promise<RunOutputs>;
  /** A program read from a checkpoint: token ids in, last_hidden_state (and logits) out. */
  run(inputs: TextInputs, options?: RunOptions): Promise<TextOutputs>;
  run(inputs: ModelInputs, options?: RunOptions): Promise<RunOutputs | TextOutputs>;
  /**
   * Texts through the tokenizer and the head: per text its labels by score, best first
   * (softmax, or sigmoid for multi-label heads, computed in f64 from the logits), or for token
   * classification each token's best label.
   */
  classify(
    texts: readonly string[],
    options?: ClassifyOptions,
  ): Promise<LabelScore[][] | TokenLabel[][]>;
  /** Texts through the tokenizer and the encoder: last_hidden_state and the tokens. */
  encode(texts: readonly string[]): Promise<Encoding>;
  /** GPU resources in use (WebGPU only). */
  stats?(): GpuModelStats;
  /** Time of every dispatch of one forward pass (WebGPU only). */
  profile?(inputs: ModelInputs, options?: RunOptions): Promise<DispatchProfile>;
  /**
   * Writes elements [offset, offset + data.length) of weight `name` in place (flat, row-major);
   * the next run sees them. The caller's arrays given at load are never changed. This is how an
   * adapter-slots program's slots are filled (`program.slots`). The onnx backend writes only a
   * slot program's slot weights, which its session feeds as inputs.
   */
  writeWeights(name: string, offset: number, data: Float32Array): Promise<void>;
  dispose(): void;
}

/** classify and encode on top of a backend's run. */
abstract class BaseModel {
  abstract readonly program: Program;

  constructor(
    private readonly tokenizer: BatchTokenizer | undefined,
    private readonly onNotice: (message: string) => void,
  ) {}

  abstract run(inputs: RunInputs, options?: RunOptions): Promise<RunOutputs>;
  abstract run(inputs: TextInputs, options?: RunOptions): Promise<TextOutputs>;
  abstract run(inputs: ModelInputs, options?: RunOptions): Promise<RunOutputs | TextOutputs>;

  private runner() {
    return {
      program: this.program,
      tokenizer: this.tokenizer,
      run: (inputs: TextInputs) => this.run(inputs),
      onNotice: this.onNotice,
    };
  }

  classify(
    texts: readonly string[],
    options?: ClassifyOptions,
  ): Promise<LabelScore[][] | TokenLabel[][]> {
    return classifyTexts(this.runner(), texts, options);
  }

  encode(texts: readonly string[]): Promise<Encoding> {
    return encodeTexts(this.runner(), texts);
  }
}

class CpuModel extends BaseModel implements LoadedModel {
  readonly backend = 'cpu' as const;
  private weights: WritableWeights | undefined;

  constructor(
    readonly program: Program,
    weights: ReadonlyMap<string, Float32Array>,
    private readonly memoryLimitBytes: number | undefined,
    tokenizer: BatchTokenizer | undefined,
    onNotice: (message: string) => void,
  ) {
    super(tokenizer, onNotice);
    this.weights = new WritableWeights(weights);
  }

  run(inputs: RunInputs, options?: RunOptions): Promise<RunOutputs>;
  run(inputs: TextInputs, options?: RunOptions): Promise<TextOutputs>;
  run(inputs: ModelInputs, options?: RunOptions): Promise<RunOutputs | TextOutputs>;
  async run(inputs: ModelInputs, options?: RunOptions): Promise<RunOutputs | TextOutputs> {
    if (!this.weights) throw new AdaptRuntimeError('this model was disposed');
    const prepared = prepareInputs(this.program, inputs, options);
    assertRunFits(this.program, prepared, 'cpu', this.memoryLimitBytes);
    // The interpreter returns one tensor per program output, whose names validateProgram checked.
    return interpret(this.program, this.weights.map, prepared) as unknown as
      RunOutputs | TextOutputs;
  }

  async writeWeights(name: string, offset: number, data: Float32Array): Promise<void> {
    if (!this.weights) throw new AdaptRuntimeError('this model was disposed');
    checkWeightWrite(this.program, name, offset, data);
    this.weights.write(name, offset, data);
  }

  dispose(): void {
    this.weights = undefined;
  }
}

class OnnxModel extends BaseModel implements LoadedModel {
  readonly backend = 'onnx' as const;

  constructor(
    readonly program: Program,
    private readonly session: OnnxSession,
    private readonly memoryLimitBytes: number | undefined,
    tokenizer: BatchTokenizer | undefined,
    onNotice: (message: string) => void,
  ) {
    super(tokenizer, onNotice);
  }

  run(inputs: RunInputs, options?: RunOptions): Promise<RunOutputs>;
  run(inputs: TextInputs, options?: RunOptions): Promise<TextOutputs>;
  run(inputs: ModelInputs, options?: RunOptions): Promise<RunOutputs | TextOutputs>;
  async run(inputs: ModelInputs, options?: RunOptions): Promise<RunOutputs | TextOutputs> {
    const prepared = prepareInputs(this.program, inputs, options);
    assertRunFits(this.program, prepared, 'cpu', this.memoryLimitBytes);
    // One tensor per program output, whose names validateProgram checked.
    return (await this.session.run(prepared)) as unknown as RunOutputs | TextOutputs;
  }

  /** Slot weights only: the session feeds them as inputs, so a write is seen by the next run. */
  writeWeights(name: string, offset: number, data: Float32Array): Promise<void> {
    try {
      checkWeightWrite(this.program, name, offset, data);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    const written = this.session.writeFed(name, offset, data.slice());
    if (written) return written;
    return Promise.reject(
      new AdaptRuntimeError(
        `writeWeights: the onnx backend holds weight '${name}' in its session; it changes only a slot program's slot weights`,
      ),
    );
  }

  dispose(): void {
    this.session.dispose();
  }
}

class WebGpuModel extends BaseModel implements LoadedModel {
  readonly backend = 'webgpu' as const;

  constructor(
    readonly program: Program,
    private readonly gpu: GpuModel,
    tokenizer: BatchTokenizer | undefined,
    onNotice: (message: string) => void,
  ) {
    super(tokenizer, onNotice);
  }

  run(inputs: RunInputs, options?: RunOptions): Promise<RunOutputs>;
  run(inputs: TextInputs, options?: RunOptions): Promise<TextOutputs>;
  run(inputs: ModelInputs, options?: RunOptions): Promise<RunOutputs | TextOutputs>;
  async run(inputs: ModelInputs, options?: RunOptions): Promise<RunOutputs | TextOutputs> {
    // GpuModel checks its inputs with prepareInputs, which takes token ids as well.
    const outputs = await this.gpu.runOutputs(inputs, options);
    // One tensor per program output, whose names validateProgram checked.
    return Object.fromEntries(outputs) as unknown as RunOutputs | TextOutputs;
  }

  stats(): GpuModelStats {
    return this.gpu.stats();
  }

  profile(inputs: ModelInputs, options?: RunOptions): Promise<DispatchProfile> {
    return this.gpu.profile(inputs, options);
  }

  writeWeights(name: string, offset: number, data: Float32Array): Promise<void> {
    return this.gpu.writeWeights(name, offset, data);
  }

  dispose(): void {
    this.gpu.dispose();
  }
}

const RUNTIME_OPTIONS = ['backend', 'gpu', 'onNotice', 'memoryLimitBytes', 'runTimeoutMs'];

function readRuntimeOptions(options: unknown) {
  requireRecord(options, 'Runtime.create options');
  const given = options as RuntimeOptions & Record<string, unknown>;
  requireKnownKeys(given, RUNTIME_OPTIONS, 'Runtime.create options');
  const requested = given.backend ?? 'auto';
  if (!BACKENDS.includes(requested)) {
    throw new ArgumentError(
      `backend must be 'auto', 'webgpu', 'cpu' or 'onnx', got ${describeValue(requested)}`,
    );
  }
  if (given.onNotice !== undefined && typeof given.onNotice !== 'function')
    throw new ArgumentError(`onNotice must be a function, got ${describeValue(given.onNotice)}`);
  const gpu = given.gpu;
  if (
    gpu !== undefined &&
    (typeof gpu !== 'object' ||
      gpu === null ||
      typeof (gpu as Partial<GPU>).requestAdapter !== 'function')
  )
    throw new ArgumentError(
      `gpu must be a GPU object such as navigator.gpu, with requestAdapter(), got ${describeValue(gpu)}`,
    );
  return {
    requested,
    gpu,
    onNotice: given.onNotice ?? (() => {}),
    limit: requireLimit(given.memoryLimitBytes, 'memoryLimitBytes'),
    runTimeoutMs: requireRunTimeout(given.runTimeoutMs, 'runTimeoutMs'),
  };
}

function readLoadOptions(options: unknown): {
  tokenizer: BatchTokenizer | undefined;
  onnx: OnnxModelSource | undefined;
  warmup: boolean;
} {
  requireRecord(options, 'load options');
  const given = options as Record<string, unknown>;
  requireKnownKeys(given, ['tokenizer', 'onnx', 'warmup'], 'load options');
  if (given.warmup !== undefined && typeof given.warmup !== 'boolean')
    throw new ArgumentError(
      `load options: 'warmup' must be true or false, got ${describeValue(given.warmup)}`,
    );
  return {
    tokenizer: readTokenizer(given.tokenizer),
    onnx: requireOnnxSource(given.onnx),
    warmup: given.warmup === true,
  };
}

function readTokenizer(tokenizer: unknown): BatchTokenizer | undefined {
  if (tokenizer === undefined) return undefined;
  if (
    typeof tokenizer !== 'object' ||
    tokenizer === null ||
    typeof (tokenizer as Partial<BatchTokenizer>).encodeBatch !== 'function'
  )
    throw new ArgumentError(
      `tokenizer must be a tokenizer with encodeBatch(), as loadTokenizer returns, got ${describeValue(tokenizer)}`,
    );
  return tokenizer as BatchTokenizer;
}

/** Opens the device; a GPU object of the caller's that misbehaves is an error of the runtime's. */
async function openDevice(gpu: GPU | undefined, runTimeoutMs: number | undefined) {
  try {
    return await GpuDevice.create(gpu, runTimeoutMs);
  } catch (error) {
    if (error instanceof AdaptError) throw error;
    throw new AdaptRuntimeError(
      `cannot open a WebGPU device: ${error instanceof Error ? error.message : describeValue(error)}`,
    );
  }
}

/** The runtime: loads compiled programs with their weights and runs them. */
export class Runtime {
  private disposed = false;
  private readonly models = new Set<LoadedModel>();

  private constructor(
    readonly backend: BackendName,
    private readonly device: GpuDevice | undefined,
    private readonly onNotice: (message: string) => void,
    private readonly memoryLimitBytes: number | undefined,
  ) {}

  static async create(options: RuntimeOptions = {}): Promise<Runtime> {
    const read = readingCallerValues(
      () => readRuntimeOptions(options),
      (why) => new ArgumentError(`Runtime.create options: ${why}`),
    );
    const { requested, onNotice, limit, runTimeoutMs } = read;
    if (requested === 'cpu') return new Runtime('cpu', undefined, onNotice, limit);
    if (requested === 'onnx') {
      if (!(await loadOrt())) throw new AdaptRuntimeError(ORT_MISSING);
      return new Runtime('onnx', undefined, onNotice, limit);
    }
    try {
      return new Runtime('webgpu', await openDevice(read.gpu, runTimeoutMs), onNotice, limit);
    } catch (error) {
      if (requested === 'webgpu') throw error;
      onNotice(`no WebGPU adapter (${(error as Error).message}); using the CPU reference`);
      return new Runtime('cpu', undefined, onNotice, limit);
    }
  }

  /** The WebGPU adapter in use, and the kernel profile that suits it. */
  get adapter(): AdapterDescription | undefined {
    return this.device?.adapter;
  }

  /**
   * Validates the program and binds the weights (every problem reported at once): one map per
   * weight file, each with at most one model prefix on all its tensors.
   */
  async load(
    program: Program | unknown,
    weights: TensorMap | readonly TensorMap[],
    options: LoadOptions = {},
  ): Promise<LoadedModel> {
    if (this.disposed) throw new AdaptRuntimeError('this runtime was disposed');
    const valid = validateProgram(program);
    const { tokenizer, onnx, warmup } = readLoadOptions(options);
    if (!(weights instanceof Map) && !Array.isArray(weights)) {
      throw new ArgumentError(
        `weights must be a Map of tensors (as loadSafetensors returns), got ${describeValue(weights)}`,
      );
    }
    assertFits(
      `the weights of graph '${valid.graph}'`,
      estimateWeights(valid),
      this.memoryLimitBytes,
    );
    const bound = bindWeights(valid, weights);
    if (bound.ignored.length > 0) {
      const shown = bound.ignored.slice(0, 5).join(', ');
      const more = bound.ignored.length > 5 ? ` and ${bound.ignored.length - 5} more` : '';
      this.onNotice(
        `ignored ${bound.ignored.length} tensor${bound.ignored.length > 1 ? 's' : ''} that graph '${valid.graph}' does not read: ${shown}${more}`,
      );
    }
    let model: LoadedModel;
    if (this.backend === 'cpu') {
      model = new CpuModel(valid, bound.tensors, this.memoryLimitBytes, tokenizer, this.onNotice);
    } else if (this.backend === 'onnx') {
      const session = await OnnxSession.create(valid, bound.tensors, onnx);
      model = new OnnxModel(valid, session, this.memoryLimitBytes, tokenizer, this.onNotice);
    } else {
      if (!valid.gpu)
        throw new ProgramError('this program has no GPU plan; compile it with a WebGPU target');
      if (valid.gpu.target !== this.device!.adapter.profile) {
        this.onNotice(
          `the program's kernels are for the '${valid.gpu.target}' profile; this adapter (${this.device!.adapter.description || this.device!.adapter.architecture}) suits '${this.device!.adapter.profile}'`,
        );
      }
      const gpu = new GpuModel(
        this.device!,
        valid,
        valid.gpu,
        bound.tensors,
        this.onNotice,
        this.memoryLimitBytes,
      );
      await gpu.initialize();
      if (this.disposed) {
        gpu.dispose();
        throw new AdaptRuntimeError('this runtime was disposed while the model was loading');
      }
      model = new WebGpuModel(valid, gpu, tokenizer, this.onNotice);
      // One sequence of one token reaches every pipeline; the real run grows the buffers.
      if (warmup) await model.run(randomInputs(valid, 1, 1, 0));
    }
    this.models.add(model);
    return model;
  }

  /** Frees every model's GPU memory and the device. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const model of this.models) model.dispose();
    this.models.clear();
    this.device?.dispose();
  }
}
