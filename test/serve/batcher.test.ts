import { describe, expect, it } from 'vitest';
import { Batcher } from '../../src/cli/serve/batcher.js';
import { HttpError } from '../../src/cli/serve/http-error.js';

interface Item {
  readonly key: string;
  readonly id: number;
}

/** A batcher whose forward passes are recorded and finish when the test says so. */
function recording(options: { maxBatch: number; maxWaitMs: number; maxQueue: number }) {
  const batches: number[][] = [];
  const finish: (() => void)[] = [];
  const batcher = new Batcher<Item>(options, (items) => {
    batches.push(items.map((i) => i.id));
    return new Promise<void>((resolve) => finish.push(resolve));
  });
  return { batcher, batches, finish };
}

const items = (key: string, ids: number[]) => ids.map((id) => ({ key, id }));
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('Batcher', () => {
  it('runs a full batch at once, one batch at a time, and the rest after it', async () => {
    const { batcher, batches, finish } = recording({
      maxBatch: 3,
      maxWaitMs: 60_000,
      maxQueue: 100,
    });
    batcher.submit(items('a', [1, 2]));
    batcher.submit(items('a', [3, 4, 5, 6, 7]));
    expect(batches).toEqual([[1, 2, 3]]);
    expect(batcher.depth).toBe(4);
    finish.shift()!();
    await tick();
    expect(batches).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
  });

  it('keeps keys apart and takes the oldest key first once its wait is over', async () => {
    const { batcher, batches, finish } = recording({ maxBatch: 4, maxWaitMs: 5, maxQueue: 100 });
    batcher.submit(items('a', [1]));
    batcher.submit(items('b', [2, 3]));
    batcher.submit(items('a', [4]));
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(batches).toEqual([[1, 4]]);
    finish.shift()!();
    await tick();
    expect(batches).toEqual([
      [1, 4],
      [2, 3],
    ]);
  });

  it('refuses a request past the queue whole, with Retry-After', () => {
    const { batcher } = recording({ maxBatch: 8, maxWaitMs: 60_000, maxQueue: 4 });
    batcher.submit(items('a', [1, 2, 3]));
    let refused: unknown;
    try {
      batcher.submit(items('a', [4, 5]));
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(HttpError);
    expect((refused as HttpError).status).toBe(429);
    expect(Number((refused as HttpError).headers['Retry-After'])).toBeGreaterThanOrEqual(1);
    expect(batcher.depth).toBe(3);
  });

  it('drains without waiting for batches to fill, and then refuses new work', async () => {
    const { batcher, batches, finish } = recording({
      maxBatch: 8,
      maxWaitMs: 60_000,
      maxQueue: 100,
    });
    batcher.submit(items('a', [1, 2]));
    batcher.submit(items('b', [3]));
    let drained = false;
    const done = batcher.drain().then(() => (drained = true));
    expect(batches).toEqual([[1, 2]]);
    finish.shift()!();
    await tick();
    expect(batches).toEqual([[1, 2], [3]]);
    expect(drained).toBe(false);
    finish.shift()!();
    await done;
    expect(() => batcher.submit(items('a', [9]))).toThrow(/shutting down/);
  });
});

describe('Batcher fairness', () => {
  it('runs a key whose wait is over before a busy key that keeps filling', async () => {
    const { batcher, batches, finish } = recording({ maxBatch: 2, maxWaitMs: 5, maxQueue: 100 });
    batcher.submit(items('busy', [1, 2]));
    batcher.submit(items('quiet', [100]));
    for (let round = 0; round < 5; round++) {
      batcher.submit(items('busy', [10 + 2 * round, 11 + 2 * round]));
      await new Promise((resolve) => setTimeout(resolve, 10));
      finish.shift()?.();
      await tick();
    }
    const quietAt = batches.findIndex((batch) => batch.includes(100));
    expect(quietAt).toBeGreaterThan(0);
    expect(quietAt).toBeLessThanOrEqual(2);
  });
});
