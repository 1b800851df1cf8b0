import type { IToken } from 'chevrotain';
import { adaptLexer, NumberLiteral } from '../../../grammar/tokens.js';
import type { DiagnosticBag } from '../diagnostics.js';
import type { SourceFile } from '../source.js';
import { screenCharacters } from './characters.js';
import { describeMalformedNumber } from './numbers.js';

/** The longest name or number; longer ones are reported and shortened in every later message. */
export const MAX_TOKEN_LENGTH = 256;

/** A token's text as quoted in messages: long runs are cut, with their length. */
export function clipText(text: string, keep = 32): string {
  return text.length <= keep ? text : `${text.slice(0, keep)}…`;
}

/** A NumberLiteral that stands for text that is not a number, already reported. */
export function isMalformedNumber(token: IToken): boolean {
  return (token.payload as { malformed?: boolean } | undefined)?.malformed === true;
}

function markMalformed(token: IToken): void {
  token.tokenType = NumberLiteral;
  token.tokenTypeIdx = NumberLiteral.tokenTypeIdx!;
  token.payload = { malformed: true };
}

/**
 * Lexes one file: hostile characters, characters that start no token, malformed numbers and
 * overlong names are each reported here. A malformed number goes on as a number token marked
 * malformed, so the parser and checker read the rest of the file as written and say nothing more
 * about it.
 */
export function lex(source: SourceFile, bag: DiagnosticBag): IToken[] {
  const lexed = adaptLexer.tokenize(screenCharacters(source.text, bag));
  for (const error of lexed.errors) {
    if (bag.errorsFull) break;
    const chars = source.text.slice(error.offset, error.offset + error.length);
    const many = error.length > 1 ? `characters '${clipText(chars, 16)}'` : `character '${chars}'`;
    const count = error.length > 16 ? ` (${error.length} characters)` : '';
    bag.report(
      'E0001',
      { start: error.offset, end: error.offset + error.length },
      `unexpected ${many}${count}`,
      'names are letters, digits, _ and -; comments start with #',
    );
  }
  for (const token of lexed.tokens) {
    const kind = token.tokenType.name;
    const span = { start: token.startOffset, end: token.startOffset + token.image.length };
    if (token.image.length > MAX_TOKEN_LENGTH) {
      const what = kind === 'Identifier' ? 'name' : 'number';
      bag.report(
        'E0007',
        span,
        `this ${what} is ${token.image.length} characters long; names and numbers have at most ${MAX_TOKEN_LENGTH}`,
      );
      token.image = clipText(token.image);
      if (kind !== 'Identifier') markMalformed(token);
    } else if (kind === 'BadNumber') {
      bag.report(
        'E0004',
        span,
        `'${token.image}' is not a number`,
        describeMalformedNumber(token.image),
      );
      markMalformed(token);
    }
  }
  return lexed.tokens;
}
