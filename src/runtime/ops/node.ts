import type { DType, Shape } from '../program.js';
import type { OpAttrs, OpName } from './registry.js';

/** The kinds of graph part a node can come from. */
export const SCOPE_KINDS = ['base', 'residual', 'adapter', 'parallel', 'fusion', 'batch'] as const;
export type ScopeKind = (typeof SCOPE_KINDS)[number];

/**
 * Where a node comes from in the spec: layer, site (`attn`, `ffn`), what part of the site
 * (the base sublayer, its residual, an adapter, a fusion, a batch select) and that part's name.
 * Printed as `L3/ffn/adapter:sentiment`.
 */
export interface Provenance {
  readonly layer: number;
  readonly site: string;
  readonly kind: ScopeKind;
  /** The adapter's or fusion's name. */
  readonly name?: string;
}

export function formatProvenance(scope: Provenance): string {
  const name = scope.name === undefined ? '' : `:${scope.name}`;
  return `L${scope.layer}/${scope.site}/${scope.kind}${name}`;
}

export function sameProvenance(a: Provenance | undefined, b: Provenance | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.layer === b.layer && a.site === b.site && a.kind === b.kind && a.name === b.name;
}

/** One node of op `O`: its attributes have the types the registry's schema gives them. */
export interface NodeOf<O extends OpName> {
  readonly id: number;
  readonly op: O;
  readonly dtype: DType;
  readonly shape: Shape;
  /** Ids of earlier nodes. */
  readonly inputs: readonly number[];
  readonly attrs: OpAttrs<O>;
  readonly scope?: Provenance;
}

/** A node of any op; narrowing on `op` types its attributes. */
export type ProgramNode = { [O in OpName]: NodeOf<O> }[OpName];

export function isOp<O extends OpName>(node: ProgramNode, op: O): node is ProgramNode & NodeOf<O> {
  return node.op === op;
}
