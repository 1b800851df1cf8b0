import { compile, type Model } from '../../../src/compiler/index.js';
import {
  createCpuTrainer,
  createWebGpuTrainer,
  encodeTrainingData,
  makeBatch,
  parseTrainingData,
  prepareTraining,
  train,
  TRAIN_DEFAULTS,
  trainedDirectoryFiles,
  TrainingError,
  type EncodedData,
  type SavedFile,
  type Program,
  type TextTokenizer,
  type TrainingBackend,
} from '../../../src/runtime/index.js';
import type { LoadedCheckpoint } from './checkpoint.js';
import { tinyCheckpoint, TINY_DIR, withTinyModel } from './tiny-model.js';
import { parseSentences, SentenceError, type LabelledSentences } from './train-data.js';

/** The adapter (and head) the tab trains. */
export const TRAINED = 'task';
const BOTTLENECK = 16;

/** The spec the tab trains: the built-in model, one new adapter and an inline head of the labels. */
export function trainSpec(labels: readonly string[]): string {
  return [
    `model tiny from "${TINY_DIR}"`,
    `adapter ${TRAINED} { preset seq_bn bottleneck ${BOTTLENECK} }`,
    `head ${TRAINED} { type classification labels ${labels.map((l) => `"${l}"`).join(', ')} }`,
    `graph default = ${TRAINED}`,
    '',
  ].join('\n');
}

export interface PreparedSession {
  readonly spec: string;
  readonly model: Model;
  readonly program: Program;
  readonly labels: readonly string[];
  readonly data: EncodedData;
  readonly tokenizer: TextTokenizer;
  readonly setup: ReturnType<typeof prepareTraining>['setup'];
  readonly parameters: { readonly trained: number; readonly total: number };
}

/** Each word's tokens: a word the vocabulary has no piece for reads as [UNK] alone. */
function requireKnownWords(sentences: LabelledSentences, tokenizer: TextTokenizer): void {
  for (const row of sentences.rows) {
    const encoded = tokenizer.encodeBatch([row.text], { maxLength: 512 });
    const tokens = encoded.tokens[0]!;
    const words = encoded.words[0]!;
    const byWord = new Map<number, string[]>();
    words.forEach((word, t) => {
      if (word !== null) byWord.set(word, [...(byWord.get(word) ?? []), tokens[t]!]);
    });
    for (const pieces of byWord.values()) {
      if (pieces.every((p) => p === '[UNK]')) {
        const word = unknownWord(row.text, tokenizer);
        throw new SentenceError(
          `the word "${word}" has no tokens in the built-in model's vocabulary (letters, digits and common punctuation); leave it out`,
          row.line,
        );
      }
    }
  }
}

/** The first word of the text that tokenizes to [UNK] alone. */
function unknownWord(text: string, tokenizer: TextTokenizer): string {
  for (const word of text.split(/\s+/)) {
    const tokens = tokenizer.encodeBatch([word], { maxLength: 512 }).tokens[0]!;
    if (tokens.includes('[UNK]')) return word;
  }
  return text;
}

/** A runtime's data fault at `sentences:LINE` as ours, at the line. */
function asSentenceError(error: unknown): unknown {
  if (!(error instanceof TrainingError)) return error;
  const line = /:(\d+)$/.exec(error.location)?.[1];
  return new SentenceError(error.detail, line === undefined ? undefined : Number(line));
}

/**
 * The sentences parsed, the spec compiled with `{ fuse: false }` (what training takes), the
 * data encoded by the built-in model's tokenizer and every weight bound: the new adapter and
 * head seeded as their configs say (`prepareTraining`). Each fault is one SentenceError.
 */
