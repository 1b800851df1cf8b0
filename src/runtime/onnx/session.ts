import { AdaptRuntimeError, ArgumentError, ProgramError } from '../errors.js';
import { describeValue } from '../guards.js';
import type { PreparedInputs } from '../inputs.js';
import type { Program } from '../program.js';
import { resolveShape } from '../tensor.js';
import { WritableWeights } from '../validate/weight-write.js';
import { loadOrt, ORT_MISSING, type OrtRuntime, type OrtSession, type OrtTensor } from './ort.js';

/** The weights of a slot program (docs/language.md §4.3.1), which writeWeights may change. */
function slotWeightNames(program: Program): string[] {
  const slots = program.slots;
  return slots ? [...slots.weights.map((w) => w.name), slots.scale] : [];
}

/** A model's protobuf and, by the location its initializers name, their bytes. */
export interface OnnxModelWithData {
  readonly model: Uint8Array;
  readonly externalData: readonly { readonly path: string; readonly data: Uint8Array }[];
}

/**
 * The ONNX model the `onnx` backend runs: its bytes (an `adapt export --onnx --optimize` file),
 * or a function that exports it from the weights as the runtime bound them (program names,
 * derived weights made), which keeps the weights in one place: the model's initializers. Where
 * `form.externalData` is true, the function may return them as external data instead, which
 * saves encoding and copying the weights into the protobuf.
 */
export type OnnxModelSource =
  | Uint8Array
  | ((
      weights: ReadonlyMap<string, Float32Array>,
      form: OnnxModelForm,
    ) => Uint8Array | OnnxModelWithData);

/**
 * What the runtime asks of an exported model: external data where ORT takes it, and which
 * weights must be graph inputs rather than initializers (a slot program's, which writeWeights
 * changes; the session feeds them at every run).
 */
export interface OnnxModelForm {
  readonly externalData: boolean;
  readonly weightInputs: ReadonlySet<string>;
}

export interface OnnxOutput {
  readonly data: Float32Array;
  readonly shape: readonly number[];
}

const messageOf = (error: unknown) =>
  error instanceof Error ? error.message : describeValue(error);

export function requireOnnxSource(source: unknown): OnnxModelSource | undefined {
  if (source === undefined || source instanceof Uint8Array || typeof source === 'function')
    return source as OnnxModelSource | undefined;
  throw new ArgumentError(
    `onnx must be the ONNX model's bytes or a function of the weights that returns them, got ${describeValue(source)}`,
  );
}

/** One ONNX Runtime session of a program's graph. Runs one at a time, as ORT-web requires. */
export class OnnxSession {
  private queue: Promise<unknown> = Promise.resolve();
  private session: OrtSession | undefined;

  private constructor(
    private readonly program: Program,
    private readonly runtime: OrtRuntime,
    session: OrtSession,
    /** The weights fed as inputs at every run, by name: the host copy writeWeights changes. */
    private readonly fed: WritableWeights,
    /** Their shapes, by name. */
    private readonly fedShapes: ReadonlyMap<string, readonly number[]>,
  ) {
    this.session = session;
  }

  static async create(
    program: Program,
    weights: ReadonlyMap<string, Float32Array>,
    source: OnnxModelSource | undefined,
  ): Promise<OnnxSession> {
    if (source === undefined)
      throw new ProgramError(
        "the onnx backend runs the program's ONNX model: pass it as load(program, weights, { onnx }), the bytes or a function of the weights that exports them",
      );
    const runtime = await loadOrt();
    if (!runtime) throw new AdaptRuntimeError(ORT_MISSING);
    const weightInputs = new Set(slotWeightNames(program));
    const exported =
      typeof source === 'function'
        ? source(weights, { externalData: runtime.externalData, weightInputs })
        : source;
    const { model, externalData } =
      exported instanceof Uint8Array ? { model: exported, externalData: [] } : exported;
    await runtime.started;
    const session = await runtime.ort.InferenceSession.create(model, {
      executionProviders: [...runtime.executionProviders],
      graphOptimizationLevel: 'all',
      ...(externalData.length > 0 ? { externalData } : {}),
    }).catch((error: unknown) => {
      throw new AdaptRuntimeError(
        `ONNX Runtime (${runtime.provider}) cannot load the model: ${messageOf(error)}`,
      );
    });
    if (session.outputNames.length !== program.outputs.length) {
      await session.release();
      throw new ProgramError(
        `the ONNX model has ${session.outputNames.length} outputs, but graph '${program.graph}' has ${program.outputs.length}`,
      );
    }
    const shapes = new Map<string, readonly number[]>();
    for (const spec of program.weights)
      if (weightInputs.has(spec.name) && session.inputNames.includes(spec.name))
        shapes.set(spec.name, spec.shape);
    const fed = new WritableWeights(new Map([...shapes.keys()].map((n) => [n, weights.get(n)!])));
    return new OnnxSession(program, runtime, session, fed, shapes);
  }

  get provider(): string {
    return this.runtime.provider;
  }

  /** The program's outputs by name, from a run on inputs that prepareInputs checked. */
  run(prepared: PreparedInputs): Promise<Record<string, OnnxOutput>> {
    const result = this.queue.then(() => this.runNow(prepared));
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async runNow(prepared: PreparedInputs): Promise<Record<string, OnnxOutput>> {
    const session = this.session;
    if (!session) throw new AdaptRuntimeError('this model was disposed');
    const feeds: Record<string, OrtTensor> = {};
    for (const name of session.inputNames) feeds[name] = this.feed(name, prepared);
    const results = await session.run(feeds).catch((error: unknown) => {
      throw new AdaptRuntimeError(
        `ONNX Runtime (${this.provider}) failed to run: ${messageOf(error)}`,
      );
    });
    // The exporter writes the outputs in the program's order, renaming hidden_states (ONNX values
    // are single-assignment), so they are matched by position.
    const outputs: Record<string, OnnxOutput> = {};
    session.outputNames.forEach((onnxName, i) => {
      const tensor = results[onnxName]!;
      outputs[this.program.outputs[i]!.name] = {
        data: tensor.data as Float32Array,
        shape: [...tensor.dims],
      };
    });
    return outputs;
  }

  /** Writes elements of a weight the session feeds as an input; undefined for any other weight. */
  writeFed(name: string, offset: number, data: Float32Array): Promise<void> | undefined {
    if (!this.fedShapes.has(name)) return undefined;
    // In turn with runs, so that a run sees the weights as they were when it was called.
    const written = this.queue.then(() => this.fed.write(name, offset, data));
    this.queue = written;
    return written;
  }

  private feed(name: string, prepared: PreparedInputs): OrtTensor {
    const fedShape = this.fedShapes.get(name);
    if (fedShape) return new this.runtime.ort.Tensor('float32', this.fed.map.get(name)!, fedShape);
    const spec = this.program.inputs.find((input) => input.name === name);
    const value = prepared.values.get(name);
    if (!spec || !value)
      throw new ProgramError(
        `the ONNX model reads an input '${name}' that graph '${this.program.graph}' does not have`,
      );
    const shape = resolveShape(spec.shape, prepared.batch, prepared.seq);
    return new this.runtime.ort.Tensor(spec.dtype === 'i32' ? 'int32' : 'float32', value, shape);
  }

  dispose(): void {
    const session = this.session;
    this.session = undefined;
    void this.queue.then(() => session?.release());
  }
}
