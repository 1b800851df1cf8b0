import { totalmem } from 'node:os';
import { compile } from '../../compiler/index.js';
import { onnxModelForRuntime } from '../onnx-model.js';
import { maxTokens, randomInputs, type ModelInputs } from '../../runtime/inputs.js';
import { predictions, textInputs } from '../../runtime/text/classify.js';
import type { EncodedBatch, TextTokenizer } from '../../runtime/text/tokenizer.js';
import { GPU_TOLERANCE, relativeError } from '../../runtime/compare.js';
import { estimateMemory } from '../../runtime/memory.js';
import type { Program, Target } from '../../runtime/program.js';
import { Runtime, type BackendName } from '../../runtime/runtime.js';
import { ortProvider } from '../../runtime/onnx/ort.js';
import {
  saveSafetensors,
  type SafetensorsEntry,
  type TensorMap,
} from '../../runtime/safetensors.js';
import type { HostTensor } from '../../runtime/tensor.js';
import { seededWeights } from '../seeded/weights.js';
import { createRuntime } from '../create-runtime.js';
import { CliError, EXIT, type CliIO } from '../io.js';
import { loadProgram } from '../load-model.js';
import { addEstimates, requireMemory } from '../memory-check.js';
import { prepareOutput, writeOutput, type NamedPath } from '../output-file.js';
import { userErrors, type ErrorSource } from '../runtime-errors.js';
import { thousands } from '../table.js';
import { readCheckpoint, type Checkpoint } from '../checkpoint-files.js';
import { readTexts } from '../text-input.js';
import { renderTextResults, textResults } from '../text-output.js';
import { readTensorFile, readWeightFiles } from '../weights-files.js';
import { readSavedWeights } from '../saved-weights.js';

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
  /** Texts to classify (each occurrence one text), for a spec read from a checkpoint. */
  readonly text: readonly string[];
  readonly textFile?: string;
  /** Labels (or next tokens) per text, best first. */
  readonly topK: number;
}

const HIDDEN_INPUTS = ['hidden_states', 'attention_mask', 'adapter_index'] as const;
const TEXT_INPUTS = [
  'input_ids',
  'attention_mask',
  'token_type_ids',
  'position_ids',
  'adapter_index',
] as const;

/** The inputs of --input: hidden states, or token ids for a program read from a checkpoint. */
function inputsFromFile(io: CliIO, path: string, program: Program): ModelInputs {
  const tensors = readTensorFile(io.cwd, path);
  const names: readonly string[] = program.model.text ? TEXT_INPUTS : HIDDEN_INPUTS;
  const extra = [...tensors.keys()].filter((n) => !names.includes(n));
  if (extra.length > 0) io.stderr(`note: ignored tensors in ${path}: ${extra.join(', ')}\n`);
  const main = names[0]!;
  if (!tensors.has(main)) throw new CliError(`${path}: error: no '${main}' tensor`);
  const inputs = Object.fromEntries(
    names.flatMap((name) => {
      const tensor = tensors.get(name) as HostTensor | undefined;
      return tensor ? [[name, tensor]] : [];
    }),
  );
  return inputs as unknown as ModelInputs;
}

