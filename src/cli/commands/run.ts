import { AdaptRuntimeError, WeightError } from '../../runtime/errors.js';
import { randomInputs, type RunInputs } from '../../runtime/inputs.js';
import { GPU_TOLERANCE, relativeError } from '../../runtime/compare.js';
import type { Program, Target } from '../../runtime/program.js';
import { Runtime, type BackendName } from '../../runtime/runtime.js';
import { saveSafetensors, type TensorMap } from '../../runtime/safetensors.js';
import type { HostTensor } from '../../runtime/tensor.js';
import { initWeights } from '../../runtime/weights.js';
import { CliError, EXIT, type CliIO } from '../io.js';
import { loadProgram } from '../load-model.js';
import { thousands } from '../table.js';
import { writeOutputFile } from '../files.js';
import { readTensorFile, readWeightFiles } from '../weights-files.js';

export interface RunOptions {
  readonly graph: string;
  readonly weights: readonly string[];
  readonly input?: string;
  readonly output?: string;
  readonly backend: BackendName | 'auto';
  readonly target?: Target;
  readonly batch: number;
  readonly seq: number;
  readonly seed: number;
  readonly fuse: boolean;
  readonly json: boolean;
  /** Also run the CPU reference and report the relative error (exit 1 above the tolerance). */
  readonly check: boolean;
}

const INPUT_NAMES = ['hidden_states', 'attention_mask', 'adapter_index'] as const;

function inputsFromFile(io: CliIO, path: string): RunInputs {
  const tensors = readTensorFile(io.cwd, path);
  const extra = [...tensors.keys()].filter((n) => !(INPUT_NAMES as readonly string[]).includes(n));
  if (extra.length > 0) io.stderr(`note: ignored tensors in ${path}: ${extra.join(', ')}\n`);
  const get = (name: string) => tensors.get(name) as HostTensor | undefined;
  const hidden = get('hidden_states');
  if (!hidden) throw new CliError(`${path}: error: no 'hidden_states' tensor`);
  return {
    hidden_states: hidden,
    ...(get('attention_mask') ? { attention_mask: get('attention_mask') } : {}),
    ...(get('adapter_index') ? { adapter_index: get('adapter_index') } : {}),
  };
}

function statistics(data: Float32Array): { mean: number; std: number } {
  let sum = 0;
  for (const v of data) sum += v;
  const mean = sum / data.length;
  let squares = 0;
  for (const v of data) squares += (v - mean) ** 2;
  return { mean, std: Math.sqrt(squares / data.length) };
}

const shapeText = (shape: readonly number[]) => `[${shape.join(', ')}]`;

interface Summary {
  readonly weights: string | readonly string[];
  readonly parameters: number;
  readonly input: string;
  readonly output: string;
  readonly mean: number;
  readonly std: number;
  readonly load_ms: number;
  readonly run_ms: number;
  readonly reference_error?: number;
}

function renderSummary(summary: Summary, backend: string, options: RunOptions): string {
  const lines = [
    `  backend   ${backend}`,
    `  weights   ${typeof summary.weights === 'string' ? summary.weights : summary.weights.join(', ')}, ${thousands(summary.parameters)} parameters`,
    `  input     hidden_states ${summary.input}${options.input ? ` from ${options.input}` : ` random N(0, 1) (seed ${options.seed})`}`,
    `  output    hidden_states ${summary.output}  mean ${summary.mean.toFixed(6)}  std ${summary.std.toFixed(6)}`,
    `  time      load ${summary.load_ms.toFixed(1)} ms, run ${summary.run_ms.toFixed(1)} ms`,
    ...(summary.reference_error !== undefined
      ? [
          `  check     relative error vs the CPU reference ${summary.reference_error.toExponential(2)} (tolerance ${GPU_TOLERANCE})`,
        ]
      : []),
    ...(options.output ? [`  wrote     ${options.output}`] : []),
  ];
  return `${lines.join('\n')}\n`;
}

/** Runs the CPU reference (the unfused graph) on the same weights and inputs. */
async function compareWithReference(
  io: CliIO,
  file: string,
  graph: string,
  weights: TensorMap,
  inputs: RunInputs,
  output: Float32Array,
): Promise<{ error: number; ok: boolean }> {
  const { program } = loadProgram(io, file, graph, { fuse: false });
  const runtime = await Runtime.create({ backend: 'cpu' });
  try {
    const reference = await (await runtime.load(program, weights)).run(inputs);
    const error = relativeError(output, reference.hidden_states.data);
    return { error, ok: error <= GPU_TOLERANCE };
  } finally {
    runtime.dispose();
  }
}

