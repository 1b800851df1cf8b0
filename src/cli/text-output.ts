import type { EncodedBatch, Predictions } from '../runtime/index.js';

/** Per text, what the head says of it, as the CLI prints and writes it. */
export interface TextResult {
  readonly text: string;
  readonly tokens: readonly string[];
  readonly ids: readonly number[];
  readonly truncated: boolean;
  /** Labels by score (sequence classification). */
  readonly labels?: readonly { readonly label: string; readonly score: number }[];
  /** Each word with the label of its first token (token classification). */
  readonly words?: readonly {
    readonly word: string;
    readonly label: string;
    readonly score: number;
  }[];
  /** The likeliest next tokens (a language-model head). */
  readonly next?: readonly {
    readonly token: string;
    readonly id: number;
    readonly score: number;
  }[];
}

/** The ids of text `b` without padding. */
function idsOf(encoded: EncodedBatch, b: number): number[] {
  const count = encoded.tokens[b]!.length;
  return [...encoded.inputIds.subarray(b * encoded.seq, b * encoded.seq + count)];
}

/** Words as the text wrote them: the decoded tokens of each word, labelled by its first token. */
function wordsOf(
  encoded: EncodedBatch,
  b: number,
  labels: readonly { readonly word: number; readonly label: string; readonly score: number }[],
  decode: (ids: readonly number[]) => string,
) {
  const ids = idsOf(encoded, b);
  const words = encoded.words[b]!;
  const seen = new Set<number>();
  return labels.flatMap((token) => {
    if (seen.has(token.word)) return [];
    seen.add(token.word);
    const pieces = ids.filter((_, t) => words[t] === token.word);
    return [{ word: decode(pieces).trim(), label: token.label, score: token.score }];
  });
}

export function textResults(
  texts: readonly string[],
  encoded: EncodedBatch,
  predicted: Predictions | undefined,
  decode: (ids: readonly number[]) => string,
): TextResult[] {
  const truncated = new Set(encoded.truncated);
  return texts.map((text, b) => {
    const base = {
      text,
      tokens: encoded.tokens[b]!,
      ids: idsOf(encoded, b),
      truncated: truncated.has(b),
    };
    if (!predicted) return base;
    switch (predicted.kind) {
      case 'sequence':
        return { ...base, labels: predicted.labels[b]! };
      case 'token':
        return { ...base, words: wordsOf(encoded, b, predicted.labels[b]!, decode) };
      case 'next-token':
        return {
          ...base,
          next: predicted.next[b]!.map(({ id, score }) => ({ token: decode([id]), id, score })),
        };
    }
  });
}

const score = (value: number) => value.toFixed(4);

/** One block per text: the text, then its labels, words with entities, or next tokens. */
export function renderTextResults(results: readonly TextResult[]): string {
  const lines: string[] = [];
  for (const result of results) {
    lines.push(
      `${JSON.stringify(result.text)}${result.truncated ? '  (cut to fit the model)' : ''}`,
    );
    for (const { label, score: s } of result.labels ?? []) lines.push(`  ${label}  ${score(s)}`);
    const width = Math.max(0, ...(result.words ?? []).map((w) => w.word.length));
    for (const { word, label, score: s } of result.words ?? [])
      lines.push(`  ${word.padEnd(width)}  ${label}  ${score(s)}`);
    for (const { token, score: s } of result.next ?? [])
      lines.push(`  next ${JSON.stringify(token)}  ${score(s)}`);
    if (!result.labels && !result.words && !result.next)
      lines.push(`  ${result.tokens.length} tokens: ${result.tokens.join(' ')}`);
  }
  return `${lines.join('\n')}\n`;
}