export function prepareSession(
  typed: string,
  checkpoint: LoadedCheckpoint = tinyCheckpoint(),
): PreparedSession {
  const sentences = parseSentences(typed);
  const tokenizer = checkpoint.tokenizer!;
  requireKnownWords(sentences, tokenizer);
  const spec = trainSpec(sentences.labels);
  const compiled = compile(spec, {
    fileName: 'train.adapt',
    fuse: false,
    gpu: false,
    readFile: withTinyModel(() => undefined),
  });
  if (!compiled.program || !compiled.model)
    throw new Error(
      `the training spec does not compile: ${compiled.diagnostics.map((d) => d.message).join('; ')}`,
    );
  const { model, program } = compiled;
  const prepared = prepareTraining(
    { model, program },
    { target: { adapter: TRAINED }, weights: [checkpoint.tensors], seed: 0 },
  );
  let data: EncodedData;
  try {
    data = encodeTrainingData(
      parseTrainingData(sentences.jsonl, 'sentences', prepared.head),
      program.model.text!,
      tokenizer,
    );
  } catch (error) {
    throw asSentenceError(error);
  }
  const sizes = new Map(program.weights.map((w) => [w.name, w.shape.reduce((a, b) => a * b, 1)]));
  const count = (names: readonly string[]) => names.reduce((s, n) => s + sizes.get(n)!, 0);
  return {
    spec,
    model,
    program,
    labels: sentences.labels,
    data,
    tokenizer,
    setup: prepared.setup,
    parameters: { trained: count(prepared.setup.trained), total: count([...sizes.keys()]) },
  };
}

/** WebGPU where the browser has it, else the CPU reference. */
export async function sessionBackend(session: PreparedSession): Promise<TrainingBackend> {
  const webgpu = typeof navigator !== 'undefined' && 'gpu' in navigator && !!navigator.gpu;
  return webgpu ? createWebGpuTrainer(session.setup) : createCpuTrainer(session.setup);
}

export interface TrainSettings {
  readonly steps: number;
  readonly lr: number;
}

/** The tab's defaults: the loss falls clearly within them on the built-in model. */
export const TRAIN_TAB_DEFAULTS: TrainSettings = { steps: 30, lr: 3e-3 };

/**
 * Trains the session's adapter and head: batches of up to 8 sentences in a seeded order, AdamW
 * at a constant rate (no decay), `onStep` after each step with its loss.
 */
export async function trainSession(
  session: PreparedSession,
  backend: TrainingBackend,
  settings: TrainSettings,
  onStep: (step: number, loss: number) => void | Promise<void>,
  shouldStop: () => boolean = () => false,
): Promise<readonly number[]> {
  const result = await train(
    backend,
    {
      program: session.program,
      data: session.data,
      batchSize: Math.min(TRAIN_DEFAULTS.batch, session.data.rows.length),
      shuffle: true,
      seed: 0,
      schedule: { kind: 'constant', lr: settings.lr, warmupSteps: 0, totalSteps: settings.steps },
      optimizer: {
        weightDecay: 0,
        beta1: TRAIN_DEFAULTS.beta1,
        beta2: TRAIN_DEFAULTS.beta2,
        eps: TRAIN_DEFAULTS.eps,
      },
    },
    { onStep: ({ step, loss }) => onStep(step, loss), shouldStop },
  );
  return result.losses;
}

export interface LabelProbability {
  readonly label: string;
  readonly probability: number;
}

/** The trained adapter and head on one sentence: softmax of the logits, likeliest first. */
export async function classifySentence(
  session: PreparedSession,
  backend: TrainingBackend,
  sentence: string,
): Promise<LabelProbability[]> {
  if (sentence.trim() === '') throw new SentenceError('write a sentence to classify');
  let data: EncodedData;
  try {
    data = encodeTrainingData(
      { file: 'sentence', rows: [{ kind: 'sequence', line: 1, text: sentence, label: 0 }] },
      session.program.model.text!,
      session.tokenizer,
    );
  } catch (error) {
    throw asSentenceError(error);
  }
  const { logits } = await backend.evaluate(makeBatch(session.program, data, [0]));
  const max = Math.max(...logits);
  const exps = [...logits].map((z) => Math.exp(z - max));
  const sum = exps.reduce((s, e) => s + e, 0);
  return session.labels
    .map((label, i) => ({ label, probability: exps[i]! / sum }))
    .sort((a, b) => b.probability - a.probability);
}

/**
 * The trained adapter and head as the adapters library saves them (`save_adapter` with its
 * head): the files of an AdapterHub directory that `adapter NAME from "DIR"` loads back.
 */
export async function sessionFiles(
  session: PreparedSession,
  backend: TrainingBackend,
): Promise<SavedFile[]> {
  const weights = new Map(session.setup.weights);
  for (const [name, tensor] of await backend.trainedWeights()) weights.set(name, tensor);
  return trainedDirectoryFiles(session.model, session.program, { adapter: TRAINED }, weights);
}
