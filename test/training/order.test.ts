import { describe, expect, it } from 'vitest';
import { seededUniform } from '../../src/runtime/random.js';
import { BatchOrder, epochPermutation, stepsPerEpoch } from '../../src/runtime/training/order.js';

describe('the order of the rows', () => {
  it('without shuffling, step k takes rows k·B … k·B+B−1, wrapping around the file', () => {
    const order = new BatchOrder({ rows: 5, batch: 2, shuffle: false, seed: 0 });
    expect([0, 1, 2, 3, 4].map((k) => order.rowsOfStep(k))).toEqual([
      [0, 1],
      [2, 3],
      [4, 0],
      [1, 2],
      [3, 4],
    ]);
    const wide = new BatchOrder({ rows: 3, batch: 8, shuffle: false, seed: 0 });
    expect(wide.rowsOfStep(1)).toEqual([2, 0, 1, 2, 0, 1, 2, 0]);
  });

  it('counts ceil(rows / batch) steps an epoch', () => {
    expect(stepsPerEpoch({ rows: 5, batch: 2 })).toBe(3);
    expect(stepsPerEpoch({ rows: 4, batch: 2 })).toBe(2);
    expect(stepsPerEpoch({ rows: 3, batch: 8 })).toBe(1);
  });

  it('shuffles each epoch with Fisher–Yates on mulberry32 seeded with seed ^ epoch·0x9E3779B1', () => {
    const reference = (rows: number, seed: number, epoch: number) => {
      const uniform = seededUniform((seed ^ Math.imul(epoch, 0x9e3779b1)) >>> 0);
      const out = [...Array(rows).keys()];
      for (let i = rows - 1; i > 0; i--) {
        const j = Math.floor(uniform() * (i + 1));
        [out[i], out[j]] = [out[j]!, out[i]!];
      }
      return out;
    };
    for (const [seed, epoch] of [
      [0, 0],
      [7, 1],
      [4294967295, 3],
    ] as const) {
      const permutation = [...epochPermutation(10, seed, epoch)];
      expect(permutation).toEqual(reference(10, seed, epoch));
      expect([...permutation].sort((a, b) => a - b)).toEqual([...Array(10).keys()]);
    }
    expect([...epochPermutation(10, 7, 0)]).not.toEqual([...epochPermutation(10, 7, 1)]);
    expect([...epochPermutation(10, 7, 0)]).not.toEqual([...epochPermutation(10, 8, 0)]);
  });

  it('takes each epoch its permutation, a batch past the end continuing in the next', () => {
    const order = new BatchOrder({ rows: 5, batch: 2, shuffle: true, seed: 3 });
    const first = [...epochPermutation(5, 3, 0)];
    const second = [...epochPermutation(5, 3, 1)];
    const stream = [...first, ...second];
    expect([0, 1, 2, 3, 4].map((k) => order.rowsOfStep(k))).toEqual([
      stream.slice(0, 2),
      stream.slice(2, 4),
      stream.slice(4, 6),
      stream.slice(6, 8),
      stream.slice(8, 10),
    ]);
    // The same seed, the same order: what a resumed run relies on.
    const again = new BatchOrder({ rows: 5, batch: 2, shuffle: true, seed: 3 });
    expect(again.rowsOfStep(3)).toEqual(order.rowsOfStep(3));
  });
});
