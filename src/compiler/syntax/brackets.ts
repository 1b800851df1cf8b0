import type { IToken } from 'chevrotain';
import { createTokenInstance } from '../../../grammar/chevrotain.js';
import { RCurly, RParen } from '../../../grammar/tokens.js';
import type { DiagnosticBag } from '../diagnostics.js';
import type { SourceFile } from '../source.js';
import { clipText } from './lex.js';

function isName(token: IToken | undefined): boolean {
  return token?.tokenType.name === 'Identifier';
}

/** `name name name "string"` at tokens[i]: `model m from "DIR"`, where a declaration names a source. */
export function startsSourcedDeclaration(tokens: IToken[], i: number): boolean {
  return (
    isName(tokens[i]) &&
    isName(tokens[i + 1]) &&
    isName(tokens[i + 2]) &&
    tokens[i + 3]?.tokenType.name === 'StringLiteral'
  );
}

/**
 * Whether tokens[i] begins a new declaration while brackets are open: `name name =` and
 * `name name name "string"` anywhere (inside a block only with `from` third, since a property
 * may take a string: `activation tanh labels "a"`), and `name name` inside parentheses, where two
 * names in a row are never valid.
 */
function startsDeclaration(tokens: IToken[], i: number, open: IToken[]): boolean {
  if (!isName(tokens[i]) || !isName(tokens[i + 1])) return false;
  const inBlock = open.at(-1)?.tokenType.name === 'LCurly';
  if (startsSourcedDeclaration(tokens, i) && (!inBlock || tokens[i + 2]!.image === 'from'))
    return true;
  // In `f(a, b adapter c {`, `b` is still an argument; the declaration starts at `adapter`.
  const previous = tokens[i - 1]?.tokenType.name;
  if (previous === 'LParen' || previous === 'Comma') return false;
  return tokens[i + 2]?.tokenType.name === 'Equals' || open.at(-1)?.tokenType.name === 'LParen';
}

/** A closer the user left out, marked as inserted so no span is ever taken from it. */
function virtualCloser(opener: IToken, at: number): IToken {
  const type = opener.tokenType.name === 'LCurly' ? RCurly : RParen;
  const token = createTokenInstance(type, type === RCurly ? '}' : ')', at, at, NaN, NaN, NaN, NaN);
  token.isInsertedInRecovery = true;
  return token;
}

/**
 * Reports the '{' or '(' that is never closed at the bracket itself (one diagnostic for all the
 * brackets missing at one place), and returns the tokens with the missing closers inserted where
 * the next declaration begins (blocks never nest, and a declaration starts with two names in a
 * row), so one missing '}' costs one error, not a cascade.
 */
export function repairBrackets(tokens: IToken[], source: SourceFile, bag: DiagnosticBag): IToken[] {
  const repaired: IToken[] = [];
  const open: IToken[] = [];

  const closeAll = (before: IToken | undefined, at: number, keep = 0) => {
    if (open.length <= keep) return;
    const closed = open.splice(keep).reverse();
    const outermost = closed[closed.length - 1]!;
    const isBlock = outermost.tokenType.name === 'LCurly';
    const where = before
      ? `before '${clipText(before.image)}' on line ${source.position(before.startOffset).line}`
      : `at the end of the ${isBlock ? 'block' : 'expression'}`;
    const closers = closed.map((t) => (t.tokenType.name === 'LCurly' ? '}' : ')')).join('');
    bag.report(
      'E0003',
      { start: outermost.startOffset, end: outermost.startOffset + 1 },
      closed.length === 1
        ? `this '${outermost.image}' is never closed`
        : `this '${outermost.image}' and the ${closed.length - 1} opened after it are never closed`,
      closers.length <= 8
        ? `add '${closers}' ${where}`
        : `add ${closers.length} closing brackets ${where}`,
    );
    for (const opener of closed) repaired.push(virtualCloser(opener, at));
  };

  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    const kind = token.tokenType.name;
    if (open.length > 0 && (startsDeclaration(tokens, i, open) || kind === 'LCurly')) {
      // With `keyword name {`, the closers belong before `keyword`, which was already emitted
      // (`keyword name from "DIR" {` was closed before at `keyword`).
      const head = kind === 'LCurly' && isName(tokens[i - 1]) && isName(tokens[i - 2]) ? 2 : 0;
      const moved = repaired.splice(repaired.length - head, head);
      closeAll(moved[0] ?? token, (moved[0] ?? token).startOffset);
      repaired.push(...moved);
    }
    if (kind === 'RCurly') {
      const block = open.findIndex((t) => t.tokenType.name === 'LCurly');
      closeAll(token, token.startOffset, block + 1);
      if (block >= 0) open.pop();
    } else if (kind === 'RParen' && open[open.length - 1]?.tokenType.name === 'LParen') {
      open.pop();
    } else if (kind === 'LCurly' || kind === 'LParen') {
      open.push(token);
    }
    repaired.push(token);
  }
  closeAll(undefined, source.text.length);
  return repaired;
}
