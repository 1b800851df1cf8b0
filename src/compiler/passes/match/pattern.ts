import { opsIn, type OpGroup, type OpName, type OpsIn } from '../../../runtime/ops/registry.js';
import type { IrGraph, IrNode } from '../../ir/types.js';
import { usersOf } from '../rewrite.js';

/** What patterns are matched in: a graph and the readers of each node (-1 for a graph output). */
export interface MatchContext {
  readonly graph: IrGraph;
  readonly users: readonly (readonly number[])[];
}

export function matchContext(graph: IrGraph): MatchContext {
  return { graph, users: usersOf(graph) };
}

/** A node of one of the ops `O`, its attributes typed by its op. */
export type NodeOfAny<O extends OpName> = Extract<IrNode, { readonly op: O }>;

/** The bindings made so far in one match, by name. */
type Scope = Map<string, unknown>;
type Empty = Record<never, never>;

/**
 * A pattern over the IR, in the spirit of tinygrad's UPat: it tests one node and binds named
 * nodes; `B` is the type of what a successful match binds.
 */
export interface Pattern<B> {
  /** Tests node `id`, binding into `scope`; after a failure `scope` may hold partial bindings. */
  readonly test: (context: MatchContext, id: number, scope: Scope) => boolean;
  /** The names it binds, so that `each` can list them. */
  readonly names: readonly string[];
  /** The ops a node must have to match, where the pattern says: `match` skips others early. */
  readonly ops?: ReadonlySet<OpName>;
  /** Only carries the type of the bindings; never set. */
  readonly bindings?: B;
}

/** What a pattern binds. */
export type BindingsOf<P> = P extends Pattern<infer B> ? B : never;

/** The bindings of a tuple of patterns, together. */
type Merged<P> = P extends readonly [Pattern<infer A>, ...infer Rest] ? A & Merged<Rest> : Empty;
/** The bindings of a pattern matched at several inputs: one list per name, in input order. */
type Listed<B> = { readonly [K in keyof B]: readonly B[K][] };

export interface OpOptions<O extends OpName, N extends string, I, E> {
  /** The name the node is bound under. */
  readonly bind?: N;
  /** Input i matches inputs[i]; a node with fewer inputs does not match. */
  readonly inputs?: I;
  /** Every input after the positional ones matches this; its bindings become lists. */
  readonly each?: Pattern<E>;
  readonly where?: (node: NodeOfAny<O>, context: MatchContext) => boolean;
}

/** Binds `node` under `name`; a name bound twice must be the same node. */
function bindName(scope: Scope, name: string, node: IrNode): boolean {
  const bound = scope.get(name);
  if (bound !== undefined && bound !== node) return false;
  scope.set(name, node);
  return true;
}

function isOneOf<O extends OpName>(node: IrNode, ops: ReadonlySet<OpName>): node is NodeOfAny<O> {
  return ops.has(node.op);
}

/** A node of op `ops` (or of any op in a list), with its inputs and a predicate as options say. */
export function op<
  O extends OpName,
  const N extends string = never,
  const I extends readonly Pattern<unknown>[] = [],
  E = Empty,
>(
  ops: O | readonly O[],
  options: OpOptions<O, N, I, E> = {},
): Pattern<Record<N, NodeOfAny<O>> & Merged<I> & Listed<E>> {
  const { bind, where, each } = options;
  const accepted = new Set<OpName>(typeof ops === 'string' ? [ops] : ops);
  const positional: readonly Pattern<unknown>[] = options.inputs ?? [];
  return {
    names: [
      ...(bind === undefined ? [] : [bind]),
      ...positional.flatMap((p) => p.names),
      ...(each?.names ?? []),
    ],
    ops: accepted,
    test(context, id, scope) {
      const node = context.graph.nodes[id];
      if (node === undefined || !isOneOf<O>(node, accepted)) return false;
      if (where && !where(node, context)) return false;
      if (bind !== undefined && !bindName(scope, bind, node)) return false;
      if (node.inputs.length < positional.length) return false;
      if (!positional.every((p, i) => p.test(context, node.inputs[i]!, scope))) return false;
      return (
        each === undefined || listEach(context, each, node.inputs.slice(positional.length), scope)
      );
    },
  };
}

/** Matches `pattern` at every id, each in a scope of its own, and lists the bindings by name. */
function listEach(
  context: MatchContext,
  pattern: Pattern<unknown>,
  ids: readonly number[],
  scope: Scope,
): boolean {
  const lists = new Map(pattern.names.map((name) => [name, [] as unknown[]]));
  for (const id of ids) {
    // A copy, so that names bound outside stay visible, for `same`.
    const element: Scope = new Map(scope);
    if (!pattern.test(context, id, element)) return false;
    for (const [name, list] of lists) list.push(element.get(name));
  }
  for (const [name, list] of lists) scope.set(name, list);
  return true;
}

/** A node of any op in a registry group, e.g. every activation. */
export function group<
  G extends OpGroup,
  const N extends string = never,
  const I extends readonly Pattern<unknown>[] = [],
  E = Empty,
>(name: G, options: OpOptions<OpsIn<G>, N, I, E> = {}) {
  return op(opsIn(name), options);
}

/** Any node, bound under `name` when given. */
export function any<const N extends string = never>(name?: N): Pattern<Record<N, IrNode>> {
  return {
    names: name === undefined ? [] : [name],
    test: (context, id, scope) =>
      name === undefined || bindName(scope, name, context.graph.nodes[id]!),
  };
}

/** The node already bound as `name` (earlier in the match, or by the seed). */
export function same(name: string): Pattern<Empty> {
  return {
    names: [],
    test: (context, id, scope) => scope.has(name) && scope.get(name) === context.graph.nodes[id],
  };
}

/** The first of the alternatives that matches. */
export function either<B>(...alternatives: readonly Pattern<B>[]): Pattern<B> {
  const ops = alternatives.every((alternative) => alternative.ops)
    ? new Set(alternatives.flatMap((alternative) => [...alternative.ops!]))
    : undefined;
  return {
    names: alternatives[0]?.names ?? [],
    ...(ops ? { ops } : {}),
    test(context, id, scope) {
      for (const alternative of alternatives) {
        const trial: Scope = new Map(scope);
        if (alternative.test(context, id, trial)) {
          for (const [name, value] of trial) scope.set(name, value);
          return true;
        }
      }
      return false;
    },
  };
}

/** `pattern`, where its bindings together also pass `check`. */
export function constrain<B>(
  pattern: Pattern<B>,
  check: (bound: B, context: MatchContext) => boolean,
): Pattern<B> {
  return {
    names: pattern.names,
    ...(pattern.ops ? { ops: pattern.ops } : {}),
    test: (context, id, scope) =>
      pattern.test(context, id, scope) && check(bindingsOf<B>(scope), context),
  };
}

/** The bindings of `pattern` matched at node `id`, or undefined; `seed` binds names beforehand. */
export function match<B>(
  context: MatchContext,
  pattern: Pattern<B>,
  id: number,
  seed: Readonly<Record<string, IrNode>> = {},
): B | undefined {
  const node = context.graph.nodes[id];
  if (node === undefined || (pattern.ops && !pattern.ops.has(node.op))) return undefined;
  const scope: Scope = new Map();
  for (const [name, bound] of Object.entries(seed)) scope.set(name, bound);
  return pattern.test(context, id, scope) ? bindingsOf<B>(scope) : undefined;
}

/** The bindings as the object a pattern's type describes. */
function bindingsOf<B>(scope: Scope): B {
  const bindings: Record<string, unknown> = {};
  for (const [name, value] of scope) bindings[name] = value;
  return bindings as B;
}
