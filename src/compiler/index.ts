import { hasErrors, type Diagnostic } from './diagnostics.js';
import { emitProgram } from './emit-program.js';
import { checkSource, describeArgument, requireString } from './frontend.js';
import { MAX_LAYERS } from './check/limits.js';
import type { IrGraph } from './ir/types.js';
import { benchmarkVariant, type BenchmarkVariant } from './bench-variants.js';
import { planGpu } from './codegen/plan.js';
import { lowerModel, lowerSlots, type SlotOptions } from './lower/lower.js';
import { slotSignature } from './lower/slot-signature.js';
import { SLOT_SCALE } from './lower/slot-stacks.js';
import { optimize } from './passes/pipeline.js';
import { didYouMean, quoteList } from './suggest.js';
import { ArgumentError } from '../runtime/errors.js';
import type { Model } from './model.js';
import type { ReadFile } from './check/index.js';
import { MAX_SLOTS, type Program, type Target } from '../runtime/program.js';

// Checking a spec: diagnostics, and the source positions they point at.
export { checkSource, type CheckOptions, type FrontendResult } from './frontend.js';
export type { ReadFile } from './check/index.js';
export { DIAGNOSTIC_CODES, hasErrors, type Diagnostic } from './diagnostics.js';
export { SourceFile, type Position } from './source.js';
export { MAX_LAYERS } from './check/limits.js';
export { quoteList } from './suggest.js';
export { parseJson, type JsonObject, type JsonValue } from './check/checkpoint/json.js';

// The checked model and its parameter counts.
export { SITES, type Composition, type Model } from './model.js';
export { countParams, type ParamReport } from './params.js';
export { savedWeightsOf, type SavedWeights } from './graph-uses.js';
export { graphHead } from './graph-head.js';

// The graph IR: lowering, and the text, DOT and picture views of a graph.
export { lowerModel, type SlotOptions } from './lower/lower.js';
export { slotSignature } from './lower/slot-signature.js';
export { printGraph } from './ir/print.js';
export { graphToDot } from './ir/dot.js';
export { graphPicture } from './picture.js';

// The compiled program: its kernels and plan as text, its memory and its work.
export type { Program } from '../runtime/program.js';
export { printWgsl, printPlan, plannedBytes } from './codegen/print-plan.js';
export { forwardFlops } from './ir/flops.js';
export type { BenchmarkVariant } from './bench-variants.js';

export interface CompileOptions {
  readonly fileName?: string;
  /** The graph to compile; `default` unless given. */
  readonly graph?: string;
  /** Run the optimizing passes (default true); false keeps one kernel per op, the eager baseline. */
  readonly fuse?: boolean;
  /** Kernel profile: 'software' (lavapipe, SwiftShader; the default) or 'gpu'. */
  readonly target?: Target;
  /** Largest storage binding (default 128 MiB, WebGPU's portable limit); bigger weights are split. */
  readonly maxBindingBytes?: number;
  /**
   * Plan the graph for WebGPU (default true). False compiles for the CPU reference only: the
   * program has no `gpu` plan, and no WebGPU limit applies. With it, weights that one storage
   * binding cannot hold and that cannot be split (a word table) are a ResourceError.
   */
  readonly gpu?: boolean;
  /** For benchmarks only: compile a variant of the model instead of the spec as written. */
  readonly benchmark?: BenchmarkVariant;
  /**
   * Reads `DIR/config.json` for `model NAME from "DIR"` (the path exactly so; the host resolves
   * it relative to the spec); undefined when there is no such file. See checkSource.
   */
  readonly readFile?: ReadFile;
  /**
   * Compile an adapter-slots program instead of `graph`: the graph `adapter` alone, with its
   * per-adapter tensors stacked over `count` slots (1..1024) and the slot of each sequence read
   * from `adapter_index`. `program.slots` lists the stacked weights; writeWeights fills them.
   */
  readonly slots?: SlotOptions;
}

export interface CompileResult {
  /** Absent when the source has errors or the graph does not exist (see diagnostics). */
  readonly program: Program | undefined;
  readonly diagnostics: readonly Diagnostic[];
  readonly model: Model | undefined;
  /** The graph as lowered, before any pass. */
  readonly ir: IrGraph | undefined;
  /** The graph the program runs: after the passes, or `ir` itself with `fuse: false`. */
  readonly optimized: IrGraph | undefined;
}

/** For each option, what its value must be when it is not (or undefined when it is). */
type OptionKinds<T> = Record<keyof T, (value: unknown) => string | undefined>;

const BENCHMARK_OPTION_KINDS: OptionKinds<BenchmarkVariant> = {
  layers: (v) =>
    Number.isSafeInteger(v) && (v as number) >= 1 && (v as number) <= MAX_LAYERS
      ? undefined
      : `an integer from 1 to ${MAX_LAYERS}`,
  base: (v) => (typeof v === 'boolean' ? undefined : 'a boolean'),
};

const SLOT_OPTION_KINDS: OptionKinds<SlotOptions> = {
  adapter: (v) => (typeof v === 'string' ? undefined : 'a string'),
  count: (v) =>
    Number.isSafeInteger(v) && (v as number) >= 1 && (v as number) <= MAX_SLOTS
      ? undefined
      : `an integer from 1 to ${MAX_SLOTS}`,
};

