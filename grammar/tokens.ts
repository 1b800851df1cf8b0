import { createToken, Lexer, type TokenType } from 'chevrotain';

// Words are not reserved: `model`, `adapter`, `at`, ... are all Identifiers, and the
// AST builder and checker give them meaning. The grammar only fixes the shape of a file.

export const WhiteSpace = createToken({
  name: 'WhiteSpace',
  pattern: /[ \t\r\n]+/,
  group: Lexer.SKIPPED,
});
export const Comment = createToken({ name: 'Comment', pattern: /#[^\n]*/, group: Lexer.SKIPPED });
export const Identifier = createToken({ name: 'Identifier', pattern: /[A-Za-z_][A-Za-z0-9_-]*/ });
// `0..5` must lex as Number DotDot Number, so a fraction needs digits after the dot.
export const NumberLiteral = createToken({
  name: 'NumberLiteral',
  pattern: /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/,
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
  NumberLiteral,
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
