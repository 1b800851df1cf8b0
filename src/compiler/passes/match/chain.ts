import type { IrNode } from '../../ir/types.js';
import { match, same, type MatchContext, type Pattern } from './pattern.js';

/** In a step's pattern: the node the chain reached before this step. */
export const previous = same('previous');

/** One optional step of a chain: a pattern at the next node and what a match contributes. */
export interface Step<R> {
  readonly take: (context: MatchContext, id: number, before: IrNode) => R | undefined;
}

/** A step; `contribute` may still refuse a match by returning undefined. */
export function step<B, R>(pattern: Pattern<B>, contribute: (bound: B) => R | undefined): Step<R> {
  return {
    take(context, id, before) {
      const bound = match(context, pattern, id, { previous: before });
      return bound === undefined ? undefined : contribute(bound);
    },
  };
}

export interface Chain<R> {
  /** The start and every node a step took, in order. */
  readonly members: readonly number[];
  readonly contributions: readonly R[];
}

/**
 * Follows a chain of optional steps from `start`: the next node is the sole reader of the last
 * one (not a graph output, and `free`), and the first remaining step that matches it takes it.
 * Steps keep their order and each is taken at most once; the chain ends where none matches.
 */
export function followChain<R>(
  context: MatchContext,
  start: number,
  steps: readonly Step<R>[],
  free: (id: number) => boolean,
): Chain<R> {
  const members = [start];
  const contributions: R[] = [];
  let next = 0;
  while (next < steps.length) {
    const last = context.graph.nodes[members.at(-1)!]!;
    const readers = context.users[last.id]!;
    const reader = readers[0]!;
    if (readers.length !== 1 || reader < 0 || !free(reader)) break;
    let taken = false;
    for (let i = next; i < steps.length && !taken; i++) {
      const contribution = steps[i]!.take(context, reader, last);
      if (contribution === undefined) continue;
      members.push(reader);
      contributions.push(contribution);
      next = i + 1;
      taken = true;
    }
    if (!taken) break;
  }
  return { members, contributions };
}
