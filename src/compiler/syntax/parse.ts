import type { CstNode, IToken } from 'chevrotain';
import { describeToken } from '../../../grammar/messages.js';
import { adaptParser, ParseErrorLimit } from '../../../grammar/parser.js';
import type { DiagnosticBag } from '../diagnostics.js';
import type { SourceFile, Span } from '../source.js';
import type { Declaration, SourceAst } from './ast.js';
import { astBuilder } from './build-ast.js';
import { repairBrackets, startsSourcedDeclaration } from './brackets.js';
import { lex } from './lex.js';
import { limitNesting } from './nesting.js';

function tokenSpan(token: IToken): Span {
  return { start: token.startOffset, end: (token.endOffset ?? token.startOffset) + 1 };
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

/**
 * Where each declaration begins: `KIND NAME {`, `KIND NAME =` or `KIND NAME from "DIR"` outside
 * brackets (bracket repair has closed every bracket before such a head). Parsing each piece on its own keeps Chevrotain's
 * error recovery, which looks ahead to the end of its input, linear in the file.
 */
function declarationStarts(tokens: IToken[]): number[] {
  const starts = [0];
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    const kind = tokens[i]!.tokenType.name;
    if (kind === 'LCurly' || kind === 'LParen') depth++;
    else if (kind === 'RCurly' || kind === 'RParen') depth = Math.max(0, depth - 1);
    else if (
      depth === 0 &&
      i > 0 &&
      kind === 'Identifier' &&
      tokens[i + 1]?.tokenType.name === 'Identifier' &&
      (['LCurly', 'Equals'].includes(tokens[i + 2]?.tokenType.name ?? '') ||
        startsSourcedDeclaration(tokens, i))
    ) {
      starts.push(i);
    }
  }
  return starts;
}

/** The CST of the parser's input, or undefined if it had too many errors to go on. */
function parseFile(): CstNode | undefined {
  try {
    return adaptParser.file();
  } catch (error) {
    if (error instanceof ParseErrorLimit) return undefined;
    throw error;
  }
}

/**
 * Lexes and parses one file, reporting the first syntax error of each declaration; never throws
 * on bad input. The spans of declarations with a syntax error are pushed to `recovered`: what
 * the parser made of them is a guess, which the checker should not judge.
 */
export function parse(source: SourceFile, bag: DiagnosticBag, recovered: Span[] = []): SourceAst {
  const tokens = limitNesting(repairBrackets(lex(source, bag), source, bag), bag);
  // Characters that start no token were dropped: the parse of their declaration is a guess.
  const unlexed = bag.items.filter((d) => d.code === 'E0001').map((d) => d.span!.start);
  const declarations: Declaration[] = [];
  const starts = declarationStarts(tokens);
  for (let i = 0; i < starts.length && !bag.errorsFull; i++) {
    const end = starts[i + 1] ?? tokens.length;
    const piece = tokens.slice(starts[i], end);
    const from = i === 0 ? 0 : (piece[0]?.startOffset ?? 0);
    // Up to the piece's last token: a stray character after a block is not inside it.
    const last = piece[piece.length - 1];
    const to = last ? last.startOffset + last.image.length : from;
    const dropped = unlexed.some((offset) => offset >= from && offset < to);
    if (parsePiece(piece, tokens[end], source, bag, declarations, dropped) || dropped) {
      recovered.push({ start: from, end: to });
    }
  }
  return { fileName: source.fileName, declarations };
}

/**
 * Parses the tokens of one declaration (with any garbage after it). `following` is the token
 * after the piece: where the parser found the end of its input, the file goes on there. Only
 * the first syntax error is reported: the parser's later ones in the same declaration follow
 * from its guess at the first (`stack(a b)` is not also "a declaration without a name").
 * Returns whether there was one (`dropped`: the lexer reported one in it).
 */
function parsePiece(
  tokens: IToken[],
  following: IToken | undefined,
  source: SourceFile,
  bag: DiagnosticBag,
  declarations: Declaration[],
  dropped: boolean,
): boolean {
  let start = 0;
  // Where characters were dropped, the syntax errors that follow are theirs, already reported.
  let failed = dropped;
  while (start < tokens.length && !bag.errorsFull) {
    adaptParser.input = start === 0 ? tokens : tokens.slice(start);
    const cst = parseFile();
    let resumeAt = tokens.length;
    for (const error of adaptParser.errors) {
      // A closer inserted by repairBrackets: the unclosed bracket is already reported.
      if (error.token.isInsertedInRecovery) continue;
      if (error.name === 'NotAllInputParsedException') {
        const index = tokens.indexOf(error.token, start);
        resumeAt = nextDeclarationStart(tokens, index + 1);
      }
      if (failed) continue;
      failed = true;
      const atEnd = Number.isNaN(error.token.startOffset);
      if (atEnd && following) {
        const message = error.message.replace(
          /found end of file$/,
          `found ${describeToken(following)}`,
        );
        bag.report('E0002', tokenSpan(following), message);
      } else if (atEnd) {
        bag.report('E0002', { start: source.text.length, end: source.text.length }, error.message);
      } else {
        bag.report('E0002', tokenSpan(error.token), error.message);
      }
    }
    if (!cst) return failed;
    for (const declaration of astBuilder.visit(cst) as Declaration[]) {
      declarations.push(declaration);
    }
    start = resumeAt;
  }
  return failed;
}
