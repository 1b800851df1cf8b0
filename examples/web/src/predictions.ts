import type { LabelScore, ProgramText } from '../../../src/runtime/index.js';
import { rankLabels, scoreLogits } from '../../../src/runtime/text/classify.js';
import type { EncodedBatch } from '../../../src/runtime/text/tokenizer.js';

/** How many labels or next tokens the page shows per text. */
export const SHOWN = 5;

/** A word of the text with its entity: the label of its first token, as Hugging Face aggregates. */
export interface WordLabel {
  readonly word: string;
  readonly label: string;
  readonly score: number;
}

export interface NextToken {
  readonly id: number;
  /** The token as the vocabulary writes it (`Ġm`). */
  readonly token: string;
  /** What it reads as, through the tokenizer's decoder (` m`). */
  readonly text: string;
  readonly score: number;
}

/** What the page shows for one text. */
export interface TextPrediction {
  readonly text: string;
  /** Its tokens, special tokens included, padding not. */
  readonly tokens: readonly string[];
  /** Which tokens are special (no word of the text). */
  readonly special: readonly boolean[];
  readonly truncated: boolean;
  /** Sequence classification: the labels by score, best first. */
  readonly labels?: readonly LabelScore[];
  /** Token classification: each word and its entity. */
  readonly words?: readonly WordLabel[];
  /** A language model: the likeliest tokens after the text's last one. */
  readonly next?: readonly NextToken[];
}

/** Token ids back to text, through tokenizer.json's decoder. */
export type Decode = (ids: readonly number[]) => string;

function wordLabels(
  head: NonNullable<ProgramText['head']>,
  encoded: EncodedBatch,
  logits: Float32Array,
  b: number,
  decode: Decode,
): WordLabel[] {
  const count = head.labels.length;
  const byWord = new Map<number, number[]>();
  encoded.words[b]!.forEach((word, t) => {
    if (word !== null) byWord.set(word, [...(byWord.get(word) ?? []), t]);
  });
  return [...byWord.values()].map((positions) => {
    const first = b * encoded.seq + positions[0]!;
    const [best] = rankLabels(
      scoreLogits(logits, first * count, count, head.scores),
      head.labels,
      1,
    );
    const ids = positions.map((t) => encoded.inputIds[b * encoded.seq + t]!);
    return { word: decode(ids).trim(), label: best!.label, score: best!.score };
  });
}

function nextTokens(
  encoded: EncodedBatch,
  logits: Float32Array,
  b: number,
  vocabToken: (id: number) => string,
  decode: Decode,
): NextToken[] {
  const vocab = logits.length / (encoded.batch * encoded.seq);
  const last = b * encoded.seq + encoded.tokens[b]!.length - 1;
  const scores = scoreLogits(logits, last * vocab, vocab, 'softmax');
  return [...scores.keys()]
    .sort((x, y) => scores[y]! - scores[x]! || x - y)
    .slice(0, SHOWN)
    .map((id) => ({ id, token: vocabToken(id), text: decode([id]), score: scores[id]! }));
}

/** Each text's predictions from the head's logits, as `classify` scores them. */
export function predict(
  text: ProgramText,
  texts: readonly string[],
  encoded: EncodedBatch,
  logits: Float32Array | undefined,
  vocabToken: (id: number) => string,
  decode: Decode,
): TextPrediction[] {
  const truncated = new Set(encoded.truncated);
  return texts.map((input, b) => {
    const tokens = encoded.tokens[b]!;
    const base: TextPrediction = {
      text: input,
      tokens,
      special: encoded.words[b]!.map((word) => word === null),
      truncated: truncated.has(b),
    };
    const head = text.head;
    if (!head || !logits) return base;
    if (head.layout === 'tied-embeddings')
      return { ...base, next: nextTokens(encoded, logits, b, vocabToken, decode) };
    if (head.layout === 'token')
      return { ...base, words: wordLabels(head, encoded, logits, b, decode) };
    const count = head.labels.length;
    const scores = scoreLogits(logits, b * count, count, head.scores);
    return { ...base, labels: rankLabels(scores, head.labels, count) };
  });
}
