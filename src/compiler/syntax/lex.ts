import type { IToken } from 'chevrotain';
import { adaptLexer, NumberLiteral, StringLiteral } from '../../../grammar/tokens.js';
import type { DiagnosticBag } from '../diagnostics.js';
import type { SourceFile } from '../source.js';
import { screenCharacters } from './characters.js';
import { describeMalformedNumber } from './numbers.js';
import { describeBadString, MAX_STRING_LENGTH } from './strings.js';

/** The longest name or number; longer ones are reported and shortened in every later message. */
export const MAX_TOKEN_LENGTH = 256;

/** A token's text as quoted in messages: long runs are cut, with their length. */
export function clipText(text: string, keep = 32): string {
  return text.length <= keep ? text : `${text.slice(0, keep)}…`;
}

function codePoint(char: string): string {
  return `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * Letters of other scripts and typographic marks that look like the ASCII the language is
 * written in; characters whose compatibility form is ASCII (fullwidth digits, a no-break space)
 * are found by NFKC.
 */
const LOOKALIKES = new Map(
  Object.entries({
    // Cyrillic
    а: 'a',
    е: 'e',
    о: 'o',
    р: 'p',
    с: 'c',
    у: 'y',
    х: 'x',
    і: 'i',
    ј: 'j',
    ѕ: 's',
    ԁ: 'd',
    А: 'A',
    В: 'B',
    Е: 'E',
    К: 'K',
    М: 'M',
    Н: 'H',
    О: 'O',
    Р: 'P',
    С: 'C',
    Т: 'T',
    Х: 'X',
    // Greek
    α: 'a',
    ο: 'o',
    ν: 'v',
    ι: 'i',
    κ: 'k',
    ρ: 'p',
    τ: 't',
    υ: 'u',
    Α: 'A',
    Β: 'B',
    Ε: 'E',
    Ζ: 'Z',
    Η: 'H',
    Ι: 'I',
    Κ: 'K',
    Μ: 'M',
    Ν: 'N',
    Ο: 'O',
    Ρ: 'P',
    Τ: 'T',
    Υ: 'Y',
    Χ: 'X',
    // Dashes, minus signs and quotes
    '\u2010': '-',
    '\u2011': '-',
    '\u2012': '-',
    '\u2013': '-',
    '\u2014': '-',
    '\u2212': '-',
    '\u2018': "'",
    '\u2019': "'",
    '\u201C': '"',
    '\u201D': '"',
  }),
);

/** The ASCII text `chars` looks like, when every one of its characters has a lookalike. */
function asciiLookalike(chars: string): string | undefined {
  let ascii = '';
  for (const char of chars) {
    const like = LOOKALIKES.get(char) ?? char.normalize('NFKC');
    if (!/^[\x20-\x7e]+$/.test(like)) return undefined;
    ascii += like;
  }
  return ascii === chars ? undefined : ascii;
}

function describeLookalike(chars: string): string {
  const points = [...chars];
  return points.length === 1
    ? `${codePoint(chars)} is a character`
    : `these are characters (${points.slice(0, 4).map(codePoint).join(', ')}${points.length > 4 ? ', …' : ''})`;
}

/** `that looks like 'a'`, `that look like '64'`. */
export function lookalikeHelp(chars: string, ascii: string): string {
  const verb = [...chars].length === 1 ? 'looks' : 'look';
  const shown = ascii.trim() === '' ? 'a space' : `'${ascii}'`;
  return `${describeLookalike(chars)} that ${verb} like ${shown}; type ${shown} instead`;
}

/** A NumberLiteral or StringLiteral that stands for text that is not one, already reported. */
export function isMalformed(token: IToken): boolean {
  return (token.payload as { malformed?: boolean } | undefined)?.malformed === true;
}

function markMalformed(token: IToken, type = NumberLiteral): void {
  token.tokenType = type;
  token.tokenTypeIdx = type.tokenTypeIdx!;
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
    const count = error.length > 16 ? ` (${error.length} characters)` : '';
    const single = chars.length === 1 || (chars.length === 2 && chars.codePointAt(0)! > 0xffff);
    const many = single ? `character '${chars}'` : `characters '${clipText(chars, 16)}'`;
    const code = single && chars.charCodeAt(0) > 0x7e ? ` (${codePoint(chars)})` : '';
    const ascii = error.length <= MAX_TOKEN_LENGTH ? asciiLookalike(chars) : undefined;
    bag.report(
      'E0001',
      { start: error.offset, end: error.offset + error.length },
      `unexpected ${many}${code}${count}`,
      ascii !== undefined
        ? lookalikeHelp(chars, ascii)
        : /[\u0080-\uffff]/.test(chars)
          ? 'names are ASCII letters, digits, _ and -; other text goes in a comment, after #'
          : 'names are letters, digits, _ and -; comments start with #',
    );
  }
  for (const token of lexed.tokens) {
    const kind = token.tokenType.name;
    const span = { start: token.startOffset, end: token.startOffset + token.image.length };
    if (kind === 'StringLiteral' || kind === 'BadString') {
      lexString(token, bag);
    } else if (token.image.length > MAX_TOKEN_LENGTH) {
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

/** Reports a malformed or overlong string; either goes on as a string marked malformed. */
function lexString(token: IToken, bag: DiagnosticBag): void {
  const start = token.startOffset;
  if (token.tokenType.name === 'BadString') {
    const problem = describeBadString(token.image);
    bag.report(
      problem.code,
      { start: start + problem.start, end: start + problem.end },
      problem.message,
      problem.help,
    );
    markMalformed(token, StringLiteral);
  } else if (token.image.length - 2 > MAX_STRING_LENGTH) {
    bag.report(
      'E0007',
      { start, end: start + token.image.length },
      `this string is ${token.image.length - 2} characters long; strings have at most ${MAX_STRING_LENGTH}`,
    );
    markMalformed(token, StringLiteral);
  }
}
