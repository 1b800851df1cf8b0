import { totalmem } from 'node:os';
import { compile } from '../../compiler/index.js';
import { randomInputs, type RunInputs } from '../../runtime/inputs.js';
import { GPU_TOLERANCE, relativeError } from '../../runtime/compare.js';
import { estimateMemory } from '../../runtime/memory.js';
import type { Program, Target } from '../../runtime/program.js';
import { Runtime, type BackendName } from '../../runtime/runtime.js';
import { saveSafetensors, type TensorMap } from '../../runtime/safetensors.js';
import type { HostTensor } from '../../runtime/tensor.js';
import { initWeights } from '../../runtime/weights.js';
import { CliError, EXIT, type CliIO } from '../io.js';
import { loadProgram } from '../load-model.js';
import { addEstimates, requireMemory } from '../memory-check.js';
import { prepareOutput, writeOutput, type NamedPath } from '../output-file.js';
import { userErrors, type ErrorSource } from '../runtime-errors.js';
import { thousands } from '../table.js';
import { readTensorFile, readWeightFiles } from '../weights-files.js';

export interface RunOptions {
  readonly graph: string;
  readonly weights: readonly string[];
  readonly input?: string;
  readonly output?: string;
  /** Replace an existing --output file (never an input). */
  readonly force?: boolean;
  readonly backend: BackendName | 'auto';
  readonly target?: Target;
  readonly batch: number;
  readonly seq: number;
  readonly seed: number;
  readonly fuse: boolean;
  readonly json: boolean;
  /** Also run the CPU reference and report the relative error (exit 1 above the tolerance). */
  readonly check: boolean;
  /** Accept NaN and ±Infinity in the input's hidden_states. */
  readonly allowNonfinite: boolean;
  /** Seconds a WebGPU run may take. */
  readonly timeout?: number;
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
  reference: Program,
  weights: TensorMap | readonly TensorMap[],
  inputs: RunInputs,
  output: Float32Array,
  options: RunOptions,
): Promise<{ error: number; ok: boolean }> {
  const runtime = await Runtime.create({ backend: 'cpu', memoryLimitBytes: totalmem() });
  try {
    const model = await runtime.load(reference, weights);
    const result = await model.run(inputs, { allowNonFinite: options.allowNonfinite });
    const error = relativeError(output, result.hidden_states.data);
    return { error, ok: error <= GPU_TOLERANCE };
  } finally {
    runtime.dispose();
  }
}

/** The paths this command reads, which its output may never replace. */
function inputsOf(file: string, options: RunOptions): NamedPath[] {
  return [
    { option: 'the spec', path: file },
    ...options.weights.map((path) => ({ option: '--weights', path })),
    ...(options.input ? [{ option: '--input', path: options.input }] : []),
  ];
}

/** The run's batch and sequence size: the input file's, or --batch and --seq. */
function runShape(inputs: RunInputs | undefined, options: RunOptions) {
  const shape = inputs?.hidden_states.shape;
  if (shape && shape.length === 3 && shape.every((n) => Number.isSafeInteger(n) && n > 0)) {
    return { batch: shape[0]!, seq: shape[1]!, what: `${options.input} [${shape.join(', ')}]` };
  }
  return {
    batch: options.batch,
    seq: options.seq,
    what: `--batch ${options.batch} --seq ${options.seq}`,
  };
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
  const output = prepareOutput(
    io.cwd,
    { option: '--output', path: options.output },
    inputsOf(file, options),
    options.force,
  );
  // Files first: a bad weight or input file is reported before a GPU device is opened.
  const weightFiles =
    options.weights.length > 0 ? readWeightFiles(io.cwd, options.weights) : undefined;
  const inputFile = options.input ? inputsFromFile(io, options.input) : undefined;
  const source: ErrorSource = { weights: options.weights, input: options.input, spec: file };
  // The graph as lowered: what the CPU runs, the reference of --check, and the memory estimate
  // made before a GPU device is opened (the fused graph needs no more).
  const lowered = loadProgram(io, file, options.graph, { fuse: false, target: options.target });
  const shape = runShape(inputFile, options);
  const estimateOn = options.backend === 'auto' ? undefined : options.backend;
  requireMemory(
    shape.what,
    addEstimates([
      estimateMemory(lowered.program, shape, estimateOn),
      ...(options.check ? [estimateMemory(lowered.program, shape, 'cpu')] : []),
    ]),
  );
  const notices: string[] = [];
  const runtime = await userErrors(() =>
    Runtime.create({
      backend: options.backend,
      onNotice: (n) => notices.push(n),
      memoryLimitBytes: totalmem(),
      ...(options.timeout !== undefined ? { runTimeoutMs: options.timeout * 1000 } : {}),
    }),
  );
  try {
    const onGpu = runtime.backend === 'webgpu';
    const program = onGpu
      ? compile(lowered.source, {
          fileName: file,
          readFile: lowered.readFile,
          graph: options.graph,
          fuse: options.fuse,
          target: options.target ?? runtime.adapter?.profile ?? 'software',
        }).program!
      : lowered.program;
    const reference = options.check ? lowered.program : undefined;
    const weights = weightFiles ?? initWeights(program, options.seed);
    const inputs = inputFile ?? randomInputs(program, options.batch, options.seq, options.seed);

    const loadStart = performance.now();
    const model = await userErrors(() => runtime.load(program, weights), source);
    const loadMs = performance.now() - loadStart;
    for (const notice of notices) io.stderr(`note: ${notice}\n`);
    const runStart = performance.now();
    const { hidden_states } = await userErrors(
      () => model.run(inputs, { allowNonFinite: options.allowNonfinite }),
      source,
    );
    const runMs = performance.now() - runStart;
    model.dispose();
    if (output) writeOutput(output, saveSafetensors({ hidden_states }));
    const check = reference
      ? await userErrors(
          () => compareWithReference(reference, weights, inputs, hidden_states.data, options),
          source,
        )
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
        `adapt: error: the output differs from the CPU reference by ${check.error.toExponential(2)} (tolerance ${GPU_TOLERANCE})`,
      );
    }
    return EXIT.ok;
  } finally {
    runtime.dispose();
  }
}
