import { codeFrameColumns } from '@babel/code-frame';
import type { Diagnostic } from '../compiler/diagnostics.js';
import type { SourceFile } from '../compiler/source.js';

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
  let location = diagnostic.file;
  let frame = '';
  if (diagnostic.span && source) {
    const start = source.position(diagnostic.span.start);
    const end = source.position(Math.max(diagnostic.span.end, diagnostic.span.start + 1));
    location = `${diagnostic.file}:${start.line}:${start.column}`;
    frame = codeFrameColumns(
      source.text,
      {
        start,
        end:
          end.line === start.line ? end : { line: start.line, column: lineEnd(source, start.line) },
      },
      { highlightCode: false, linesAbove: 1, linesBelow: 0 },
    );
  }
  const lines = [
    `${paint(color, 'bold', `${location}:`)} ${label}: ${paint(color, 'bold', diagnostic.message)}`,
  ];
  if (frame) lines.push(frame);
  if (diagnostic.help) lines.push(`  ${paint(color, 'cyan', 'help')}: ${diagnostic.help}`);
  return `${lines.join('\n')}\n`;
}

/** One column past the last character of a line, so a caret range can end there. */
function lineEnd(source: SourceFile, line: number): number {
  const text = source.text.split('\n')[line - 1] ?? '';
  return text.length + 1;
}

export function summarize(errors: number, warnings: number, files: number): string {
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const found = [plural(errors, 'error'), ...(warnings ? [plural(warnings, 'warning')] : [])];
  return `${found.join(', ')} in ${plural(files, 'file')}`;
}