function describeBackend(runtime: Runtime, program: Program): string {
  if (runtime.backend === 'cpu') return 'cpu (the reference: unfused graph, f64 sums)';
  const adapter = runtime.adapter!;
  const plan = program.gpu!;
  const where = adapter.description || adapter.architecture || adapter.vendor;
  const how = `${plan.fused ? 'fused' : 'unfused'}: ${plan.dispatches.length} dispatches, ${plan.kernels.length} kernels`;
  return `webgpu on ${where}, ${plan.target} kernels, ${how}`;
}

/** `adapt run`: compile, load weights, run once, and report. */
export async function runRun(io: CliIO, file: string, options: RunOptions): Promise<number> {
  // Files first: a bad weight or input file is reported before a GPU device is opened.
  const weightFiles =
    options.weights.length > 0 ? readWeightFiles(io.cwd, options.weights) : undefined;
  const inputFile = options.input ? inputsFromFile(io, options.input) : undefined;
  const notices: string[] = [];
  const runtime = await userErrors(() =>
    Runtime.create({ backend: options.backend, onNotice: (n) => notices.push(n) }),
  );
  try {
    // The CPU reference is the oracle: it runs the graph as lowered, without the passes.
    const onGpu = runtime.backend === 'webgpu';
    const { program } = loadProgram(io, file, options.graph, {
      fuse: onGpu && options.fuse,
      target: options.target ?? runtime.adapter?.profile ?? 'software',
    });
    const weights = weightFiles ?? initWeights(program, options.seed);
    const inputs = inputFile ?? randomInputs(program, options.batch, options.seq, options.seed);

    const loadStart = performance.now();
    const model = await userErrors(() => runtime.load(program, weights), options, file);
    const loadMs = performance.now() - loadStart;
    for (const notice of notices) io.stderr(`note: ${notice}\n`);
    const runStart = performance.now();
    const { hidden_states } = await userErrors(() => model.run(inputs));
    const runMs = performance.now() - runStart;
    model.dispose();
    if (options.output) {
      writeOutputFile(io.cwd, options.output, saveSafetensors({ hidden_states }));
    }
    const check = options.check
      ? await compareWithReference(io, file, options.graph, weights, inputs, hidden_states.data)
      : undefined;
    const summary = {
      file,
      graph: program.graph,
      backend: runtime.backend,
      ...(program.gpu && onGpu
        ? {
            adapter: runtime.adapter,
            target: program.gpu.target,
            fused: program.gpu.fused,
            dispatches: program.gpu.dispatches.length,
          }
        : {}),
      weights: options.weights.length > 0 ? options.weights : `seeded init (seed ${options.seed})`,
      parameters: program.weights.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0),
      input: shapeText(inputs.hidden_states.shape),
      output: shapeText(hidden_states.shape),
      ...statistics(hidden_states.data),
      load_ms: loadMs,
      run_ms: runMs,
      ...(check ? { reference_error: check.error } : {}),
      ...(options.output ? { written: options.output } : {}),
    };
    io.stdout(
      options.json
        ? `${JSON.stringify(summary, null, 2)}\n`
        : `${file}, graph '${program.graph}'\n${renderSummary(summary, describeBackend(runtime, program), options)}`,
    );
    if (check && !check.ok) {
      throw new CliError(
        `error: the output differs from the CPU reference by ${check.error.toExponential(2)} (tolerance ${GPU_TOLERANCE})`,
      );
    }
    return EXIT.ok;
  } finally {
    runtime.dispose();
  }
}

/** Runtime errors are user errors here: one line, no stack trace. */
async function userErrors<T>(
  work: () => Promise<T>,
  options?: RunOptions,
  file?: string,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof WeightError && options && options.weights.length > 0) {
      throw new CliError(
        `error: weights in ${options.weights.join(', ')} do not fit ${file}: ${error.message}`,
      );
    }
    if (error instanceof AdaptRuntimeError) throw new CliError(`error: ${error.message}`);
    throw error;
  }
}