/** Tokenizes --text and --text-file for a checkpoint's program; undefined without texts. */
function tokenizeTexts(
  io: CliIO,
  file: string,
  program: Program,
  checkpoint: Checkpoint | undefined,
  options: RunOptions,
): { texts: string[]; encoded: EncodedBatch; tokenizer: TextTokenizer } | undefined {
  const texts = readTexts(io.cwd, options.text, options.textFile);
  if (!texts) return undefined;
  const text = program.model.text;
  if (!checkpoint || !text)
    throw new CliError(
      `${file}: error: --text needs a model read from a checkpoint (model NAME from "DIR"); this one reads hidden states`,
    );
  if (!checkpoint.tokenizer)
    throw new CliError(
      `${checkpoint.dir}: error: no tokenizer.json, so --text cannot be tokenized`,
    );
  const encoded = checkpoint.tokenizer.encodeBatch(texts, {
    maxLength: maxTokens(text),
    ...(text.padId === undefined ? {} : { padId: text.padId }),
  });
  if (encoded.truncated.length > 0) {
    const which = encoded.truncated.map((i) => i + 1).join(', ');
    io.stderr(
      `note: cut to ${maxTokens(text)} tokens, as the model takes no more: text ${which}\n`,
    );
  }
  return { texts, encoded, tokenizer: checkpoint.tokenizer };
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
  /** The main input's name: hidden_states, or input_ids for a checkpoint's program. */
  readonly input_name: string;
  readonly input: string;
  /** The main output's name: hidden_states, or last_hidden_state. */
  readonly output_name: string;
  readonly output: string;
  readonly mean: number;
  readonly std: number;
  readonly load_ms: number;
  readonly run_ms: number;
  /** Why --backend auto chose the backend it did, where that is not the obvious choice. */
  readonly backend_choice?: string;
  readonly reference_error?: number;
}

function describeInput(summary: Summary, options: RunOptions): string {
  if (options.input) return ` from ${options.input}`;
  if (options.text.length > 0 || options.textFile) return ' from the texts';
  return summary.input_name === 'hidden_states'
    ? ` random N(0, 1) (seed ${options.seed})`
    : ` random ids (seed ${options.seed})`;
}

