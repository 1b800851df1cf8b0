/** A half-open range of UTF-16 offsets into one source text. */
export interface Span {
  readonly start: number;
  readonly end: number;
}

export interface Position {
  /** 1-based line. */
  readonly line: number;
  /** 1-based column, in UTF-16 code units; a byte-order mark at the start is not counted. */
  readonly column: number;
}

export const BYTE_ORDER_MARK = '\uFEFF';

export class SourceFile {
  private readonly lineStarts: number[];
  /** 1 when the text starts with a byte-order mark, which editors do not show. */
  private readonly hiddenPrefix: number;

  constructor(
    readonly fileName: string,
    readonly text: string,
  ) {
    this.hiddenPrefix = text.startsWith(BYTE_ORDER_MARK) ? 1 : 0;
    this.lineStarts = [0];
    // A line ends at \n, \r\n, or a lone \r (old Mac files), as editors count lines.
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code === 10 || (code === 13 && text.charCodeAt(i + 1) !== 10)) {
        this.lineStarts.push(i + 1);
      }
    }
  }

  position(offset: number): Position {
    const line = this.lineIndex(offset);
    const start = line === 0 ? Math.min(this.hiddenPrefix, offset) : this.lineStarts[line]!;
    return { line: line + 1, column: offset - start + 1 };
  }

  /** The length of a 1-based line in UTF-16 code units, without its line break's last character. */
  lineLength(line: number): number {
    const start = this.lineStarts[line - 1];
    if (start === undefined) return 0;
    const next = this.lineStarts[line];
    return (next === undefined ? this.text.length : next - 1) - start;
  }

  /** A 1-based line's text without its line break (and without a byte-order mark on line 1). */
  lineText(line: number): string {
    const start = this.lineStarts[line - 1];
    if (start === undefined) return '';
    const from = line === 1 ? this.hiddenPrefix : start;
    return this.text.slice(from, start + this.lineLength(line)).replace(/\r$/, '');
  }

  private lineIndex(offset: number): number {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

export function spanCover(first: Span, last: Span): Span {
  return { start: Math.min(first.start, last.start), end: Math.max(first.end, last.end) };
}
