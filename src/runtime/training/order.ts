import { seededUniform } from '../random.js';

/**
 * Which rows each step trains on. The rows are read as one endless stream: epoch after epoch,
 * each epoch every row once, in file order (no shuffle) or in that epoch's seeded permutation.
 * Step k takes the stream's positions k·B … k·B+B−1, so a batch that runs past the end of an
 * epoch continues with the next one (without shuffling: wraps around to the top of the file),
 * and every batch has B rows.
 */
export interface DataOrder {
  readonly rows: number;
  readonly batch: number;
  readonly shuffle: boolean;
  readonly seed: number;
}

/** Steps per epoch: ceil(rows / B), as `--epochs E` counts them. */
export function stepsPerEpoch(order: Pick<DataOrder, 'rows' | 'batch'>): number {
  return Math.ceil(order.rows / order.batch);
}

/**
 * The seeded order of one epoch: Durstenfeld's Fisher–Yates shuffle of 0…N−1 driven by
 * mulberry32 (`seededUniform`) seeded with `seed XOR (epoch · 0x9E3779B1)` (32-bit), for i from
 * N−1 down to 1 swapping i with j = floor(u·(i+1)), u the stream's next value.
 */
export function epochPermutation(rows: number, seed: number, epoch: number): Int32Array {
  const order = Int32Array.from({ length: rows }, (_, i) => i);
  const uniform = seededUniform((seed ^ Math.imul(epoch, 0x9e3779b1)) >>> 0);
  for (let i = rows - 1; i >= 1; i--) {
    const j = Math.floor(uniform() * (i + 1));
    const swap = order[i]!;
    order[i] = order[j]!;
    order[j] = swap;
  }
  return order;
}

/** Row indices of step k (0-based), epoch permutations made once and kept while in use. */
export class BatchOrder {
  private cached: { epoch: number; order: Int32Array } | undefined;

  constructor(readonly order: DataOrder) {}

  rowsOfStep(step: number): number[] {
    const { rows, batch } = this.order;
    const out: number[] = [];
    for (let position = step * batch; position < (step + 1) * batch; position++) {
      const epoch = Math.floor(position / rows);
      out.push(this.epochOrder(epoch)[position - epoch * rows]!);
    }
    return out;
  }

  private epochOrder(epoch: number): Int32Array {
    if (this.cached?.epoch !== epoch) {
      const order = this.order.shuffle
        ? epochPermutation(this.order.rows, this.order.seed, epoch)
        : Int32Array.from({ length: this.order.rows }, (_, i) => i);
      this.cached = { epoch, order };
    }
    return this.cached.order;
  }
}