const OPTION_KINDS: OptionKinds<CompileOptions> = {
  fileName: (v) => (typeof v === 'string' ? undefined : 'a string'),
  graph: (v) => (typeof v === 'string' ? undefined : 'a string'),
  fuse: (v) => (typeof v === 'boolean' ? undefined : 'a boolean'),
  target: (v) => (v === 'software' || v === 'gpu' ? undefined : "'software' or 'gpu'"),
  maxBindingBytes: (v) =>
    Number.isSafeInteger(v) && (v as number) >= 4 ? undefined : 'an integer of at least 4',
  benchmark: (v) => {
    if (!isPlainObject(v)) return 'an object';
    checkOptions(v, BENCHMARK_OPTION_KINDS);
    return undefined;
  },
  readFile: (v) => (typeof v === 'function' ? undefined : 'a function'),
  gpu: (v) => (typeof v === 'boolean' ? undefined : 'a boolean'),
  slots: (v) => {
    if (!isPlainObject(v)) return 'an object';
    checkOptions(v, SLOT_OPTION_KINDS, 'slots.');
    for (const key of ['adapter', 'count'] as const)
      if ((v as Partial<SlotOptions>)[key] === undefined) return `an object with '${key}'`;
    return undefined;
  },
};

const isPlainObject = (value: unknown): value is object =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Throws an ArgumentError for a wrong or unknown key of `options`, an object. */
function checkOptions<T extends object>(
  options: object,
  kinds: OptionKinds<T>,
  /** The option these are the keys of, e.g. `slots.`; '' for the options themselves. */
  within = '',
): asserts options is T {
  for (const [key, value] of Object.entries(options)) {
    const check = kinds[key as keyof T] as ((value: unknown) => string | undefined) | undefined;
    if (!check) {
      const options = Object.keys(kinds);
      const hint = didYouMean(key, options) ?? `the options are ${quoteList(options)}`;
      throw new ArgumentError(`compile: unknown option '${within}${key}'; ${hint}`);
    }
    const expected = value === undefined ? undefined : check(value);
    if (expected) {
      throw new ArgumentError(
        `compile: option '${within}${key}' must be ${expected}, got ${describeArgument(value)}`,
      );
    }
  }
}

/** Throws an ArgumentError for options that are not an object, or hold a wrong or unknown key. */
function checkCompileOptions(options: unknown): asserts options is CompileOptions {
  if (!isPlainObject(options)) {
    throw new ArgumentError(`compile: options must be an object, got ${describeArgument(options)}`);
  }
  checkOptions(options, OPTION_KINDS);
}

/**
 * Compiles .adapt source text to a Program. Never throws for bad input: read `diagnostics`.
 * Arguments of the wrong kind (a source that is not a string, unknown options) are an
 * ArgumentError.
 */
export function compile(source: string, options: CompileOptions = {}): CompileResult {
  requireString(source, 'compile: source');
  checkCompileOptions(options);
  const fileName = options.fileName ?? '<input>';
  const front = checkSource(source, fileName, { readFile: options.readFile });
  const diagnostics = [...front.diagnostics];
  let model = front.model;
  let graphName = options.graph ?? 'default';
  if (model && options.benchmark) {
    ({ model, graph: graphName } = benchmarkVariant(model, graphName, options.benchmark));
  }
  if (!model || hasErrors(diagnostics)) {
    return { program: undefined, diagnostics, model, ir: undefined, optimized: undefined };
  }
  if (options.slots) return compileSlots(model, options.slots, options, diagnostics);
  if (!model.graphs.has(graphName)) {
    diagnostics.push({
      code: 'E0410',
      severity: 'error',
      file: fileName,
      message: `no graph '${graphName}'; the graphs are ${quoteList([...model.graphs.keys()])}`,
    });
    return { program: undefined, diagnostics, model, ir: undefined, optimized: undefined };
  }
  const ir = lowerModel(model, graphName);
  const { optimized, gpu } = optimizeAndPlan(ir, options);
  // The manifest lists every weight of the model as lowered, also those a pass made
  // unnecessary (the key bias of a fusion cancels), so weight files bind the same either way.
  const program = emitProgram(model, graphName, optimized, { gpu, weights: ir.weights });
  return { program, diagnostics, model, ir, optimized };
}

/** The graph after the passes (unless `fuse` is false), and its WebGPU plan unless `gpu` is false. */
function optimizeAndPlan(ir: IrGraph, options: CompileOptions) {
  const fuse = options.fuse ?? true;
  const optimized = fuse ? optimize(ir) : ir;
  const gpu =
    options.gpu === false
      ? undefined
      : planGpu(optimized, options.target ?? 'software', fuse, options.maxBindingBytes);
  return { optimized, gpu };
}

/** The adapter-slots program of `slots.adapter`, or E0411 where it cannot take a slot. */
function compileSlots(
  model: Model,
  slots: SlotOptions,
  options: CompileOptions,
  diagnostics: Diagnostic[],
): CompileResult {
  const signed = slotSignature(model, slots.adapter);
  if ('reason' in signed) {
    const span = model.adapters.get(slots.adapter)?.span ?? model.fusions.get(slots.adapter)?.span;
    diagnostics.push({
      code: 'E0411',
      severity: 'error',
      file: options.fileName ?? '<input>',
      message: signed.reason,
      ...(span ? { span } : {}),
    });
    return { program: undefined, diagnostics, model, ir: undefined, optimized: undefined };
  }
  const { graph: ir, weights } = lowerSlots(model, slots);
  const { optimized, gpu } = optimizeAndPlan(ir, options);
  const program = emitProgram(model, slots.adapter, optimized, {
    gpu,
    weights: ir.weights,
    slots: { ...slots, signature: signed.signature, weights, scale: SLOT_SCALE },
  });
  return { program, diagnostics, model, ir, optimized };
}
