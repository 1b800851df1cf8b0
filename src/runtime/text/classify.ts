import { AdaptRuntimeError, ArgumentError } from '../errors.js';
import { describeValue, isRecord, requireCount, requireKnownKeys } from '../guards.js';
import { maxTokens, type TextInputs } from '../inputs.js';
import type { Program, ProgramText } from '../program.js';

/** Texts in, labels out: tokenize, run the program, and turn its logits into scores on the host. */

/** What the runtime needs of a tokenizer (TextTokenizer in tokenizer.ts has it). */
export interface BatchTokenizer {
  encodeBatch(
    texts: string[],
    options: { readonly maxLength: number; readonly padId?: number },
  ): {
    readonly inputIds: Int32Array;
    readonly attentionMask: Int32Array;
    readonly tokenTypeIds: Int32Array;
    readonly batch: number;
    readonly seq: number;
    readonly tokens: string[][];
    readonly words: (number | null)[][];
    readonly truncated: number[];
  };
}

export interface LabelScore {
  readonly label: string;
  readonly score: number;
}

/** One token's best label, for token classification. */
export interface TokenLabel extends LabelScore {
  readonly token: string;
  /** The index of the word of the text it belongs to. */
  readonly word: number;
}

export interface ClassifyOptions {
  /** Sequence classification: how many labels to return per text, best first; all by default. */
  readonly topK?: number;
}

export interface TextOutputTensor {
  readonly data: Float32Array;
  readonly shape: readonly number[];
}

export interface TextOutputs {
  readonly last_hidden_state: TextOutputTensor;
  /** Present where the program has a head. */
  readonly logits?: TextOutputTensor;
  /**
   * A parallel(...) program's outputs, per branch NAME instead of the two above:
   * `last_hidden_state.NAME` and, where the branch has a head, `logits.NAME`.
   */
  readonly [output: string]: TextOutputTensor | undefined;
}

export interface Encoding {
  /** [B, T, d], T the longest text's token count. */
  readonly last_hidden_state: TextOutputTensor;
  /** Per text, its tokens (special tokens included, padding not). */
  readonly tokens: readonly (readonly string[])[];
}

/** A loaded text program, as classify and encode use it. */
export interface TextRunner {
  readonly program: Program;
  readonly tokenizer: BatchTokenizer | undefined;
  readonly run: (inputs: TextInputs) => Promise<TextOutputs>;
  readonly onNotice: (message: string) => void;
}

function requireText(runner: TextRunner): { text: ProgramText; tokenizer: BatchTokenizer } {
  const text = runner.program.model.text;
  if (!text)
    throw new AdaptRuntimeError(
      `graph '${runner.program.graph}' reads hidden states, not text; compile a spec whose model is read from a checkpoint`,
    );
  if (!runner.tokenizer)
    throw new AdaptRuntimeError(
      'no tokenizer was given: load the model with { tokenizer: loadTokenizer(tokenizer.json) }',
    );
  return { text, tokenizer: runner.tokenizer };
}

function readTexts(texts: unknown): string[] {
  if (!Array.isArray(texts) || texts.length === 0)
    throw new ArgumentError(
      `texts must be a non-empty array of strings, got ${describeValue(texts)}`,
    );
  return texts.map((item: unknown, i) => {
    if (typeof item !== 'string')
      throw new ArgumentError(`texts[${i}] must be a string, got ${describeValue(item)}`);
    return item;
  });
}

/** Tokenizes the texts, with a notice naming any cut to fit the model's positions. */
function tokenize(runner: TextRunner, texts: unknown) {
  const { text, tokenizer } = requireText(runner);
  const maxLength = maxTokens(text);
  const encoded = tokenizer.encodeBatch(readTexts(texts), {
    maxLength,
    ...(text.padId === undefined ? {} : { padId: text.padId }),
  });
  if (encoded.truncated.length > 0) {
    const which = encoded.truncated.map((i) => `texts[${i}]`).join(', ');
    runner.onNotice(`cut to ${maxLength} tokens, as the model takes no more: ${which}`);
  }
  return { text, encoded, inputs: textInputs(runner.program, encoded) };
}

/** An encoded batch as the inputs the program takes: token ids, and the mask and types it reads. */
export function textInputs(
  program: Program,
  encoded: {
    readonly batch: number;
    readonly seq: number;
    readonly inputIds: Int32Array;
    readonly attentionMask: Int32Array;
    readonly tokenTypeIds: Int32Array;
  },
): TextInputs {
  const shape = [encoded.batch, encoded.seq];
  const takes = new Set(program.inputs.map((io) => io.name));
  return {
    input_ids: { data: encoded.inputIds, shape },
    ...(takes.has('attention_mask')
      ? { attention_mask: { data: encoded.attentionMask, shape } }
      : {}),
    ...(takes.has('token_type_ids')
      ? { token_type_ids: { data: encoded.tokenTypeIds, shape } }
      : {}),
  };
}

