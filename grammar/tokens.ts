import type { TokenType } from 'chevrotain';
import { createToken, Lexer } from './chevrotain.js';

// Words are not reserved: `model`, `adapter`, `at`, ... are all Identifiers, and the
// AST builder and checker give them meaning. The grammar only fixes the shape of a file.

export const WhiteSpace = createToken({
  name: 'WhiteSpace',
  pattern: /[ \t\r\n]+/,
  group: Lexer.SKIPPED,
});
export const Comment = createToken({ name: 'Comment', pattern: /#[^\r\n]*/, group: Lexer.SKIPPED });
export const Identifier = createToken({ name: 'Identifier', pattern: /[A-Za-z_][A-Za-z0-9_-]*/ });
// `0..5` must lex as Number DotDot Number, so a fraction needs digits after the dot.
export const NUMBER_FORM = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
export const NumberLiteral = createToken({
  name: 'NumberLiteral',
  pattern: /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/,
});

// Everything that starts like a number, up to where a number could not go on: letters, digits,
// `_`, a `.` not followed by another, and a sign after `e`. `0x10`, `1_000`, `1e`, `1.` and
// `12abc` are each one token, reported as one malformed number instead of a confusing parse.
const NUMBER_RUN = /-?\.?\d(?:[0-9A-Za-z_]|\.(?!\.)|(?<=[eE])[+-])*/y;

function matchBadNumber(text: string, offset: number): RegExpExecArray | null {
  NUMBER_RUN.lastIndex = offset;
  const run = NUMBER_RUN.exec(text);
  return run && !NUMBER_FORM.test(run[0]) ? run : null;
}

export const BadNumber = createToken({
  name: 'BadNumber',
  pattern: { exec: matchBadNumber },
  line_breaks: false,
  start_chars_hint: ['-', '.', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
});
// A string is one line in double quotes; its only escapes are \" and \\. A run that starts with
// a quote but is not such a string (no closing quote on the line, another escape) is one BadString
// token, reported as one malformed string.
export const STRING_FORM = /^"(?:[^"\\\r\n]|\\["\\])*"$/;
export const StringLiteral = createToken({
  name: 'StringLiteral',
  pattern: /"(?:[^"\\\r\n]|\\["\\])*"/,
  label: 'a directory in double quotes',
});

// From a quote to the closing quote (a backslash takes the character after it along) or to the
// end of the line.
const STRING_RUN = /"(?:[^"\\\r\n]|\\[^\r\n])*(?:"|\\?(?=[\r\n]|$))/y;

function matchBadString(text: string, offset: number): RegExpExecArray | null {
  STRING_RUN.lastIndex = offset;
  const run = STRING_RUN.exec(text);
  return run && !STRING_FORM.test(run[0]) ? run : null;
}

export const BadString = createToken({
  name: 'BadString',
  pattern: { exec: matchBadString },
  line_breaks: false,
  start_chars_hint: ['"'],
});
export const DotDot = createToken({ name: 'DotDot', pattern: /\.\./, label: "'..'" });
export const Comma = createToken({ name: 'Comma', pattern: /,/, label: "','" });
export const Colon = createToken({ name: 'Colon', pattern: /:/, label: "':'" });
export const Equals = createToken({ name: 'Equals', pattern: /=/, label: "'='" });
export const LCurly = createToken({ name: 'LCurly', pattern: /\{/, label: "'{'" });
export const RCurly = createToken({ name: 'RCurly', pattern: /\}/, label: "'}'" });
export const LParen = createToken({ name: 'LParen', pattern: /\(/, label: "'('" });
export const RParen = createToken({ name: 'RParen', pattern: /\)/, label: "')'" });

export const allTokens: TokenType[] = [
  WhiteSpace,
  Comment,
  BadNumber,
  NumberLiteral,
  BadString,
  StringLiteral,
  Identifier,
  DotDot,
  Comma,
  Colon,
  Equals,
  LCurly,
  RCurly,
  LParen,
  RParen,
];

export const adaptLexer = new Lexer(allTokens, {
  positionTracking: 'full',
  ensureOptimizations: true,
});
