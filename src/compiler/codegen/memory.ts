import type { SizeExpr } from '../../runtime/program.js';

export interface BufferNeed {
  readonly perToken: number;
  readonly perSequence: number;
}

export interface MemoryPlan {
  /** Buffer sizes in 4-byte elements. */
  readonly buffers: SizeExpr[];
  /** Buffer of each planned value. */
  readonly assignment: ReadonlyMap<number, number>;
}

/**
 * Liveness-based buffer reuse. Values are planned in dispatch order: each output takes the
 * smallest free buffer that holds it (growing the largest free one if none does), and a value's
 * buffer becomes free after its last reader. An output is placed before its inputs are freed,
 * so no dispatch reads and writes one buffer. Pinned values (graph inputs and outputs) keep
 * a buffer of their own.
 */
export function planMemory(
  order: readonly { readonly value: number; readonly reads: readonly number[] }[],
  needs: ReadonlyMap<number, BufferNeed>,
  pinned: ReadonlySet<number>,
): MemoryPlan {
  const capacity: BufferNeed[] = [];
  const free = new Set<number>();
  const assignment = new Map<number, number>();
  const lastRead = new Map<number, number>();
  order.forEach((step, index) => step.reads.forEach((v) => lastRead.set(v, index)));

  const fits = (b: number, need: BufferNeed) =>
    capacity[b]!.perToken >= need.perToken && capacity[b]!.perSequence >= need.perSequence;
  const allocate = (value: number): void => {
    const need = needs.get(value)!;
    if (!pinned.has(value)) {
      const candidates = [...free].filter((b) => fits(b, need));
      // Smaller first: per-token size, then per-sequence size, then the older buffer.
      const compareSize = (a: number, b: number) =>
        capacity[a]!.perToken - capacity[b]!.perToken ||
        capacity[a]!.perSequence - capacity[b]!.perSequence;
      candidates.sort((a, b) => compareSize(a, b) || a - b);
      let chosen = candidates[0];
      if (chosen === undefined && free.size > 0) {
        chosen = [...free].sort((a, b) => compareSize(b, a) || a - b)[0]!;
        capacity[chosen] = {
          perToken: Math.max(capacity[chosen]!.perToken, need.perToken),
          perSequence: Math.max(capacity[chosen]!.perSequence, need.perSequence),
        };
      }
      if (chosen !== undefined) {
        free.delete(chosen);
        assignment.set(value, chosen);
        return;
      }
    }
    capacity.push({ ...need });
    assignment.set(value, capacity.length - 1);
  };

  const planned = new Set(order.map((step) => step.value));
  for (const value of pinned) if (!planned.has(value)) allocate(value);
  order.forEach((step, index) => {
    allocate(step.value);
    for (const read of new Set(step.reads)) {
      if (lastRead.get(read) === index && !pinned.has(read)) free.add(assignment.get(read)!);
    }
  });
  return {
    buffers: capacity.map((c) => ({
      perToken: c.perToken,
      perSequence: c.perSequence,
      fixed: 0,
      divide: 1,
    })),
    assignment,
  };
}