/** Softmax or sigmoid of `count` logits from `offset`, in f64. */
export function scoreLogits(
  logits: Float32Array,
  offset: number,
  count: number,
  kind: 'softmax' | 'sigmoid',
): Float64Array {
  const out = new Float64Array(count);
  if (kind === 'sigmoid') {
    for (let i = 0; i < count; i++) out[i] = 1 / (1 + Math.exp(-logits[offset + i]!));
    return out;
  }
  let max = -Infinity;
  for (let i = 0; i < count; i++) max = Math.max(max, logits[offset + i]!);
  let sum = 0;
  for (let i = 0; i < count; i++) {
    out[i] = Math.exp(logits[offset + i]! - max);
    sum += out[i]!;
  }
  for (let i = 0; i < count; i++) out[i] = out[i]! / sum;
  return out;
}

/** The labels by score, best first; ties keep the label order. */
export function rankLabels(
  scores: Float64Array,
  labels: readonly string[],
  topK: number,
): LabelScore[] {
  return labels
    .map((label, i) => ({ label, score: scores[i]! }))
    .sort((a, b) => b.score - a.score)
    .slice(0, topK);
}

function readClassifyOptions(options: unknown, labels: number): number {
  if (options === undefined) return labels;
  if (!isRecord(options))
    throw new ArgumentError(`classify options must be an object, got ${describeValue(options)}`);
  requireKnownKeys(options, ['topK'], 'classify options');
  if (options.topK === undefined) return labels;
  return Math.min(requireCount(options.topK, 'topK'), labels);
}

/** What the head says of a batch: labels per text, a label per token, or the next tokens. */
export type Predictions =
  | { readonly kind: 'sequence'; readonly labels: LabelScore[][] }
  | { readonly kind: 'token'; readonly labels: TokenLabel[][] }
  | { readonly kind: 'next-token'; readonly next: { id: number; score: number }[][] };

/** The tokens of a batch as the tokenizer gave them, with each token's word. */
export interface TokenizedBatch {
  readonly seq: number;
  readonly tokens: readonly (readonly string[])[];
  readonly words: readonly (readonly (number | null)[])[];
}

/**
 * The head's logits as predictions: per text its `topK` labels by score (sequence
 * classification), each token's best label (token classification; special tokens left out), or
 * the `topK` likeliest tokens after the text's last token (a language-model head, by softmax).
 */
export function predictions(
  head: NonNullable<ProgramText['head']>,
  batch: TokenizedBatch,
  logits: Float32Array,
  topK: number,
): Predictions {
  if (head.layout === 'tied-embeddings') {
    const vocab = logits.length / (batch.tokens.length * batch.seq);
    const next = batch.tokens.map((tokens, b) => {
      const at = (b * batch.seq + tokens.length - 1) * vocab;
      const scores = scoreLogits(logits, at, vocab, 'softmax');
      return [...scores.keys()]
        .sort((x, y) => scores[y]! - scores[x]! || x - y)
        .slice(0, topK)
        .map((id) => ({ id, score: scores[id]! }));
    });
    return { kind: 'next-token', next };
  }
  const count = head.labels.length;
  if (head.layout !== 'token') {
    const labels = batch.tokens.map((_, b) =>
      rankLabels(scoreLogits(logits, b * count, count, head.scores), head.labels, topK),
    );
    return { kind: 'sequence', labels };
  }
  const labels = batch.tokens.map((tokens, b) =>
    tokens.flatMap((token, t): TokenLabel[] => {
      const word = batch.words[b]![t];
      if (word === null || word === undefined) return [];
      const scores = scoreLogits(logits, (b * batch.seq + t) * count, count, head.scores);
      const [best] = rankLabels(scores, head.labels, 1);
      return [{ token, word, label: best!.label, score: best!.score }];
    }),
  );
  return { kind: 'token', labels };
}

/**
 * Per text, its labels with scores (sequence classification), or each token's best label
 * (token classification; special tokens left out).
 */
export async function classifyTexts(
  runner: TextRunner,
  texts: unknown,
  options?: unknown,
): Promise<LabelScore[][] | TokenLabel[][]> {
  const { text } = requireText(runner);
  const head = text.head;
  if (!head || head.layout === 'tied-embeddings')
    throw new AdaptRuntimeError(
      head
        ? `graph '${runner.program.graph}' ends in a language-model head, which predicts tokens, not labels`
        : `graph '${runner.program.graph}' has no classification head (its checkpoint has none, or the spec says 'head none')`,
    );
  const topK = readClassifyOptions(options, head.labels.length);
  const { encoded, inputs } = tokenize(runner, texts);
  const { logits } = await runner.run(inputs);
  if (!logits) throw new AdaptRuntimeError("the run returned no 'logits'");
  const predicted = predictions(head, encoded, logits.data, topK);
  return predicted.kind === 'next-token' ? [] : predicted.labels;
}

/** The encoder's output for each text. */
export async function encodeTexts(runner: TextRunner, texts: unknown): Promise<Encoding> {
  const { encoded, inputs } = tokenize(runner, texts);
  const { last_hidden_state } = await runner.run(inputs);
  return { last_hidden_state, tokens: encoded.tokens };
}
