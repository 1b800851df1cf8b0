import type { ProgramText } from '../../runtime/program.js';
import { rankLabels, scoreLogits } from '../../runtime/text/classify.js';
import type { EncodedText } from './batch-inputs.js';

/** A head as the server reads its logits: layout and scoring, and this adapter's labels. */
export interface ServedHead {
  readonly layout: NonNullable<ProgramText['head']>['layout'];
  readonly scores: 'softmax' | 'sigmoid';
  readonly labels: readonly string[];
}

export interface SequenceResult {
  readonly label: string;
  readonly score: number;
  readonly logits: readonly number[];
  readonly truncated?: true;
}

export interface TokenResult {
  readonly token: string;
  /** The index of the text's word it belongs to. */
  readonly word: number;
  readonly label: string;
  readonly score: number;
  readonly logits: readonly number[];
}

export type TextResult =
  SequenceResult | { readonly tokens: readonly TokenResult[]; readonly truncated?: true };

function best(logits: Float32Array, offset: number, head: ServedHead) {
  const count = head.labels.length;
  const [top] = rankLabels(scoreLogits(logits, offset, count, head.scores), head.labels, 1);
  return {
    label: top!.label,
    score: top!.score,
    logits: [...logits.subarray(offset, offset + count)],
  };
}

/**
 * What the head says of row `b` of a batch of `seq` tokens per row: the best label with its
 * score and every logit (sequence classification), or that per token (tagging; special tokens
 * left out).
 */
export function textResult(
  head: ServedHead,
  text: EncodedText,
  logits: Float32Array,
  b: number,
  seq: number,
): TextResult {
  const truncated = text.truncated ? { truncated: true as const } : {};
  const count = head.labels.length;
  if (head.layout !== 'token') return { ...best(logits, b * count, head), ...truncated };
  const tokens = text.tokens.flatMap((token, t): TokenResult[] => {
    const word = text.words[t];
    if (word === null || word === undefined) return [];
    return [{ token, word, ...best(logits, (b * seq + t) * count, head) }];
  });
  return { tokens, ...truncated };
}
