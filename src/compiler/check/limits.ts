/**
 * The largest sizes a spec may ask for (docs/language.md §3.1). Each keeps what the spec describes
 * inside what can exist: a row of f32 values within a storage binding, the weights within
 * memory, and numbers within what f32 arithmetic carries.
 */

/** hidden, heads, ffn, bottleneck, reduction: 2^24 f32 values are 64 MiB, half a 128 MiB binding. */
export const MAX_SIZE = 2 ** 24;

/** The most layers a model may have. */
export const MAX_LAYERS = 10_000;

/** Every weight a file declares (base, adapters, fusions), as f32: 64 GiB. */
export const MAX_WEIGHT_BYTES = 64 * 2 ** 30;

/**
 * The largest factor a spec may multiply activations by: an adapter's `scale`, and a fusion's
 * 1 / `temperature`. Past 2^24 (f32's 24-bit significand) an adapter's delta would swamp the
 * residual it is added to, and scores of ordinary size would overflow.
 */
export const MAX_FACTOR = 2 ** 24;

const UNITS = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'] as const;

/** `2.6 TiB`, `190.7 MiB`. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} bytes` : `${Number(value.toFixed(1))} ${UNITS[unit]}`;
}

/** `708.4 billion`, `85,054,464`. */
export function formatCount(count: number): string {
  if (count >= 1e12) return `${(count / 1e12).toFixed(1)} trillion`;
  if (count >= 1e9) return `${(count / 1e9).toFixed(1)} billion`;
  return count.toLocaleString('en-US');
}
