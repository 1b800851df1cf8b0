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

function summarize(samples: number[]): Timing {
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
    samples,
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
 * Runs the variants in interleaved rounds (base, fused, unfused, base, ...), so that load from
 * elsewhere on a shared machine falls on all of them alike; warm-up rounds are not timed.
 */
async function timeInterleaved<K extends string>(
  models: Readonly<Record<K, LoadedModel>>,
  inputs: ModelInputs,
  settings: BenchSettings,
): Promise<Record<K, Timing>> {
  const kinds = Object.keys(models) as K[];
  const samples = Object.fromEntries(kinds.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  for (let round = 0; round < settings.warmup + settings.iters; round++) {
    for (const kind of kinds) {
      const start = performance.now();
      await models[kind].run(inputsFor(models[kind].program, inputs));
      if (round >= settings.warmup) samples[kind].push(performance.now() - start);
      settings.tick?.();
    }
  }
  return Object.fromEntries(kinds.map((k) => [k, summarize(samples[k])])) as Record<K, Timing>;
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
  const tensors = weights ?? initWeights(programs.unfused, 0);
  const inputs = randomInputs(programs.fused, settings.batch, settings.seq, 1);
  const loaded: LoadedModel[] = [];
  try {
    const load = async (program: Program) => {
      const model = await runtime.load(program, tensors);
      loaded.push(model);
      return model;
    };
    const models = {
      base: await load(programs.base),
      fused: await load(programs.fused),
      unfused: await load(programs.unfused),
    };
    return report(settings, programs, await timeInterleaved(models, inputs, settings));
  } finally {
    for (const model of loaded) model.dispose();
  }
}

function report(
  settings: BenchSettings,
  programs: ReturnType<typeof benchPrograms>,
  timings: Record<'base' | 'fused' | 'unfused', Timing>,
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
    timings: { base, fused, unfused },
  };
}
