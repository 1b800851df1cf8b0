import type { IParserErrorMessageProvider, IToken, TokenType } from 'chevrotain';
import { EOF } from './chevrotain.js';

/** What the user sees for a token: its text, or "end of file". */
export function describeToken(token: IToken): string {
  return token.tokenType === EOF ? 'end of file' : `'${token.image}'`;
}

function describeType(type: TokenType): string {
  if (type.name === 'Identifier') return 'a name';
  if (type.name === 'NumberLiteral') return 'a number';
  return type.LABEL ?? type.name;
}

const expectedInRule: Record<string, string> = {
  declaration: `'{', '=' or from "DIR"`,
  value: 'a value (a number, a range like 0..5, or a word)',
  argument: 'an adapter, fusion or combinator name',
  expression: 'an adapter, fusion or combinator name',
};

const namesInRule: Record<string, string> = {
  declaration: 'a name for the declaration',
  property: 'a property name',
  expression: 'an adapter, fusion or combinator name',
};

function topLevelMessage(found: IToken): string {
  return `expected a declaration (model, adapter, fusion or graph), found ${describeToken(found)}`;
}

/** Syntax error messages in the words of the language rather than of the parser. */
export const adaptErrorMessages: IParserErrorMessageProvider = {
  buildMismatchTokenMessage({ expected, actual, ruleName }) {
    if (expected === EOF) return topLevelMessage(actual);
    const what = expected.name === 'Identifier' ? namesInRule[ruleName] : undefined;
    return `expected ${what ?? describeType(expected)}, found ${describeToken(actual)}`;
  },
  buildNotAllInputParsedMessage({ firstRedundant }) {
    return topLevelMessage(firstRedundant);
  },
  buildNoViableAltMessage({ actual, ruleName }) {
    const found = actual[0] ? describeToken(actual[0]) : 'end of file';
    return `expected ${expectedInRule[ruleName] ?? 'something else'}, found ${found}`;
  },
  buildEarlyExitMessage({ actual, ruleName }) {
    const found = actual[0] ? describeToken(actual[0]) : 'end of file';
    return `expected ${expectedInRule[ruleName] ?? 'more input'}, found ${found}`;
  },
};
