import { AdaptRuntimeError, WeightError } from '../../runtime/errors.js';
import type { RunInputs } from '../../runtime/inputs.js';
import type { Program, Target } from '../../runtime/program.js';
import { normalArray } from '../../runtime/random.js';
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

/** N(0, 1) hidden states from the seed; for batch(...) graphs, sequence b takes branch b mod k. */
function randomInputs(program: Program, options: RunOptions): RunInputs {
  const { batch, seq, seed } = options;
  const d = program.model.hidden;
  const inputs: RunInputs = {
    hidden_states: { data: normalArray(batch * seq * d, seed), shape: [batch, seq, d] },
  };
  if (!program.branches) return inputs;
  const index = Int32Array.from({ length: batch }, (_, b) => b % program.branches!);
  return { ...inputs, adapter_index: { data: index, shape: [batch] } };
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
  const notices: string[] = [];
  let runtime: Runtime;
  try {
    runtime = await Runtime.create({ backend: options.backend, onNotice: (n) => notices.push(n) });
  } catch (error) {
    if (error instanceof AdaptRuntimeError) throw new CliError(`error: ${error.message}`);
    throw error;
  }
  // The CPU reference is the oracle: it runs the graph as lowered, without the passes.
  const onGpu = runtime.backend === 'webgpu';
  const { program } = loadProgram(io, file, options.graph, {
    fuse: onGpu && options.fuse,
    target: options.target ?? runtime.adapter?.profile ?? 'software',
  });
  let weights: TensorMap;
  if (options.weights.length > 0) weights = readWeightFiles(io.cwd, options.weights);
  else weights = initWeights(program, options.seed);
  const inputs = options.input ? inputsFromFile(io, options.input) : randomInputs(program, options);

  try {
    const loadStart = performance.now();
    const model = await runtime.load(program, weights);
    const loadMs = performance.now() - loadStart;
    for (const notice of notices) io.stderr(`note: ${notice}\n`);
    const runStart = performance.now();
    const { hidden_states } = await model.run(inputs);
    const runMs = performance.now() - runStart;
    model.dispose();
    const { mean, std } = statistics(hidden_states.data);
    if (options.output) {
      writeOutputFile(io.cwd, options.output, saveSafetensors({ hidden_states }));
    }
    const parameters = program.weights.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0);
    const summary = {
      file,
      graph: program.graph,
      backend: runtime.backend,
      ...(program.gpu && onGpu
        ? { adapter: runtime.adapter, target: program.gpu.target, fused: program.gpu.fused, dispatches: program.gpu.dispatches.length }
        : {}),
      weights: options.weights.length > 0 ? options.weights : `seeded init (seed ${options.seed})`,
      parameters,
      input: shapeText(inputs.hidden_states.shape),
      output: shapeText(hidden_states.shape),
      mean,
      std,
      load_ms: loadMs,
      run_ms: runMs,
      ...(options.output ? { written: options.output } : {}),
    };
    if (options.json) {
      io.stdout(`${JSON.stringify(summary, null, 2)}\n`);
      return EXIT.ok;
    }
    const lines = [
      `${file}, graph '${program.graph}'`,
      `  backend   ${describeBackend(runtime, program)}`,
      `  weights   ${options.weights.length > 0 ? options.weights.join(', ') : `seeded init (seed ${options.seed})`}, ${thousands(parameters)} parameters`,
      `  input     hidden_states ${summary.input}${options.input ? ` from ${options.input}` : ` random N(0, 1) (seed ${options.seed})`}`,
      `  output    hidden_states ${summary.output}  mean ${mean.toFixed(6)}  std ${std.toFixed(6)}`,
      `  time      load ${loadMs.toFixed(1)} ms, run ${runMs.toFixed(1)} ms`,
      ...(options.output ? [`  wrote     ${options.output}`] : []),
    ];
    io.stdout(`${lines.join('\n')}\n`);
    return EXIT.ok;
  } catch (error) {
    if (error instanceof WeightError && options.weights.length > 0) {
      throw new CliError(
        `error: weights in ${options.weights.join(', ')} do not fit ${file}: ${error.message}`,
      );
    }
    if (error instanceof AdaptRuntimeError) throw new CliError(`error: ${error.message}`);
    throw error;
  } finally {
    runtime.dispose();
  }
}
