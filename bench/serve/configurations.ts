export type Batching = 'mixed' | 'per-adapter';

/** One server the load test starts and loads. */
export interface ServeConfiguration {
  readonly name: string;
  /** The spec declaring this many adapters; requests draw from all of them. */
  readonly adapters: number;
  readonly batching: Batching;
}

export const CONFIGURATIONS: readonly ServeConfiguration[] = [
  { name: '1 adapter', adapters: 1, batching: 'mixed' },
  { name: '4 adapters mixed', adapters: 4, batching: 'mixed' },
  { name: '16 adapters mixed', adapters: 16, batching: 'mixed' },
  { name: '16 adapters per-adapter', adapters: 16, batching: 'per-adapter' },
];

/** The fixture's adapters (a0 … a15, each with its head), and the specs declaring the first n. */
export const FIXTURE_ADAPTERS = 16;
export const FIXTURE_SPECS: readonly number[] = [1, 4, 16];

/** The target: 16 adapters mixed keep this share of the 1-adapter throughput (sequences/s). */
export const MIXED_SHARE_GOAL = 0.8;
export const TARGET_BASE = '1 adapter';
export const TARGET_MIXED = '16 adapters mixed';

/** The sentences the requests send: one per request, of 24 to 32 words. */
export const TEXT_WORDS = { minWords: 24, maxWords: 32 } as const;
