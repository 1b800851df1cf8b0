import { Tokenizer } from '@huggingface/tokenizers';
import type { Program } from '../../../src/compiler/index.js';
import {
  bindWeights,
  interpret,
  prepareInputs,
  relativeError,
  textInputs,
  type ProgramText,
  type TensorMap,
} from '../../../src/runtime/index.js';
import { maxTokens } from '../../../src/runtime/inputs.js';
import type { EncodedBatch } from '../../../src/runtime/text/tokenizer.js';
import { initTensor } from '../../../src/runtime/weights.js';
import type { LoadedCheckpoint } from './checkpoint.js';
import { compileFor } from './panels.js';
import { predict, type TextPrediction } from './predictions.js';
import {
  isAdapterWeight,
  keepFusionAlphas,
  vividFactor,
  webGpuRuntime,
  type Alphas,
} from './run.js';

/** What a run on text found; also left on `window.adaptcRun` for tests. */
export interface TextRunResult {
  readonly kind: 'text';
  readonly backend: 'webgpu' | 'cpu';
  /** The WebGPU adapter and its kernel profile; absent on the CPU reference. */
  readonly adapter?: string;
  readonly profile?: string;
  readonly dispatches?: number;
  readonly loadMs: number;
  readonly runMs: number;
  /** WebGPU's logits (or last_hidden_state without a head) against the CPU reference's. */
  readonly relativeError?: number;
  /** Weights seeded because no file held them (adapters, fusions). */
  readonly seeded: readonly string[];
  readonly predictions: readonly TextPrediction[];
}

/** Every tensor name a file answers to: as written, and without a leading prefix (`bert.`). */
function givenNames(files: readonly TensorMap[]): Set<string> {
  const names = new Set<string>();
  for (const file of files) {
    for (const name of file.keys()) {
      names.add(name);
      names.add(name.slice(name.indexOf('.') + 1));
    }
  }
  return names;
}

/** The adapter and fusion weights no file holds, seeded as `adapt run` seeds them. */
function seededAdapterWeights(
  program: Program,
  files: readonly TensorMap[],
  mode: 'vivid' | 'init',
) {
  const given = givenNames(files);
  const seeded: TensorMap = new Map();
  for (const spec of program.weights) {
    if (!isAdapterWeight(spec.name) || given.has(spec.name)) continue;
    const factor = mode === 'vivid' ? vividFactor(spec.name) : 1;
    const data = initTensor(spec, 0).map((v) => v * factor);
    seeded.set(spec.name, { dtype: 'F32', shape: spec.shape, data });
  }
  return seeded;
}

/** The texts as the program's token inputs, as `classify` tokenizes them. */
function tokenize(
  program: Program,
  text: ProgramText,
  checkpoint: LoadedCheckpoint,
  texts: string[],
) {
  if (!checkpoint.tokenizer)
    throw new Error(
      `${checkpoint.dir} has no tokenizer.json: the page cannot turn text into token ids`,
    );
  const encoded: EncodedBatch = checkpoint.tokenizer.encodeBatch(texts, {
    maxLength: maxTokens(text),
    ...(text.padId === undefined ? {} : { padId: text.padId }),
  });
  const inputs = textInputs(program, encoded);
  return { encoded, inputs };
}

/** Token ids back to text and to vocabulary entries, through tokenizer.json. */
function textOf(checkpoint: LoadedCheckpoint) {
  const library = new Tokenizer(checkpoint.tokenizerJson!, {});
  return {
    decode: (ids: readonly number[]) => library.decode([...ids]),
    vocabToken: (id: number) => library.id_to_token(id) ?? String(id),
  };
}

/** An f32 output of the interpreter; the program's outputs are f32 by its conventions. */
function floats(
  value: { readonly data: Float32Array | Int32Array | Uint8Array } | undefined,
  name: string,
): Float32Array | undefined {
  if (value === undefined) return undefined;
  if (!(value.data instanceof Float32Array))
    throw new Error(`the program's output '${name}' is not f32`);
  return value.data;
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * Tokenizes the texts, runs the graph (on WebGPU where the browser has it, checked against the
 * CPU reference; else on the CPU reference), and turns the head's logits into predictions.
 */
export async function runTexts(
  source: string,
  graph: string,
  checkpoint: LoadedCheckpoint,
  extraWeights: readonly TensorMap[],
  texts: string[],
  mode: 'vivid' | 'init',
  status: (message: string) => void,
): Promise<{ result: TextRunResult; alphas: Alphas; tokens: string[][] }> {
  const webgpu = 'gpu' in navigator && navigator.gpu !== undefined;
  const reference = compileFor(source, graph, 'software', false).program!;
  const text = reference.model.text!;
  const files = [checkpoint.tensors, ...extraWeights];
  const seeded = seededAdapterWeights(reference, files, mode);
  const weights = seeded.size > 0 ? [...files, seeded] : files;
  const { encoded, inputs } = tokenize(reference, text, checkpoint, texts);

  let gpu:
    { logits?: Float32Array; hidden: Float32Array; loadMs: number; runMs: number } | undefined;
  let device: { adapter: string; profile: string; dispatches: number } | undefined;
  if (webgpu) {
    const rt = await webGpuRuntime();
    const adapter = rt.adapter!;
    const program = compileFor(source, graph, adapter.profile).program!;
    status('uploading weights and building pipelines…');
    const loadStart = performance.now();
    const loaded = await rt.load(program, weights);
    const loadMs = performance.now() - loadStart;
    status('running on WebGPU…');
    const runStart = performance.now();
    const outputs = await loaded.run(inputs);
    const runMs = performance.now() - runStart;
    loaded.dispose();
    gpu = { logits: outputs.logits?.data, hidden: outputs.last_hidden_state.data, loadMs, runMs };
    device = {
      adapter: adapter.description || adapter.architecture || adapter.vendor || 'unknown adapter',
      profile: adapter.profile,
      dispatches: program.gpu!.dispatches.length,
    };
  }

  status('running the CPU reference…');
  await tick();
  const alphas: Alphas = new Map();
  const cpuStart = performance.now();
  const expected = interpret(
    reference,
    bindWeights(reference, weights).tensors,
    prepareInputs(reference, inputs),
    keepFusionAlphas(alphas),
  );
  const cpuMs = performance.now() - cpuStart;
  const cpuLogits = floats(expected.logits, 'logits');
  const cpuHidden = floats(expected.last_hidden_state, 'last_hidden_state')!;

  const logits = gpu ? gpu.logits : cpuLogits;
  const { decode, vocabToken } = textOf(checkpoint);
  const result: TextRunResult = {
    kind: 'text',
    backend: gpu ? 'webgpu' : 'cpu',
    ...device,
    loadMs: gpu?.loadMs ?? 0,
    runMs: gpu?.runMs ?? cpuMs,
    ...(gpu
      ? {
          relativeError: gpu.logits
            ? relativeError(gpu.logits, cpuLogits!)
            : relativeError(gpu.hidden, cpuHidden),
        }
      : {}),
    seeded: [...seeded.keys()],
    predictions: predict(text, texts, encoded, logits, vocabToken, decode),
  };
  return { result, alphas, tokens: encoded.tokens };
}
