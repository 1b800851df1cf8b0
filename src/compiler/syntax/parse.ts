import type { IRecognitionException, IToken } from 'chevrotain';
import { adaptParser } from '../../../grammar/parser.js';
import { adaptLexer } from '../../../grammar/tokens.js';
import type { DiagnosticBag } from '../diagnostics.js';
import type { SourceFile, Span } from '../source.js';
import type { Declaration, SourceAst } from './ast.js';
import { astBuilder } from './build-ast.js';
import { repairBrackets } from './brackets.js';

function tokenSpan(token: IToken): Span {
  return { start: token.startOffset, end: (token.endOffset ?? token.startOffset) + 1 };
}

function errorOffset(error: IRecognitionException, textLength: number): number {
  const offset = error.token.startOffset;
  return Number.isNaN(offset) ? textLength : offset;
}

/** A declaration starts with two names in a row; used to resume after garbage at top level. */
function nextDeclarationStart(tokens: IToken[], from: number): number {
  for (let i = from; i < tokens.length; i++) {
    const here = tokens[i]!.tokenType.name;
    const next = tokens[i + 1]?.tokenType.name;
    if (here === 'Identifier' && next === 'Identifier') return i;
  }
  return tokens.length;
}

/** Lexes and parses one file, reporting every syntax problem; never throws on bad input. */
export function parse(source: SourceFile, bag: DiagnosticBag): SourceAst {
  const lexed = adaptLexer.tokenize(source.text);
  for (const error of lexed.errors) {
    const char = source.text.slice(error.offset, error.offset + error.length);
    bag.report(
      'E0001',
      { start: error.offset, end: error.offset + error.length },
      `unexpected character${error.length > 1 ? 's' : ''} '${char}'`,
      'names are letters, digits, _ and -; comments start with #',
    );
  }
  const tokens = repairBrackets(lexed.tokens, source, bag);

  const declarations: Declaration[] = [];
  let start = 0;
  while (start < tokens.length) {
    adaptParser.input = tokens.slice(start);
    const cst = adaptParser.file();
    let resumeAt = tokens.length;
    for (const error of adaptParser.errors) {
      const offset = errorOffset(error, source.text.length);
      // A closer inserted by repairBrackets: the unclosed bracket is already reported.
      if (error.token.isInsertedInRecovery) continue;
      if (error.name === 'NotAllInputParsedException') {
        const index = tokens.indexOf(error.token, start);
        resumeAt = nextDeclarationStart(tokens, index + 1);
      }
      const span = Number.isNaN(error.token.startOffset)
        ? { start: offset, end: offset }
        : tokenSpan(error.token);
      bag.report('E0002', span, error.message);
    }
    declarations.push(...(astBuilder.visit(cst) as Declaration[]));
    start = resumeAt;
  }
  return { fileName: source.fileName, declarations };
}
