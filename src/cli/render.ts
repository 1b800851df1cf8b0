import { codeFrameColumns } from '@babel/code-frame';
import type { Diagnostic, Position, SourceFile } from '../compiler/index.js';
import { printable } from './io.js';

const ANSI = { bold: '1', red: '31', yellow: '33', cyan: '36', dim: '2' } as const;

function paint(color: boolean, code: keyof typeof ANSI, text: string): string {
  return color ? `\x1b[${ANSI[code]}m${text}\x1b[0m` : text;
}

/**
 * A diagnostic as a compiler prints it:
 *   file.adapt:3:13: error[E0104]: heads (10) must divide hidden (768)
 * followed by a code frame with a caret under the span, and a help line if there is one.
 */
export function renderDiagnostic(
  diagnostic: Diagnostic,
  source: SourceFile | undefined,
  color: boolean,
): string {
  const severityColor = diagnostic.severity === 'error' ? 'red' : 'yellow';
  const label = paint(color, severityColor, `${diagnostic.severity}[${diagnostic.code}]`);
  const file = printable(diagnostic.file);
  let location = file;
  let frame = '';
  if (diagnostic.span && source) {
    const start = source.position(diagnostic.span.start);
    const end = source.position(Math.max(diagnostic.span.end, diagnostic.span.start + 1));
    location = `${file}:${start.line}:${start.column}`;
    frame = codeFrame(source, start, end);
  }
  const lines = [
    `${paint(color, 'bold', `${location}:`)} ${label}: ${paint(color, 'bold', diagnostic.message)}`,
  ];
  if (frame) lines.push(frame);
  if (diagnostic.help) lines.push(`  ${paint(color, 'cyan', 'help')}: ${diagnostic.help}`);
  return `${lines.join('\n')}\n`;
}

/** Columns of a line shown around the caret: a 5 MB line prints as a window of it. */
const FRAME_COLUMNS = 160;
const FRAME_LEAD = 60;

/** The line before the diagnostic and its own line, clipped to a window around the caret. */
function codeFrame(source: SourceFile, start: Position, end: Position): string {
  const from = Math.max(0, start.column - 1 - FRAME_LEAD);
  const to = from + FRAME_COLUMNS;
  const first = Math.max(1, start.line - 1);
  const lines: string[] = [];
  for (let line = first; line <= start.line; line++) {
    const text = source.lineText(line);
    const clipped = text.slice(from, to);
    lines.push(`${from > 0 ? '…' : ''}${clipped}${text.length > to ? '…' : ''}`);
  }
  const shift = (from > 0 ? 1 : 0) - from;
  const lastColumn = Math.min(source.lineText(start.line).length + 1, to + 1);
  const endColumn = end.line === start.line ? Math.min(end.column, to + 1) : lastColumn;
  return codeFrameColumns(
    lines.join('\n'),
    {
      start: { line: start.line, column: start.column + shift },
      end: { line: start.line, column: Math.max(endColumn, start.column + 1) + shift },
    },
    { highlightCode: false, linesAbove: 1, linesBelow: 0, startLine: first },
  );
}

export function summarize(errors: number, warnings: number, files: number): string {
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const found = [plural(errors, 'error'), ...(warnings ? [plural(warnings, 'warning')] : [])];
  return `${found.join(', ')} in ${plural(files, 'file')}`;
}

declare module '@babel/code-frame' {
  interface BabelCodeFrameOptions {
    /** The number of the first line given (supported by @babel/code-frame 7.x, missing in its types). */
    startLine?: number;
  }
}
