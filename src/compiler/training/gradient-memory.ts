import type { SizeExpr } from '../../runtime/program.js';

export interface BufferNeed {
  readonly perToken: number;
  readonly perSequence: number;
}

/**
 * The backward pass's buffers, reused by liveness: a node's gradient is allocated at its first
 * contribution and freed once its own gradient kernels have run; scratch lives for one node.
 * A buffer is taken smallest-first among the free ones that hold the need, else the largest
 * free one grows, else a new one is made.
 */
export class GradientMemory {
  private readonly capacity: BufferNeed[] = [];
  private readonly free = new Set<number>();

  allocate(need: BufferNeed): number {
    const fits = (b: number) =>
      this.capacity[b]!.perToken >= need.perToken &&
      this.capacity[b]!.perSequence >= need.perSequence;
    const size = (b: number) => this.capacity[b]!.perToken * 1e6 + this.capacity[b]!.perSequence;
    const candidates = [...this.free].filter(fits).sort((a, b) => size(a) - size(b) || a - b);
    let chosen = candidates[0];
    if (chosen === undefined && this.free.size > 0) {
      chosen = [...this.free].sort((a, b) => size(b) - size(a) || a - b)[0]!;
      const old = this.capacity[chosen]!;
      this.capacity[chosen] = {
        perToken: Math.max(old.perToken, need.perToken),
        perSequence: Math.max(old.perSequence, need.perSequence),
      };
    }
    if (chosen !== undefined) {
      this.free.delete(chosen);
      return chosen;
    }
    this.capacity.push({ ...need });
    return this.capacity.length - 1;
  }

  release(buffer: number): void {
    this.free.add(buffer);
  }

  get buffers(): SizeExpr[] {
    return this.capacity.map((c) => ({ ...c, fixed: 0, divide: 1 }));
  }
}
