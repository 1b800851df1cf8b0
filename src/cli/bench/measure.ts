import { compile, forwardFlops, plannedBytes, type ReadFile } from '../../compiler/index.js';
import { randomInputs, type ModelInputs } from '../../runtime/inputs.js';
import type { OnnxModelSource } from '../../runtime/onnx/session.js';
import type { Program, Target } from '../../runtime/program.js';
import type { LoadedModel, Runtime } from '../../runtime/runtime.js';
import type { TensorMap } from '../../runtime/safetensors.js';
import { initTensor, initWeights } from '../../runtime/weights.js';
import { onnxModelForRuntime } from '../onnx-model.js';

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
  /** The WebGPU plan's dispatches and planned activation memory; absent on the other backends. */
  readonly dispatches_fused?: number;
  readonly dispatches_unfused?: number;
  readonly dispatches_base?: number;
  readonly planned_bytes?: number;
  /**
   * Work of the fused forward pass over its median time: the fused graph's on WebGPU; on the onnx
   * backend the graph's as lowered, so that the rewrites' savings show as a higher rate.
   */
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

export type BenchKind = 'base' | 'fused' | 'unfused';

/**
 * The three programs a graph is measured with. On the onnx backend all three are the graph as
 * lowered (the base one of the bare base model), and `onnx` says how each kind's ONNX model is
 * exported from the bound weights: fused after the graph-level rewrites, unfused as lowered.
 */
export interface BenchPrograms {
  readonly fused: Program;
  readonly unfused: Program;
  readonly base: Program;
  readonly onnx?: Readonly<Record<BenchKind, OnnxModelSource>>;
}

export interface BenchModels {
  readonly models: Readonly<Record<BenchKind, LoadedModel>>;
  readonly inputs: ModelInputs;
  readonly load_ms: number;
  readonly first_run_ms: number;
  dispose(): void;
}

/**
 * Seeded weights for the graph and for the bare base, which may end in another head (the
 * checkpoint's, where the graph ends in an AdapterHub head): the base's own tensors are seeded
 * too, each from its name as always, so shared tensors are the same arrays.
 */
function seededForBoth(programs: BenchPrograms): TensorMap {
  const tensors = initWeights(programs.unfused, 0);
  for (const spec of programs.base.weights)
    if (!tensors.has(spec.name))
      tensors.set(spec.name, { dtype: 'F32', shape: spec.shape, data: initTensor(spec, 0) });
  return tensors;
}

/** The tensors `program` reads, so that loading it notes no others as ignored. */
function readBy(program: Program, tensors: TensorMap): TensorMap {
  return new Map(
    program.weights.flatMap((spec) => {
      const tensor = tensors.get(spec.name);
      return tensor ? [[spec.name, tensor] as const] : [];
    }),
  );
}

/**
 * Loads the three programs with one set of weights. The fused one goes first, so that its load
 * and first forward pass are cold (no kernel of the others compiled before).
 */
export async function loadBenchModels(
  runtime: Runtime,
  programs: BenchPrograms,
  settings: Pick<BenchSettings, 'batch' | 'seq'>,
  weights?: TensorMap,
): Promise<BenchModels> {
  const tensors = weights ?? seededForBoth(programs);
  const inputs = randomInputs(programs.fused, settings.batch, settings.seq, 1);
  const loaded: LoadedModel[] = [];
  const load = async (kind: BenchKind) => {
    const onnx = programs.onnx?.[kind];
    const own = weights ? tensors : readBy(programs[kind], tensors);
    const model = await runtime.load(programs[kind], own, onnx ? { onnx } : {});
    loaded.push(model);
    return model;
  };
  try {
    const loadStart = performance.now();
    const fused = await load('fused');
    const load_ms = performance.now() - loadStart;
    const runStart = performance.now();
    await fused.run(inputsFor(fused.program, inputs));
    const first_run_ms = performance.now() - runStart;
    const models = {
      base: await load('base'),
      fused,
      unfused: await load('unfused'),
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

/** The three programs a graph is measured with on WebGPU: fused, unfused, and the base alone. */
export function benchPrograms(
  source: string,
  fileName: string,
  settings: BenchSettings,
): BenchPrograms {
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

/**
 * The three programs a graph is measured with on the onnx backend, as `adapt run --backend onnx`
 * runs it: the graph as lowered, exported from the weights the runtime bound, fused after the
 * graph-level rewrites (as `adapt export --optimize` writes it) and unfused as lowered.
 */
export function onnxBenchPrograms(
  source: string,
  fileName: string,
  settings: BenchSettings,
): BenchPrograms {
  const lower = (base: boolean) => {
    const result = compile(source, {
      fileName,
      graph: settings.graph,
      fuse: false,
      gpu: false,
      benchmark: { layers: settings.layers, base },
      ...(settings.readFile ? { readFile: settings.readFile } : {}),
    });
    return { program: result.program!, ir: result.ir! };
  };
  const graph = lower(false);
  const base = lower(true);
  const exporter = (lowered: ReturnType<typeof lower>, optimize: boolean) =>
    onnxModelForRuntime(fileName, lowered.ir, { graph: lowered.program.graph, optimize });
  return {
    fused: graph.program,
    unfused: graph.program,
    base: base.program,
    onnx: {
      fused: exporter(graph, true),
      unfused: exporter(graph, false),
      base: exporter(base, true),
    },
  };
}

/** The programs of `benchPrograms` or `onnxBenchPrograms`, as the runtime's backend runs them. */
export function programsFor(
  runtime: Pick<Runtime, 'backend'>,
  source: string,
  fileName: string,
  settings: BenchSettings,
): BenchPrograms {
  return runtime.backend === 'onnx'
    ? onnxBenchPrograms(source, fileName, settings)
    : benchPrograms(source, fileName, settings);
}

/** Times one graph fused, unfused and as the bare base model, with the same weights and inputs. */
export async function benchGraph(
  runtime: Runtime,
  source: string,
  fileName: string,
  settings: BenchSettings,
  weights?: TensorMap,
): Promise<GraphBench> {
  const programs = programsFor(runtime, source, fileName, settings);
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
  programs: BenchPrograms,
  timings: Record<BenchKind, Timing>,
  cold: Pick<BenchModels, 'load_ms' | 'first_run_ms'>,
): GraphBench {
  const { base, fused, unfused } = timings;
  return {
    graph: settings.graph,
    base_ms: base.median,
    fused_ms: fused.median,
    unfused_ms: unfused.median,
    overhead: fused.median / base.median - 1,
    fusion_speedup: unfused.median / fused.median,
    ...gpuFigures(programs, settings),
    gflops: forwardFlops(programs.fused.nodes, settings.batch, settings.seq) / (fused.median * 1e6),
    load_ms: cold.load_ms,
    first_run_ms: cold.first_run_ms,
    timings: { base, fused, unfused },
  };
}

/** Dispatches and planned memory of the WebGPU plans; none for programs run without one. */
function gpuFigures(programs: BenchPrograms, settings: Pick<BenchSettings, 'batch' | 'seq'>) {
  const [fused, unfused, base] = [programs.fused.gpu, programs.unfused.gpu, programs.base.gpu];
  if (programs.onnx || !fused || !unfused || !base) return {};
  return {
    dispatches_fused: fused.dispatches.length,
    dispatches_unfused: unfused.dispatches.length,
    dispatches_base: base.dispatches.length,
    planned_bytes: plannedBytes(fused, settings.batch, settings.seq),
  };
}
