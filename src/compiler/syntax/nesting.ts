import type { IToken } from 'chevrotain';
import type { DiagnosticBag } from '../diagnostics.js';

/**
 * The deepest graph expression accepted. The parser, the AST builder, the checker and lowering
 * all recurse once per level; 64 levels stay far inside the smallest JavaScript stack, and a
 * real graph nests two or three.
 */
export const MAX_NESTING = 64;

function kindOf(token: IToken | undefined): string | undefined {
  return token?.tokenType.name;
}

/**
 * Reports the first '(' past MAX_NESTING in each expression and removes that whole
 * parenthesized group, with its combinator and the `graph NAME =` before it, so no later stage
 * recurses deeper than the limit. Runs after bracket repair, so every '(' has its ')'.
 */
export function limitNesting(tokens: IToken[], bag: DiagnosticBag): IToken[] {
  const kept: IToken[] = [];
  let depth = 0;
  let groupStart = 0;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    const kind = kindOf(token);
    if (kind === 'RParen') {
      depth = Math.max(0, depth - 1);
    } else if (kind === 'LParen') {
      if (depth === 0) groupStart = kept.length;
      depth++;
      if (depth > MAX_NESTING) {
        bag.report(
          'E0005',
          { start: token.startOffset, end: token.startOffset + 1 },
          `expression nested deeper than ${MAX_NESTING} levels`,
          'a graph expression needs a few levels, as in batch(stack(a, fusion), b)',
        );
        i = closingIndex(tokens, i, depth);
        depth = 0;
        kept.length = headStart(kept, groupStart);
        continue;
      }
    }
    kept.push(token);
  }
  return kept;
}

/** The index of the token that brings the depth back to 0 (or the last token). */
function closingIndex(tokens: IToken[], from: number, depth: number): number {
  let level = depth;
  for (let i = from + 1; i < tokens.length; i++) {
    const kind = kindOf(tokens[i]);
    if (kind === 'LParen') level++;
    else if (kind === 'RParen' && --level === 0) return i;
  }
  return tokens.length - 1;
}

/** Where the removed group begins: its combinator name and a `KIND NAME =` before it. */
function headStart(kept: IToken[], open: number): number {
  let start = open;
  if (kindOf(kept[start - 1]) === 'Identifier') start--;
  const isHead =
    kindOf(kept[start - 1]) === 'Equals' &&
    kindOf(kept[start - 2]) === 'Identifier' &&
    kindOf(kept[start - 3]) === 'Identifier';
  return isHead ? start - 3 : start;
}