function renderSummary(summary: Summary, backend: string, options: RunOptions): string {
  const lines = [
    `  backend   ${backend}`,
    ...(summary.backend_choice ? [`  chosen    ${summary.backend_choice}`] : []),
    `  weights   ${typeof summary.weights === 'string' ? summary.weights : summary.weights.join(', ')}, ${thousands(summary.parameters)} parameters`,
    `  input     ${summary.input_name} ${summary.input}${describeInput(summary, options)}`,
    `  output    ${summary.output_name} ${summary.output}  mean ${summary.mean.toFixed(6)}  std ${summary.std.toFixed(6)}`,
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

type Outputs = Readonly<
  Record<string, { readonly data: Float32Array; readonly shape: readonly number[] }>
>;

/**
 * Runs the CPU reference (the unfused graph) on the same weights and inputs; the error is the
 * largest relative error over the outputs.
 */
async function compareWithReference(
  reference: Program,
  weights: TensorMap | readonly TensorMap[],
  inputs: ModelInputs,
  outputs: Outputs,
  options: RunOptions,
): Promise<{ error: number; ok: boolean }> {
  const runtime = await Runtime.create({ backend: 'cpu', memoryLimitBytes: totalmem() });
  try {
    const model = await runtime.load(reference, weights);
    const expected = named(await model.run(inputs, { allowNonFinite: options.allowNonfinite }));
    const error = Math.max(
      ...Object.entries(outputs).map(([name, got]) =>
        relativeError(got.data, expected[name]!.data),
      ),
    );
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
    ...(options.textFile ? [{ option: '--text-file', path: options.textFile }] : []),
  ];
}

/** The run's batch and sequence size: the input's, or --batch and --seq. */
function runShape(inputs: ModelInputs | undefined, options: RunOptions, from: string | undefined) {
  const main = inputs && ('hidden_states' in inputs ? inputs.hidden_states : inputs.input_ids);
  const shape = main?.shape;
  if (shape && shape.length >= 2 && shape.every((n) => Number.isSafeInteger(n) && n > 0)) {
    return { batch: shape[0]!, seq: shape[1]!, what: `${from} [${shape.join(', ')}]` };
  }
  return {
    batch: options.batch,
    seq: options.seq,
    what: `--batch ${options.batch} --seq ${options.seq}`,
  };
}

async function describeBackend(
  runtime: Runtime,
  program: Program,
  options: RunOptions,
): Promise<string> {
  if (runtime.backend === 'cpu') return 'cpu (the reference: unfused graph, f64 sums)';
  if (runtime.backend === 'onnx') {
    const graph = options.fuse
      ? 'the graph after its graph-level rewrites'
      : 'the graph as lowered';
    return `onnx on ${await ortProvider()}, ${graph}`;
  }
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
  // The graph as lowered: what the CPU runs, the reference of --check, and the memory estimate
  // made before a GPU device is opened (the fused graph needs no more).
  // Its WebGPU plan serves the estimate only, so it is made without the binding limit, which is
  // the device's and known once the device is open; on the CPU alone no plan is needed.
  const lowered = loadProgram(io, file, options.graph, {
    fuse: false,
    target: options.target,
    gpu: options.backend !== 'cpu' && options.backend !== 'onnx',
    maxBindingBytes: Number.MAX_SAFE_INTEGER,
  });
  // Files next: a bad weight, checkpoint or input file is reported before a GPU device is opened.
  const spec = lowered.model.base.checkpoint;
  const hasTexts = options.text.length > 0 || options.textFile !== undefined;
  const checkpoint = spec
    ? readCheckpoint(io.cwd, file, spec.dir, { tokenizer: hasTexts })
    : undefined;
  const saved = readSavedWeights(io.cwd, file, lowered.model, options.graph);
  const given = options.weights.length > 0 ? readWeightFiles(io.cwd, options.weights) : [];
  const weightFiles =
    saved.tensors.length + given.length > 0 ? [...saved.tensors, ...given] : undefined;
  const inputFile = options.input ? inputsFromFile(io, options.input, lowered.program) : undefined;
  const tokenized = tokenizeTexts(io, file, lowered.program, checkpoint, options);
  if (tokenized && inputFile) throw new CliError('adapt: error: give --text or --input, not both');
  const givenInputs = tokenized ? textInputs(lowered.program, tokenized.encoded) : inputFile;
  const weightSources = [...(checkpoint?.weights.files ?? []), ...saved.files, ...options.weights];
  const source: ErrorSource = { weights: weightSources, input: options.input, spec: file };
  const shape = runShape(givenInputs, options, tokenized ? 'the texts' : options.input);
  const estimateOn =
    options.backend === 'auto' ? undefined : options.backend === 'onnx' ? 'cpu' : options.backend;
  requireMemory(
    shape.what,
    addEstimates([
      estimateMemory(lowered.program, shape, estimateOn),
      ...(options.check ? [estimateMemory(lowered.program, shape, 'cpu')] : []),
    ]),
  );
  const notices: string[] = [];
  const { runtime, choice } = await createRuntime(options, (n) => notices.push(n));
  try {
    const onGpu = runtime.backend === 'webgpu';
    const program = onGpu
      ? compile(lowered.source, {
          fileName: file,
          readFile: lowered.readFile,
          graph: options.graph,
          fuse: options.fuse,
          target: options.target ?? runtime.adapter?.profile ?? 'software',
          ...(runtime.adapter ? { maxBindingBytes: runtime.adapter.maxBindingBytes } : {}),
        }).program!
      : lowered.program;
    const reference = options.check ? lowered.program : undefined;
    const weights = checkpoint
      ? [checkpoint.weights.tensors, ...(weightFiles ?? [])]
      : (weightFiles ?? (await seededWeights(program, options.seed)));
    const inputs = givenInputs ?? randomInputs(program, options.batch, options.seq, options.seed);

    const loadStart = performance.now();
    const loadOptions =
      runtime.backend === 'onnx' ? { onnx: onnxExporter(file, lowered.ir, options) } : {};
    const model = await userErrors(() => runtime.load(program, weights, loadOptions), source).catch(
      (error: unknown) => {
        // Adapters trained on top of a checkpoint live in files of their own.
        if (
          error instanceof CliError &&
          checkpoint &&
          options.weights.length === 0 &&
          saved.files.length === 0
        )
          throw new CliError(
            `${error.message}; the checkpoint holds the base model: pass the adapters' weights with --weights FILE`,
          );
        throw error;
      },
    );
    const loadMs = performance.now() - loadStart;
    for (const notice of notices) io.stderr(`note: ${notice}\n`);
    const runStart = performance.now();
    const outputs = named(
      await userErrors(() => model.run(inputs, { allowNonFinite: options.allowNonfinite }), source),
    );
    const runMs = performance.now() - runStart;
    model.dispose();
    const mainOutput = program.outputs[0]!.name;
    const main = outputs[mainOutput]!;
    if (output) writeOutput(output, saveSafetensors(outputTensors(inputs, outputs)));
    const check = reference
      ? await userErrors(
          () => compareWithReference(reference, weights, inputs, outputs, options),
          source,
        )
      : undefined;
    const mainInput = program.inputs[0]!.name;
    const results = tokenized && textResultsOf(program, tokenized, outputs, options);
    const summary = {
      file,
      graph: program.graph,
      backend: runtime.backend,
      ...(choice ? { backend_choice: choice } : {}),
      ...(program.gpu && onGpu
        ? {
            adapter: runtime.adapter,
            target: program.gpu.target,
            fused: program.gpu.fused,
            dispatches: program.gpu.dispatches.length,
          }
        : {}),
      weights: weightSources.length > 0 ? weightSources : `seeded init (seed ${options.seed})`,
      parameters: program.weights.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0),
      input_name: mainInput,
      input: shapeText(inputTensor(inputs, mainInput).shape),
      output_name: mainOutput,
      output: shapeText(main.shape),
      ...statistics(main.data),
      load_ms: loadMs,
      run_ms: runMs,
      ...(check ? { reference_error: check.error } : {}),
      ...(options.output ? { written: options.output } : {}),
      ...(results ? { texts: results } : {}),
    };
    io.stdout(
      options.json
        ? `${JSON.stringify(summary, null, 2)}\n`
        : `${results ? renderTextResults(results) : ''}${file}, graph '${program.graph}'\n${renderSummary(summary, await describeBackend(runtime, program, options), options)}`,
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

/**
 * How the onnx backend gets its model: the graph as lowered, exported from the weights the
 * runtime bound, after the graph-level rewrites unless --no-fuse.
 */
function onnxExporter(
  file: string,
  ir: Parameters<typeof onnxModelForRuntime>[1],
  options: RunOptions,
) {
  return onnxModelForRuntime(file, ir, { graph: options.graph, optimize: options.fuse });
}

function inputTensor(inputs: ModelInputs, name: string): { readonly shape: readonly number[] } {
  return (inputs as unknown as Record<string, { readonly shape: readonly number[] }>)[name]!;
}

/** A run's outputs by name. */
function named(result: object): Outputs {
  const outputs: Record<string, { data: Float32Array; shape: readonly number[] }> = {};
  for (const [name, tensor] of Object.entries(result) as [string, Outputs[string] | undefined][])
    if (tensor) outputs[name] = tensor;
  return outputs;
}

/** What --output writes: the token inputs of a text run (as int32), then every output. */
function outputTensors(inputs: ModelInputs, outputs: Outputs): Record<string, SafetensorsEntry> {
  const written: Record<string, SafetensorsEntry> = {};
  if ('input_ids' in inputs) {
    for (const name of ['input_ids', 'attention_mask', 'token_type_ids'] as const) {
      const tensor = inputs[name];
      if (tensor)
        written[name] = { data: Int32Array.from(tensor.data, Number), shape: tensor.shape };
    }
  }
  for (const [name, tensor] of Object.entries(outputs)) written[name] = tensor;
  return written;
}

/** Per text, the head's predictions from the run's logits (or just its tokens, without a head). */
function textResultsOf(
  program: Program,
  tokenized: NonNullable<ReturnType<typeof tokenizeTexts>>,
  outputs: Outputs,
  options: RunOptions,
) {
  const head = program.model.text?.head;
  const logits = outputs.logits;
  const topK = Math.min(
    options.topK,
    head && head.labels.length > 0 ? head.labels.length : Infinity,
  );
  const predicted =
    head && logits ? predictions(head, tokenized.encoded, logits.data, topK) : undefined;
  return textResults(tokenized.texts, tokenized.encoded, predicted, (ids) =>
    tokenized.tokenizer.decode(ids),
  );
}
