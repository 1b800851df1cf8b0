import { interpret } from './cpu/interpreter.js';
import { CPU_KERNELS } from './cpu/kernels.js';
import { AdaptRuntimeError } from './errors.js';
import { prepareInputs, type RunInputs } from './inputs.js';
import type { Program } from './program.js';
import type { TensorMap } from './safetensors.js';
import { validateProgram } from './validate-program.js';
import { bindWeights } from './weights.js';

export type BackendName = 'cpu';

export interface RuntimeOptions {
  readonly backend?: BackendName;
  /** Called with one-line notices (e.g. ignored tensors). */
  readonly onNotice?: (message: string) => void;
}

export interface RunOutputs {
  readonly hidden_states: { readonly data: Float32Array; readonly shape: readonly number[] };
}

/** A program with its weights, ready to run. */
export interface LoadedModel {
  readonly program: Program;
  readonly backend: BackendName;
  run(inputs: RunInputs): Promise<RunOutputs>;
  dispose(): void;
}

class CpuModel implements LoadedModel {
  readonly backend = 'cpu' as const;
  private weights: ReadonlyMap<string, Float32Array> | undefined;

  constructor(
    readonly program: Program,
    weights: ReadonlyMap<string, Float32Array>,
  ) {
    this.weights = weights;
  }

  async run(inputs: RunInputs): Promise<RunOutputs> {
    if (!this.weights) throw new AdaptRuntimeError('this model was disposed');
    const prepared = prepareInputs(this.program, inputs);
    return interpret(this.program, this.weights, prepared) as unknown as RunOutputs;
  }

  dispose(): void {
    this.weights = undefined;
  }
}

/** The runtime: loads compiled programs with their weights and runs them. */
export class Runtime {
  private disposed = false;

  private constructor(
    readonly backend: BackendName,
    private readonly onNotice: (message: string) => void,
  ) {}

  static async create(options: RuntimeOptions = {}): Promise<Runtime> {
    const backend = options.backend ?? 'cpu';
    if (backend !== 'cpu') throw new AdaptRuntimeError(`unknown backend '${String(backend)}'`);
    return new Runtime(backend, options.onNotice ?? (() => {}));
  }

  /** Validates the program and binds the weights (every problem reported at once). */
  async load(program: Program | unknown, weights: TensorMap): Promise<LoadedModel> {
    if (this.disposed) throw new AdaptRuntimeError('this runtime was disposed');
    const valid = validateProgram(program, new Set(Object.keys(CPU_KERNELS)));
    const bound = bindWeights(valid, weights);
    if (bound.ignored.length > 0) {
      const shown = bound.ignored.slice(0, 5).join(', ');
      const more = bound.ignored.length > 5 ? ` and ${bound.ignored.length - 5} more` : '';
      this.onNotice(
        `ignored ${bound.ignored.length} tensor${bound.ignored.length > 1 ? 's' : ''} that graph '${valid.graph}' does not read: ${shown}${more}`,
      );
    }
    return new CpuModel(valid, bound.tensors);
  }

  dispose(): void {
    this.disposed = true;
  }
}
