import type { IntegerRange } from '../numbers.js';

/** `adapt serve`'s integer options. */
export const SERVE_PORT_RANGE: IntegerRange = {
  min: 0,
  max: 65_535,
  why: 'ports are 16-bit; 0 takes a free one',
};
export const BATCH_RANGE: IntegerRange = { min: 1, max: 4096 };
export const WAIT_RANGE: IntegerRange = { min: 0, max: 60_000, why: 'a minute at most' };
export const QUEUE_RANGE: IntegerRange = { min: 1, max: 1_000_000 };
/** As many slots as the compiler takes. */
export const SLOTS_RANGE: IntegerRange = { min: 1, max: 1024 };
/** Up to 256 MiB: a body is decoded into one string, which V8 caps near 512 Mi characters. */
export const BODY_RANGE: IntegerRange = { min: 1024, max: 256 * 1024 * 1024 };
