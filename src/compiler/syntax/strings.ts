import type { DiagnosticCode } from '../diagnostics.js';

/** The longest string: a path the host can open (PATH_MAX on Linux is 4096 bytes). */
export const MAX_STRING_LENGTH = 4096;

/** The text between the quotes of a well-formed string, with `\"` and `\\` resolved. */
export function stringContent(image: string): string {
  return image.slice(1, -1).replace(/\\(["\\])/g, '$1');
}

export interface StringProblem {
  readonly code: DiagnosticCode;
  /** Offsets into the token's text. */
  readonly start: number;
  readonly end: number;
  readonly message: string;
  readonly help: string;
}

/** Why a run that starts with a quote is not a string: no closing quote, or an unknown escape. */
export function describeBadString(image: string): StringProblem {
  const closed = image.length >= 2 && image.endsWith('"') && !/(^|[^\\])(\\\\)*\\"$/.test(image);
  if (!closed) {
    return {
      code: 'E0010',
      start: 0,
      end: image.length,
      message: 'this string is not closed on its line',
      help: 'end it with " on the same line; write \\" for a quote inside a string',
    };
  }
  const escape = /\\[^"\\]/.exec(stripGoodEscapes(image));
  const at = escape?.index ?? 0;
  const sequence = image.slice(at, at + 2);
  return {
    code: 'E0011',
    start: at,
    end: at + sequence.length,
    message: `'${sequence}' is not an escape a string may hold`,
    help:
      sequence === '\\n' || sequence === '\\t'
        ? 'a string is one line of text; its only escapes are \\" and \\\\'
        : `a string's only escapes are \\" and \\\\; write '\\\\${sequence.slice(1)}' for a backslash followed by '${sequence.slice(1)}'`,
  };
}

/** The text with each `\"` and `\\` blanked out, same length, so a bad escape is found at its offset. */
function stripGoodEscapes(image: string): string {
  return image.replace(/\\(["\\])/g, '  ');
}
