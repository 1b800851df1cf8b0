import { compile, forwardFlops, plannedBytes, type ReadFile } from '../../compiler/index.js';
import { randomInputs, type ModelInputs } from '../../runtime/inputs.js';
import type { Program, Target } from '../../runtime/program.js';
import type { LoadedModel, Runtime } from '../../runtime/runtime.js';
import type { TensorMap } from '../../runtime/safetensors.js';
import { initWeights } from '../../runtime/weights.js';

export interface Timing {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** Interquartile range, a spread that one slow outlier does not move. */
  readonly iqr: number;
  readonly samples: readonly number[];
}

export interface GraphBench {
  readonly graph: string;
  readonly base_ms: number;
  readonly fused_ms: number;
  readonly unfused_ms: number;
  /** fused_ms / base_ms - 1: what the adapters cost. */
  readonly overhead: number;
  /** unfused_ms / fused_ms: what the passes win. */
  readonly fusion_speedup: number;
  readonly dispatches_fused: number;
  readonly dispatches_unfused: number;
  readonly dispatches_base: number;
  readonly planned_bytes: number;
  /** Work of the fused forward pass over its median time. */
  readonly gflops: number;
  /** Wall time of `runtime.load` for the fused program (pipelines and weights), ms. */
  readonly load_ms: number;
  /** The first fused forward pass after load, before any warm-up, ms. */
  readonly first_run_ms: number;
  readonly timings: { readonly base: Timing; readonly fused: Timing; readonly unfused: Timing };
}

export interface BenchSettings {
  readonly graph: string;
  readonly batch: number;
  readonly seq: number;
  readonly layers?: number;
  readonly iters: number;
  readonly warmup: number;
  readonly target: Target;
  /** Called after every run, for a progress bar. */
  readonly tick?: () => void;
  /** How the spec's `model NAME from "DIR"` reads DIR/config.json. */
  readonly readFile?: ReadFile;
}

export function summarizeTimes(samples: readonly number[]): Timing {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  const mid = sorted.length / 2;
  const median =
    sorted.length % 2 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return {
    median,
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    iqr: at(0.75) - at(0.25),
    samples: [...samples],
  };
}

/** The inputs a program takes: the bare base model has no adapter_index. */
function inputsFor(program: Program, inputs: ModelInputs): ModelInputs {
  const takes = new Set(program.inputs.map((input) => input.name));
  return Object.fromEntries(
    Object.entries(inputs).filter(([name]) => takes.has(name)),
  ) as unknown as ModelInputs;
}

/**
 * Runs the runners in interleaved rounds (a, b, c, a, b, c, ...), so that load from elsewhere on
 * a shared machine falls on all of them alike; warm-up rounds are not timed.
 */
