import type { Span } from '../source.js';

/** The AST: plain readonly data; every node carries the span of the text it came from. */

export interface Name {
  readonly text: string;
  readonly span: Span;
}

export interface NumberValue {
  readonly kind: 'number';
  /** NaN when `malformed`. */
  readonly value: number;
  readonly text: string;
  readonly span: Span;
  /** The text is not a number (`0x10`); already reported, so the checker says nothing more. */
  readonly malformed?: true;
}

export interface RangeValue {
  readonly kind: 'range';
  readonly from: NumberValue;
  readonly to: NumberValue;
  readonly span: Span;
}

export interface WordValue {
  readonly kind: 'word';
  readonly text: string;
  readonly span: Span;
}

export type Value = NumberValue | RangeValue | WordValue | StringValue;

/** `name value, value, ...` inside a block. */
export interface Property {
  readonly name: Name;
  readonly values: readonly Value[];
  readonly span: Span;
}

/** A double-quoted string: `"./ckpt"`. */
export interface StringValue {
  readonly kind: 'string';
  /** The text between the quotes with its escapes resolved. */
  readonly value: string;
  /** As written, quotes included. */
  readonly text: string;
  readonly span: Span;
  /** Not a string (unterminated, a bad escape); already reported, so the checker says nothing. */
  readonly malformed?: true;
}

/** `from "DIR"` after a model's name: the checkpoint directory it is read from. */
export interface SourceClause {
  /** The word before the string; the checker requires `from`. */
  readonly keyword: Name;
  readonly path: StringValue;
  readonly span: Span;
}

/**
 * `keyword name { properties }`: model, adapter and fusion declarations; also
 * `model name from "DIR"` with an optional block (properties then empty without one).
 */
export interface BlockDeclaration {
  readonly kind: 'block';
  readonly keyword: Name;
  readonly name: Name;
  readonly from?: SourceClause;
  readonly properties: readonly Property[];
  readonly span: Span;
}

/** `keyword name = expression`: graph declarations. */
export interface AssignDeclaration {
  readonly kind: 'assign';
  readonly keyword: Name;
  readonly name: Name;
  readonly expression: Expression;
  readonly span: Span;
}

export type Declaration = BlockDeclaration | AssignDeclaration;

export interface ReferenceExpression {
  readonly kind: 'reference';
  readonly name: Name;
  readonly span: Span;
}

export interface CallExpression {
  readonly kind: 'call';
  readonly callee: Name;
  readonly args: readonly Argument[];
  readonly span: Span;
}

export type Expression = ReferenceExpression | CallExpression;

export interface Argument {
  readonly expression: Expression;
  /** `name: 0.7`, meaningful inside `average(...)` only. */
  readonly weight?: NumberValue;
  readonly span: Span;
}

export interface SourceAst {
  readonly fileName: string;
  readonly declarations: readonly Declaration[];
}
