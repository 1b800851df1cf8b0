import { performance } from 'node:perf_hooks';
import {
  maxTokens,
  predictions as headPredictions,
  type BackendName,
  type LoadedModel,
  textInputs,
} from '../../src/runtime/index.js';
import type { Subject } from './subjects.js';

/** One configuration: a model on one backend, fed the texts this many at a time. */
export interface Configuration {
  readonly subject: Subject;
  readonly backend: BackendName;
  readonly model: LoadedModel;
  readonly batch: number;
}

/** Milliseconds of one pass over every text, per phase, summed over its batches. */
export interface PassTimes {
  readonly tokenize: number;
  readonly forward: number;
  readonly scores: number;
  readonly total: number;
}

/** A text's best label and every label's score, in the head's label order. */
export interface Prediction {
  readonly label: string;
  readonly scores: readonly number[];
}

export interface PassResult {
  readonly times: PassTimes;
  readonly predictions: readonly Prediction[];
}

/** The texts in batches of `size`, the last one shorter where `size` does not divide them. */
export function batches<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Classifies every text as `model.classify` does, timing its three phases apart: tokenizing
 * (encodeBatch, padded to the batch's longest text and cut to the model's positions), the
 * forward pass (`model.run` on the ids, every output read back) and the scores (what classify
 * does with the logits on the host: softmax or sigmoid in f64, and the labels ranked).
 */
export async function classifyPass(
  config: Configuration,
  texts: readonly string[],
): Promise<PassResult> {
  const { subject, model } = config;
  const { text, tokenizer } = subject;
  const encodeOptions = {
    maxLength: maxTokens(text),
    ...(text.padId === undefined ? {} : { padId: text.padId }),
  };
  const labels = text.head.labels;
  const predictions: Prediction[] = [];
  let tokenize = 0;
  let forward = 0;
  let scores = 0;
  for (const chunk of batches(texts, config.batch)) {
    const start = performance.now();
    const encoded = tokenizer.encodeBatch(chunk, encodeOptions);
    const inputs = textInputs(subject.program, encoded);
    const tokenized = performance.now();
    const outputs = await model.run(inputs);
    const ran = performance.now();
    const logits = outputs.logits;
    if (!logits) throw new Error(`${subject.specPath}: the run returned no logits`);
    const result = headPredictions(text.head, encoded, logits.data, labels.length);
    const scored = performance.now();
    if (result.kind !== 'sequence')
      throw new Error(`${subject.specPath}: the head does not classify sequences`);
    for (const ranked of result.labels) {
      const score = new Map(ranked.map((l) => [l.label, l.score]));
      predictions.push({ label: ranked[0]!.label, scores: labels.map((l) => score.get(l)!) });
    }
    tokenize += tokenized - start;
    forward += ran - tokenized;
    scores += scored - ran;
  }
  return { times: { tokenize, forward, scores, total: tokenize + forward + scores }, predictions };
}

export interface Measured {
  readonly config: Configuration;
  /** One entry per timed round, warm-up rounds left out. */
  readonly rounds: PassTimes[];
  /** From the last round. */
  predictions: readonly Prediction[];
}

export interface RoundOptions {
  readonly rounds: number;
  readonly warmup: number;
}

/**
 * Every configuration once per round, interleaved so that a slow spell of the machine falls on
 * all of them alike, each round starting one configuration later than the one before.
 */
export async function measureRounds(
  configs: readonly Configuration[],
  texts: readonly string[],
  options: RoundOptions,
  onRound: (round: number, total: number) => void,
): Promise<Measured[]> {
  const measured: Measured[] = configs.map((config) => ({ config, rounds: [], predictions: [] }));
  const total = options.warmup + options.rounds;
  for (let round = 0; round < total; round++) {
    onRound(round, total);
    for (let k = 0; k < configs.length; k++) {
      const entry = measured[(k + round) % configs.length]!;
      const result = await classifyPass(entry.config, texts);
      if (round >= options.warmup) entry.rounds.push(result.times);
      entry.predictions = result.predictions;
    }
  }
  return measured;
}
