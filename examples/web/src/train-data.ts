/**
 * The train tab's sentences: one a line, `label: text`. Turned into the labels of an inline
 * classification head (in the order they first appear) and the JSONL rows the runtime's
 * `parseTrainingData` reads, one row on each sentence's own line, so that its messages and ours
 * name the same line.
 */

export interface LabelledSentences {
  readonly labels: readonly string[];
  /** JSONL, `{"text": …, "label": …}` on the line of each sentence, blank elsewhere. */
  readonly jsonl: string;
  readonly rows: readonly {
    readonly line: number;
    readonly label: string;
    readonly text: string;
  }[];
}

/** A fault in what was typed, at a line (from 1) or in the whole. */
export class SentenceError extends Error {
  override name = 'SentenceError';
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(line === undefined ? message : `line ${line}: ${message}`);
  }
}

const LABEL = /^[A-Za-z0-9_-]+$/;
const EXAMPLE = 'positive: a wonderful film';

export function parseSentences(typed: string): LabelledSentences {
  const rows: { line: number; label: string; text: string }[] = [];
  const jsonl: string[] = [];
  typed.split('\n').forEach((raw, index) => {
    const line = index + 1;
    const content = raw.trim();
    if (content === '') {
      jsonl.push('');
      return;
    }
    const colon = content.indexOf(':');
    if (colon < 0)
      throw new SentenceError(
        `"${clip(content)}" has no label; write the label, a colon, then the sentence (${EXAMPLE})`,
        line,
      );
    const label = content.slice(0, colon).trim();
    const text = content.slice(colon + 1).trim();
    if (label === '')
      throw new SentenceError(`nothing before the colon; write the label first (${EXAMPLE})`, line);
    if (!LABEL.test(label))
      throw new SentenceError(
        `the label "${clip(label)}" may hold only letters, digits, '_' and '-'`,
        line,
      );
    if (text === '') throw new SentenceError(`the label '${label}' has no sentence after it`, line);
    rows.push({ line, label, text });
    jsonl.push(JSON.stringify({ text, label }));
  });
  if (rows.length === 0)
    throw new SentenceError(`no sentences: write one a line, the label first (${EXAMPLE})`);
  const labels = [...new Set(rows.map((row) => row.label))];
  if (labels.length < 2)
    throw new SentenceError(
      `every sentence has the label '${labels[0]}': a classifier needs at least two labels, with a few sentences each`,
    );
  return { labels, jsonl: jsonl.join('\n'), rows };
}

const clip = (text: string) => (text.length > 40 ? `${text.slice(0, 40)}…` : text);
