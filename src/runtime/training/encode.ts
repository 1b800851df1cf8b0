import { AdaptError } from '../errors.js';
import { maxTokens } from '../inputs.js';
import type { ProgramText } from '../program.js';
import type { EncodedBatch, EncodeOptions } from '../text/tokenizer.js';
import { IGNORED_LABEL } from './backend.js';
import type { TrainingData, TrainingRow } from './data.js';
import { TrainingError } from './errors.js';

/** What training needs of a tokenizer: TextTokenizer's encodeBatch, without the mask. */
export interface TrainingTokenizer {
  encodeBatch(
    texts: string[],
    options: Pick<EncodeOptions, 'maxLength' | 'padId'>,
  ): Pick<
    EncodedBatch,
    'inputIds' | 'tokenTypeIds' | 'seq' | 'padId' | 'tokens' | 'words' | 'truncated'
  >;
}

/** One row as the model takes it: its tokens with their types, and its labels. */
export interface EncodedRow {
  readonly line: number;
  readonly ids: Int32Array;
  readonly typeIds: Int32Array;
  /**
   * Classification: one label. Tagging: one per token, the word's label at its first sub-word
   * token and IGNORED_LABEL at the others and at the special tokens.
   */
  readonly labels: Int32Array;
}

export interface EncodedData {
  readonly file: string;
  readonly kind: TrainingRow['kind'];
  readonly rows: readonly EncodedRow[];
  readonly padId: number;
  /** Lines whose text was cut to the model's positions. */
  readonly truncated: readonly number[];
}

/**
 * Tokenizes every row once, as `tokenizer(texts, truncation=True, max_length=positions)` does.
 * A tagging row's words are tokenized each on its own, as transformers'
 * `is_split_into_words=True` does (the Rust tokenizers pre-tokenize each word of a
 * pre-tokenized input separately), and labelled as `tokenize_and_align_labels` of
 * transformers' examples/pytorch/token-classification/run_ner.py with
 * `label_all_tokens=False`: the word's label on its first token, -100 elsewhere.
 */
export function encodeTrainingData(
  data: TrainingData,
  text: ProgramText,
  tokenizer: TrainingTokenizer,
): EncodedData {
  const maxLength = maxTokens(text);
  const options = { maxLength, ...(text.padId === undefined ? {} : { padId: text.padId }) };
  const truncated: number[] = [];
  let padId = text.padId ?? 0;
  const rows = data.rows.map((row): EncodedRow => {
    const at = `${data.file}:${row.line}`;
    const encoded = encodeOrFault(
      tokenizer,
      row.kind === 'token' ? [...row.words] : [row.text],
      options,
      at,
    );
    padId = encoded.padId;
    if (row.kind === 'sequence') {
      if (encoded.truncated.length > 0) truncated.push(row.line);
      const words = encoded.words[0]!;
      if (!words.some((word) => word !== null))
        throw new TrainingError(at, `key 'text': gives no tokens but the special ones`);
      const length = words.length;
      return {
        line: row.line,
        ids: encoded.inputIds.slice(0, length),
        typeIds: encoded.tokenTypeIds.slice(0, length),
        labels: Int32Array.of(row.label),
      };
    }
    return alignWords(row, encoded, maxLength, at, truncated);
  });
  return { file: data.file, kind: data.rows[0]!.kind, rows, padId, truncated };
}

function encodeOrFault(
  tokenizer: TrainingTokenizer,
  texts: string[],
  options: Pick<EncodeOptions, 'maxLength' | 'padId'>,
  at: string,
) {
  try {
    return tokenizer.encodeBatch(texts, options);
  } catch (error) {
    if (error instanceof AdaptError) throw new TrainingError(at, error.message);
    throw error;
  }
}

/** A tagging row's sequence: the special tokens around its words' tokens, cut to fit. */
function alignWords(
  row: Extract<TrainingRow, { kind: 'token' }>,
  encoded: ReturnType<TrainingTokenizer['encodeBatch']>,
  maxLength: number,
  at: string,
  truncated: number[],
): EncodedRow {
  const { seq } = encoded;
  // Every word is encoded with the same special tokens around it: those of a word with tokens.
  const sample = encoded.words.findIndex((words) => words.some((word) => word !== null));
  if (sample < 0)
    throw new TrainingError(at, `key 'tokens': the words give no tokens but the special ones`);
  const sampled = encoded.words[sample]!;
  const before = sampled.findIndex((word) => word !== null);
  const after = sampled.length - 1 - findLastIndex(sampled, (word) => word !== null);
  const specials = (from: number, count: number) => ({
    ids: [...encoded.inputIds.subarray(sample * seq + from, sample * seq + from + count)],
    types: [...encoded.tokenTypeIds.subarray(sample * seq + from, sample * seq + from + count)],
  });
  const head = specials(0, before);
  const tail = specials(sampled.length - after, after);
  const ids: number[] = [...head.ids];
  const types: number[] = [...head.types];
  const labels: number[] = head.ids.map(() => IGNORED_LABEL);
  const room = maxLength - head.ids.length - tail.ids.length;
  let cut = false;
  row.words.forEach((_, w) => {
    const words = encoded.words[w]!;
    let firstPiece = true;
    words.forEach((word, t) => {
      if (word === null) return;
      if (ids.length - head.ids.length >= room) {
        cut = true;
        return;
      }
      ids.push(encoded.inputIds[w * seq + t]!);
      types.push(encoded.tokenTypeIds[w * seq + t]!);
      labels.push(firstPiece ? row.labels[w]! : IGNORED_LABEL);
      firstPiece = false;
    });
  });
  if (cut || encoded.truncated.length > 0) truncated.push(row.line);
  if (!labels.some((label) => label !== IGNORED_LABEL))
    throw new TrainingError(at, `key 'tokens': the words give no tokens but the special ones`);
  ids.push(...tail.ids);
  types.push(...tail.types);
  labels.push(...tail.ids.map(() => IGNORED_LABEL));
  return {
    line: row.line,
    ids: Int32Array.from(ids),
    typeIds: Int32Array.from(types),
    labels: Int32Array.from(labels),
  };
}

function findLastIndex<T>(items: readonly T[], test: (item: T) => boolean): number {
  for (let i = items.length - 1; i >= 0; i--) if (test(items[i]!)) return i;
  return -1;
}
