import type { IrGraph, IrNode, Shape } from '../ir/types.js';
import type { SizeExpr, Target, WeightPart } from '../../runtime/program.js';
import type { NodeOf } from '../../runtime/ops/node.js';
import type { ComputeOp } from '../../runtime/ops/registry.js';

/**
 * An input of a kernel: a value computed by another node (or a graph input), weights, or the
 * weights a load-time node computes at load (transposed as the kernel wants them).
 */
export type KernelArg =
  | { readonly kind: 'value'; readonly node: number }
  | { readonly kind: 'weights'; readonly parts: readonly WeightPart[] }
  | { readonly kind: 'computed'; readonly node: number; readonly transpose: boolean };

/** What a kernel template makes of one IR node. The output is bound after the args. */
export interface KernelEmission {
  /** Describes the kernel's shape and options; equal names mean equal WGSL. */
  readonly name: string;
  readonly wgsl: string;
  readonly args: readonly KernelArg[];
  readonly groups: SizeExpr;
}

export interface KernelContext {
  readonly graph: IrGraph;
  readonly target: Target;
  node(id: number): IrNode;
  /** The weight a `weight` node reads, or undefined for a computed value. */
  weightName(id: number): string | undefined;
  /** Whether node `id` is computed once at load (a `weight_product`), not in the forward pass. */
  isLoadTime(id: number): boolean;
  /** For a load-time node's kernel: write the result transposed, [p, n] for Aᵀ·B [n, p]. */
  readonly transposeOutput?: boolean;
  /** For a matmul split over its output columns (its weight is too big to bind): this part. */
  readonly columns?: { readonly start: number; readonly count: number };
  /**
   * For an op with more list inputs (a concat's parts, a weighted sum's values, a select's
   * branches) than one kernel may bind: this part's window of them. The first part writes the
   * output's untouched elements; a weighted sum's later parts add to it.
   */
  readonly inputs?: { readonly start: number; readonly count: number };
  /**
   * For a gather or embeddings whose table is too big to bind: this part's window of the
   * table's rows, whose ids it writes (every id lies in one window). An embeddings node's last
   * part has `wordsWritten` instead: it adds the rest to the word rows the parts wrote.
   */
  readonly tableRows?: { readonly start: number; readonly count: number };
  readonly wordsWritten?: boolean;
}

/**
 * The WGSL template of op `O`, which reads that op's attributes with their registry types. A
 * template that serves several ops takes the union of their nodes (`NodeOf<'matmul'> |
 * NodeOf<'linear'>`) and narrows on `op`; it is a KernelTemplate of each of them.
 */
export type KernelTemplate<O extends ComputeOp> = (
  node: NodeOf<O>,
  context: KernelContext,
) => KernelEmission;

export function lastDim(shape: Shape): number {
  const d = shape[shape.length - 1];
  if (typeof d !== 'number') throw new Error(`last dimension must be fixed, got ${String(d)}`);
  return d;
}

/**
 * What a value's rows are: one per token for [B, T, ...] (B·T rows, `params.rows` in WGSL) or one
 * per sequence for [B, ...] (B rows, `params.batch`), as a head's values after `first_token`.
 */
export type RowKind = 'token' | 'sequence';

export function rowKind(shape: Shape): RowKind {
  return shape[1] === 'T' ? 'token' : 'sequence';
}

/** The WGSL expression of the row count. */
export function rowCount(rows: RowKind): string {
  return rows === 'token' ? 'params.rows' : 'params.batch';
}

/** A kernel name's mark for per-sequence rows; token rows keep the name they always had. */
export function rowSuffix(rows: RowKind): string {
  return rows === 'token' ? '' : '_seq';
}

/** A size of `per` for each row, per token (B·T) or per sequence (B). */
function scaled(per: number, rows: RowKind): Pick<SizeExpr, 'perToken' | 'perSequence'> {
  return rows === 'token' ? { perToken: per, perSequence: 0 } : { perToken: 0, perSequence: per };
}

/** A count proportional to the number of rows (B·T, or B), rounded up after dividing. */
export function perRow(perToken: number, divide: number, rows: RowKind = 'token'): SizeExpr {
  return { ...scaled(perToken, rows), fixed: 0, divide };
}

/**
 * Workgroups for kernels whose invocations each take a block of `rowsPerBlock` rows: the rows
 * are rounded up to whole blocks, each block needs `perBlockRow` invocations per row of it, and a
 * workgroup runs `blocksPerGroup` of them: ⌈perBlockRow·(rows + rowsPerBlock − 1) /
 * (rowsPerBlock·blocksPerGroup)⌉.
 */
export function perRowBlock(
  perBlockRow: number,
  rowsPerBlock: number,
  blocksPerGroup: number,
  rows: RowKind = 'token',
): SizeExpr {
  return {
    ...scaled(perBlockRow, rows),
    fixed: perBlockRow * (rowsPerBlock - 1),
    divide: rowsPerBlock * blocksPerGroup,
  };
}

/**
 * The argument for a node input: its weight (optionally transposed, optionally a column window),
 * the weights computed at load, or its value.
 */
export function argOf(
  context: KernelContext,
  id: number,
  transpose = false,
  columns?: readonly [number, number],
): KernelArg {
  const weight = context.weightName(id);
  if (weight === undefined && context.isLoadTime(id)) {
    if (columns) throw new Error(`node %${id}, computed at load, cannot be split into columns`);
    return { kind: 'computed', node: id, transpose };
  }
  if (weight === undefined) return { kind: 'value', node: id };
  return { kind: 'weights', parts: [{ weight, transpose, ...(columns ? { columns } : {}) }] };
}
