import type { AddedTokenEntry } from './tokenizer-file.js';

/** A piece of text: either an added token written out, or text between them. */
export interface Segment {
  readonly text: string;
  readonly token?: AddedTokenEntry;
}

/**
 * Cuts text at the added tokens (`[MASK]`, `<|endoftext|>`, …), which are never split by the
 * pre-tokenizer or the model. At each position the longest token written there wins, as in the
 * tokenizer library; an `lstrip` / `rstrip` token also eats the whitespace on that side.
 */
export class AddedTokenSplitter {
  private readonly byFirstChar = new Map<
    string,
    { readonly written: string; readonly token: AddedTokenEntry }[]
  >();

  /** `written` is how each token appears in the text searched (normalized or not). */
  constructor(tokens: readonly { readonly written: string; readonly token: AddedTokenEntry }[]) {
    const longestFirst = tokens
      .filter((entry) => entry.written !== '')
      .sort((a, b) => b.written.length - a.written.length);
    for (const entry of longestFirst) {
      const first = entry.written[0]!;
      const list = this.byFirstChar.get(first) ?? [];
      list.push(entry);
      this.byFirstChar.set(first, list);
    }
  }

  split(text: string): Segment[] {
    if (this.byFirstChar.size === 0) return text === '' ? [] : [{ text }];
    const pieces: { text: string; token?: AddedTokenEntry }[] = [];
    let start = 0;
    let i = 0;
    while (i < text.length) {
      const match = this.byFirstChar.get(text[i]!)?.find((e) => text.startsWith(e.written, i));
      if (match === undefined) {
        i++;
        continue;
      }
      if (i > start) pieces.push({ text: text.slice(start, i) });
      pieces.push({ text: match.written, token: match.token });
      i += match.written.length;
      start = i;
    }
    if (start < text.length) pieces.push({ text: text.slice(start) });

    pieces.forEach((piece, j) => {
      const before = pieces[j - 1];
      const after = pieces[j + 1];
      if (piece.token?.lstrip && before && !before.token) before.text = before.text.trimEnd();
      if (piece.token?.rstrip && after && !after.token) after.text = after.text.trimStart();
    });
    // Pieces emptied by stripping stay: their places count in the pre-tokenizer's section index.
    return pieces;
  }
}
