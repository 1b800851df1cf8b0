import type { Dim, Shape, SizeExpr } from '../../../runtime/program.js';
import { bindings, ENTRY_BUILTINS, FLAT_GROUP } from '../wgsl.js';
import type { BackwardContext, BackwardEmission, BackwardRead } from './types.js';

/** Invocations per workgroup of the elementwise gradient kernels. */
export const SIZE = 256;

/** The WGSL expression of one dimension: B and T come from the params uniform. */
export function dimExpr(dim: Dim): string {
  if (dim === 'B') return 'params.batch';
  if (dim === 'T') return 'params.seq';
  return `${dim}u`;
}

/** The element count of a shape as a WGSL expression. */
export function countExpr(shape: Shape): string {
  return shape.length === 0 ? '1u' : shape.map(dimExpr).join(' * ');
}

/** The element count of a shape as a size: per token ([B, T, ...]), per sequence ([B, ...]) or fixed. */
export function sizeOf(shape: Shape): Pick<SizeExpr, 'perToken' | 'perSequence' | 'fixed'> {
  const fixedPart = (dims: Shape) =>
    dims.reduce<number>((n, d) => {
      if (typeof d !== 'number')
        throw new Error(`shape [${shape.join(', ')}]: B or T out of place`);
      return n * d;
    }, 1);
  if (shape[0] === 'B' && shape[1] === 'T')
    return { perToken: fixedPart(shape.slice(2)), perSequence: 0, fixed: 0 };
  if (shape[0] === 'B') return { perToken: 0, perSequence: fixedPart(shape.slice(1)), fixed: 0 };
  return { perToken: 0, perSequence: 0, fixed: fixedPart(shape) };
}

/** Workgroups for one invocation per `per` elements of `shape`, `size` invocations a group. */
export function groupsFor(shape: Shape, size = SIZE, per = 1): SizeExpr {
  return { ...sizeOf(shape), divide: size * per };
}

/** Workgroups for one invocation per element of a tensor of `elements`, whatever B and T. */
export const fixedGroups = (elements: number): SizeExpr => ({
  perToken: 0,
  perSequence: 0,
  fixed: elements,
  divide: SIZE,
});

/** The binding names of a read, for WGSL (generated identifiers only). */
export interface NamedRead {
  readonly read: BackwardRead;
  readonly name: string;
  readonly type?: 'f32' | 'i32';
}

/** The params uniform, the reads, then `out`, the gradient written. */
export function declare(reads: readonly NamedRead[]): string {
  return bindings(
    [...reads.map((r) => r.name), 'out'],
    [...reads.map((r) => r.type ?? 'f32'), 'f32'],
  );
}

/** The statement that stores `v` at `at`: written, or added to what other consumers wrote. */
export function store(accumulate: boolean, at = 'i'): string {
  return accumulate ? `out[${at}] = out[${at}] + v;` : `out[${at}] = v;`;
}

/**
 * The entry point of a kernel with one invocation per element, `i`, `SIZE` a workgroup (as
 * groupsFor counts them): the invocations from `count` (a WGSL u32 expression) on return.
 */
export const perElementEntry = (count: string): string => `@compute @workgroup_size(${SIZE})
fn main(${ENTRY_BUILTINS}) {
  ${FLAT_GROUP}
  let i = group * ${SIZE}u + lid;
  if (i >= ${count}) { return; }`;

/** A kernel name's mark for a gradient added to another consumer's part. */
export const accumulateSuffix = (accumulate: boolean): string => (accumulate ? '_acc' : '');

/**
 * A gradient kernel with one invocation per element of the gradient it writes (of `shape`):
 * `body` defines `v`, the element's value, for index `i`. Each element has one invocation, so
 * adding to another consumer's part needs no atomics.
 */
export function elementwise(options: {
  readonly name: string;
  readonly reads: readonly NamedRead[];
  readonly shape: Shape;
  readonly body: string;
  readonly accumulate: boolean;
  readonly index: number;
  readonly functions?: string;
}): BackwardEmission {
  const { reads, shape, body, accumulate, functions } = options;
  const wgsl = `${declare(reads)}
${functions ? `${functions}\n` : ''}
${perElementEntry(countExpr(shape))}
  ${body}
  ${store(accumulate)}
}
`;
  return {
    name: `${options.name}_${shape.join('x')}${accumulateSuffix(accumulate)}`,
    wgsl,
    reads: reads.map((r) => r.read),
    write: { kind: 'input', index: options.index },
    groups: groupsFor(shape),
  };
}

export const GRADIENT: BackwardRead = { kind: 'gradient' };
export const value = (node: number): BackwardRead => ({ kind: 'value', node });
/** How a kernel reads input `id`: a weight from its upload, any other value as the forward pass kept it. */
export function inputRead(context: BackwardContext, id: number, transpose = false): BackwardRead {
  return context.node(id).op === 'weight' ? { kind: 'weight', node: id, transpose } : value(id);
}
