import type { NodeOf } from '../../runtime/ops/node.js';
import { any, op } from './match/pattern.js';

/**
 * AdapterFusion as the lowering builds it (docs/design.md §2):
 * weighted_sum(softmax(scale(concat(row_dot(q, k_1), ..., row_dot(q, k_N)))), v_1, ..., v_N).
 * The passes that rewrite it add their own conditions.
 */
export const fusionScores = op('weighted_sum', {
  bind: 'sum',
  inputs: [
    op('softmax', {
      bind: 'softmax',
      inputs: [
        op('scale', {
          bind: 'scale',
          inputs: [op('concat', { bind: 'concat', each: op('row_dot', { bind: 'rowDots' }) })],
        }),
      ],
    }),
  ],
  each: any('values'),
});

/** The query every score reads, if they all read the same one. */
export function sharedQuery(rowDots: readonly NodeOf<'row_dot'>[]): number | undefined {
  const query = rowDots[0]?.inputs[0];
  return rowDots.every((rowDot) => rowDot.inputs[0] === query) ? query : undefined;
}
