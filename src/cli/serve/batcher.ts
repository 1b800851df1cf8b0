import { HttpError } from './http-error.js';

export interface BatcherOptions {
  /** Most sequences in one forward pass. */
  readonly maxBatch: number;
  /** How long the first sequence of a batch waits for others to join it. */
  readonly maxWaitMs: number;
  /** Most sequences waiting; past it, requests are answered 429. */
  readonly maxQueue: number;
}

/** A sequence waiting for its batch: the key says which sequences may share a forward pass. */
export interface Queued {
  readonly key: string;
}

interface Waiting<T> {
  readonly item: T;
  readonly at: number;
}

/**
 * Dynamic batching: sequences queue by key; one forward pass at a time takes up to `maxBatch`
 * sequences of one key: the oldest key's once its first sequence has waited `maxWaitMs`, else a
 * full key's at once. A key whose wait is over runs before any full one, so none starves.
 */
export class Batcher<T extends Queued> {
  private readonly queues = new Map<string, Waiting<T>[]>();
  private queued = 0;
  private running = false;
  private draining = false;
  private timer: NodeJS.Timeout | undefined;
  private idle: (() => void)[] = [];
  /** Recent forward-pass time, for Retry-After. */
  private batchMs = 100;

  constructor(
    private readonly options: BatcherOptions,
    private readonly runBatch: (items: T[]) => Promise<void>,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Sequences waiting, not counting the batch being run. */
  get depth(): number {
    return this.queued;
  }

  /** Queues the sequences of one request, all or none: a full queue is a 429. */
  submit(items: readonly T[]): void {
    if (this.draining)
      throw new HttpError(503, 'the server is shutting down', { 'Retry-After': '1' });
    if (this.queued + items.length > this.options.maxQueue) {
      const batches = Math.ceil((this.queued + items.length) / this.options.maxBatch);
      const seconds = Math.max(1, Math.ceil((batches * this.batchMs) / 1000));
      throw new HttpError(
        429,
        `the queue is full (${this.queued} sequences waiting, at most ${this.options.maxQueue}); retry after ${seconds} s`,
        { 'Retry-After': String(seconds) },
      );
    }
    const at = this.now();
    for (const item of items) {
      const queue = this.queues.get(item.key) ?? [];
      if (queue.length === 0) this.queues.set(item.key, queue);
      queue.push({ item, at });
    }
    this.queued += items.length;
    this.schedule();
  }

  /** Runs what is queued without waiting for batches to fill; resolves once nothing is left. */
  drain(): Promise<void> {
    this.draining = true;
    this.schedule();
    if (!this.running && this.queued === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private schedule(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.running) return;
    if (this.queued === 0) {
      for (const resolve of this.idle.splice(0)) resolve();
      return;
    }
    const { key, wait } = this.next();
    if (wait > 0) {
      this.timer = setTimeout(() => this.schedule(), wait);
      return;
    }
    const queue = this.queues.get(key)!;
    const taken = queue.splice(0, this.options.maxBatch).map((w) => w.item);
    if (queue.length === 0) this.queues.delete(key);
    this.queued -= taken.length;
    this.running = true;
    const started = this.now();
    void this.runBatch(taken)
      .catch(() => {})
      .finally(() => {
        this.batchMs = 0.8 * this.batchMs + 0.2 * (this.now() - started);
        this.running = false;
        this.schedule();
      });
  }

  /**
   * The key to run next and how long until it should run: the oldest key once its first
   * sequence has waited `maxWaitMs` (so a busy key never starves a quiet one), else a key with
   * a full batch, now, else the oldest key when its wait is over.
   */
  private next(): { key: string; wait: number } {
    let oldest: { key: string; at: number } | undefined;
    let full: { key: string; at: number } | undefined;
    for (const [key, queue] of this.queues) {
      const at = queue[0]!.at;
      if (!oldest || at < oldest.at) oldest = { key, at };
      if (queue.length >= this.options.maxBatch && (!full || at < full.at)) full = { key, at };
    }
    const wait = this.draining ? 0 : oldest!.at + this.options.maxWaitMs - this.now();
    if (wait > 0 && full) return { key: full.key, wait: 0 };
    return { key: oldest!.key, wait: Math.max(0, Math.ceil(wait)) };
  }
}
