import type { CstNode, IToken } from 'chevrotain';
import { adaptParser } from '../../../grammar/parser.js';
import type { Span } from '../source.js';
import { spanCover } from '../source.js';
import { isMalformed } from './lex.js';
import { stringContent } from './strings.js';
import type {
  Argument,
  Declaration,
  Expression,
  Name,
  NumberValue,
  Property,
  SourceClause,
  StringValue,
  Value,
} from './ast.js';

// Typed views of the CST children of each grammar rule (labels as in grammar/parser.ts).
interface FileChildren {
  declaration?: CstNode[];
}
interface DeclarationChildren {
  keyword?: IToken[];
  name?: IToken[];
  block?: CstNode[];
  Equals?: IToken[];
  expression?: CstNode[];
  from?: IToken[];
  path?: IToken[];
}
interface BlockChildren {
  LCurly?: IToken[];
  property?: CstNode[];
  RCurly?: IToken[];
}
interface PropertyChildren {
  name?: IToken[];
  value?: CstNode[];
}
interface ValueChildren {
  from?: IToken[];
  to?: IToken[];
  word?: IToken[];
  text?: IToken[];
}
interface ExpressionChildren {
  name?: IToken[];
  LParen?: IToken[];
  argument?: CstNode[];
  RParen?: IToken[];
}
interface ArgumentChildren {
  expression?: CstNode[];
  weight?: IToken[];
}

/** A token really read from the text (error recovery may insert virtual ones). */
function present(token: IToken | undefined): token is IToken {
  return token !== undefined && !token.isInsertedInRecovery && !Number.isNaN(token.startOffset);
}

function tokenSpan(token: IToken): Span {
  return { start: token.startOffset, end: (token.endOffset ?? token.startOffset) + 1 };
}

function nameOf(token: IToken): Name {
  return { text: token.image, span: tokenSpan(token) };
}

function numberOf(token: IToken): NumberValue {
  const span = tokenSpan(token);
  if (isMalformed(token)) {
    return { kind: 'number', value: NaN, text: token.image, span, malformed: true };
  }
  return { kind: 'number', value: Number(token.image), text: token.image, span };
}

function stringOf(token: IToken): StringValue {
  const span = tokenSpan(token);
  const text = token.image;
  if (isMalformed(token)) return { kind: 'string', value: '', text, span, malformed: true };
  return { kind: 'string', value: stringContent(text), text, span };
}

/** `from "DIR"`, when both tokens were read from the text. */
function sourceClause(children: DeclarationChildren): SourceClause | undefined {
  const word = children.from?.[0];
  const path = children.path?.[0];
  if (!present(word) || !present(path)) return undefined;
  const keyword = nameOf(word);
  const value = stringOf(path);
  return { keyword, path: value, span: spanCover(keyword.span, value.span) };
}

const BaseVisitor = adaptParser.getBaseCstVisitorConstructor();

/**
 * Builds the AST from the CST. Nodes that error recovery left incomplete are dropped here; the
 * parser has already reported why.
 */
class AstBuilder extends BaseVisitor {
  constructor() {
    super();
    this.validateVisitor();
  }

  file(children: FileChildren): Declaration[] {
    return (children.declaration ?? [])
      .map((node) => this.visit(node) as Declaration | undefined)
      .filter((d): d is Declaration => d !== undefined);
  }

  declaration(children: DeclarationChildren): Declaration | undefined {
    const keyword = children.keyword?.[0];
    const name = children.name?.[0];
    if (!present(keyword) || !present(name)) return undefined;
    const from = sourceClause(children);
    const head = spanCover(tokenSpan(keyword), from?.span ?? tokenSpan(name));
    const blockNode = children.block?.[0];
    if (blockNode || from) {
      const block = blockNode
        ? (this.visit(blockNode) as { properties: Property[]; end: Span | undefined })
        : { properties: [], end: undefined };
      return {
        kind: 'block',
        keyword: nameOf(keyword),
        name: nameOf(name),
        ...(from ? { from } : {}),
        properties: block.properties,
        span: block.end ? spanCover(head, block.end) : head,
      };
    }
    const expressionNode = children.expression?.[0];
    const expression = expressionNode
      ? (this.visit(expressionNode) as Expression | undefined)
      : undefined;
    if (!expression) return undefined;
    return {
      kind: 'assign',
      keyword: nameOf(keyword),
      name: nameOf(name),
      expression,
      span: spanCover(head, expression.span),
    };
  }

  block(children: BlockChildren): { properties: Property[]; end: Span | undefined } {
    const properties = (children.property ?? [])
      .map((node) => this.visit(node) as Property | undefined)
      .filter((p): p is Property => p !== undefined);
    const close = children.RCurly?.[0];
    const last = properties[properties.length - 1];
    const end = present(close) ? tokenSpan(close) : last?.span;
    return { properties, end };
  }

  property(children: PropertyChildren): Property | undefined {
    const name = children.name?.[0];
    if (!present(name)) return undefined;
    const values = (children.value ?? [])
      .map((node) => this.visit(node) as Value | undefined)
      .filter((v): v is Value => v !== undefined);
    const last = values[values.length - 1];
    const nameSpan = tokenSpan(name);
    return { name: nameOf(name), values, span: last ? spanCover(nameSpan, last.span) : nameSpan };
  }

  value(children: ValueChildren): Value | undefined {
    const word = children.word?.[0];
    if (present(word)) return { kind: 'word', text: word.image, span: tokenSpan(word) };
    const text = children.text?.[0];
    if (present(text)) return stringOf(text);
    const from = children.from?.[0];
    if (!present(from)) return undefined;
    const to = children.to?.[0];
    const start = numberOf(from);
    if (!present(to)) return start;
    const end = numberOf(to);
    return { kind: 'range', from: start, to: end, span: spanCover(start.span, end.span) };
  }

  expression(children: ExpressionChildren): Expression | undefined {
    const name = children.name?.[0];
    if (!present(name)) return undefined;
    const callee = nameOf(name);
    const open = children.LParen?.[0];
    if (!present(open)) return { kind: 'reference', name: callee, span: callee.span };
    const args = (children.argument ?? [])
      .map((node) => this.visit(node) as Argument | undefined)
      .filter((a): a is Argument => a !== undefined);
    const close = children.RParen?.[0];
    const end = present(close)
      ? tokenSpan(close)
      : (args[args.length - 1]?.span ?? tokenSpan(open));
    return { kind: 'call', callee, args, span: spanCover(callee.span, end) };
  }

  argument(children: ArgumentChildren): Argument | undefined {
    const node = children.expression?.[0];
    const expression = node ? (this.visit(node) as Expression | undefined) : undefined;
    if (!expression) return undefined;
    const weightToken = children.weight?.[0];
    if (!present(weightToken)) return { expression, span: expression.span };
    const weight = numberOf(weightToken);
    return { expression, weight, span: spanCover(expression.span, weight.span) };
  }
}

export const astBuilder = new AstBuilder();