export async function timeRounds<K extends string>(
  runners: Readonly<Record<K, () => Promise<unknown>>>,
  warmup: number,
  iters: number,
  tick?: () => void,
): Promise<Record<K, Timing>> {
  const kinds = Object.keys(runners) as K[];
  const samples = Object.fromEntries(kinds.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  for (let round = 0; round < warmup + iters; round++) {
    for (const kind of kinds) {
      const start = performance.now();
      await runners[kind]();
      if (round >= warmup) samples[kind].push(performance.now() - start);
      tick?.();
    }
  }
  return Object.fromEntries(kinds.map((k) => [k, summarizeTimes(samples[k])])) as Record<K, Timing>;
}

/** A runner per loaded model: one forward pass on the inputs its program takes. */
export function modelRunners<K extends string>(
  models: Readonly<Record<K, LoadedModel>>,
  inputs: ModelInputs,
): Record<K, () => Promise<unknown>> {
  const kinds = Object.keys(models) as K[];
  return Object.fromEntries(
    kinds.map((k) => [k, () => models[k].run(inputsFor(models[k].program, inputs))]),
  ) as Record<K, () => Promise<unknown>>;
}

export interface BenchModels {
  readonly models: Readonly<Record<'base' | 'fused' | 'unfused', LoadedModel>>;
  readonly inputs: ModelInputs;
  readonly load_ms: number;
  readonly first_run_ms: number;
  dispose(): void;
}

/**
 * Loads the three programs with one set of weights. The fused one goes first, so that its load
 * and first forward pass are cold (no kernel of the others compiled before).
 */
export async function loadBenchModels(
  runtime: Runtime,
  programs: ReturnType<typeof benchPrograms>,
  settings: Pick<BenchSettings, 'batch' | 'seq'>,
  weights?: TensorMap,
): Promise<BenchModels> {
  const tensors = weights ?? initWeights(programs.unfused, 0);
  const inputs = randomInputs(programs.fused, settings.batch, settings.seq, 1);
  const loaded: LoadedModel[] = [];
  const load = async (program: Program) => {
    const model = await runtime.load(program, tensors);
    loaded.push(model);
    return model;
  };
  try {
    const loadStart = performance.now();
    const fused = await load(programs.fused);
    const load_ms = performance.now() - loadStart;
    const runStart = performance.now();
    await fused.run(inputsFor(fused.program, inputs));
    const first_run_ms = performance.now() - runStart;
    const models = {
      base: await load(programs.base),
      fused,
      unfused: await load(programs.unfused),
    };
    return {
      models,
      inputs,
      load_ms,
      first_run_ms,
      dispose: () => loaded.forEach((model) => model.dispose()),
    };
  } catch (error) {
    for (const model of loaded) model.dispose();
    throw error;
  }
}

/** The three programs a graph is measured with: fused, unfused, and the base alone. */
export function benchPrograms(source: string, fileName: string, settings: BenchSettings) {
  const common = {
    fileName,
    graph: settings.graph,
    target: settings.target,
    ...(settings.readFile ? { readFile: settings.readFile } : {}),
  };
  const layers = settings.layers;
  return {
    fused: compile(source, { ...common, fuse: true, benchmark: { layers } }).program!,
    unfused: compile(source, { ...common, fuse: false, benchmark: { layers } }).program!,
    base: compile(source, { ...common, fuse: true, benchmark: { layers, base: true } }).program!,
  };
}

/** Times one graph fused, unfused and as the bare base model, with the same weights and inputs. */
export async function benchGraph(
  runtime: Runtime,
  source: string,
  fileName: string,
  settings: BenchSettings,
  weights?: TensorMap,
): Promise<GraphBench> {
  const programs = benchPrograms(source, fileName, settings);
  const loaded = await loadBenchModels(runtime, programs, settings, weights);
  try {
    const runners = modelRunners(loaded.models, loaded.inputs);
    const timings = await timeRounds(runners, settings.warmup, settings.iters, settings.tick);
    return benchReport(settings, programs, timings, loaded);
  } finally {
    loaded.dispose();
  }
}

/** The figures of one graph from its three timings and its cold start. */
export function benchReport(
  settings: Pick<BenchSettings, 'graph' | 'batch' | 'seq'>,
  programs: ReturnType<typeof benchPrograms>,
  timings: Record<'base' | 'fused' | 'unfused', Timing>,
  cold: Pick<BenchModels, 'load_ms' | 'first_run_ms'>,
): GraphBench {
  const { base, fused, unfused } = timings;
  const plan = programs.fused.gpu!;
  return {
    graph: settings.graph,
    base_ms: base.median,
    fused_ms: fused.median,
    unfused_ms: unfused.median,
    overhead: fused.median / base.median - 1,
    fusion_speedup: unfused.median / fused.median,
    dispatches_fused: plan.dispatches.length,
    dispatches_unfused: programs.unfused.gpu!.dispatches.length,
    dispatches_base: programs.base.gpu!.dispatches.length,
    planned_bytes: plannedBytes(plan, settings.batch, settings.seq),
    gflops: forwardFlops(programs.fused.nodes, settings.batch, settings.seq) / (fused.median * 1e6),
    load_ms: cold.load_ms,
    first_run_ms: cold.first_run_ms,
    timings: { base, fused, unfused },
  };
}
