import { fillWeightNormal, seededNormal, seededUniform } from '../../random.js';

/**
 * The random stream of one tensor: FNV-1a of its program name, mixed with the seed as
 * `initTensor` (src/runtime/weights.ts) mixes them, so a tensor's values depend on its name and
 * the seed only, never on which other tensors are drawn.
 */
export function streamSeed(name: string, seed: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return ((hash >>> 0) ^ Math.imul(seed, 0x9e3779b1)) >>> 0;
}

/** N(0, std²): the ziggurat stream of seeded weights (`fillWeightNormal`). */
export function normal(count: number, stream: number, std: number): Float32Array {
  const out = new Float32Array(count);
  fillWeightNormal(out, stream, std);
  return out;
}

/** U(-bound, bound): one mulberry32 output per value, `(2u - 1)·bound`. */
export function uniform(count: number, stream: number, bound: number): Float32Array {
  const next = seededUniform(stream);
  return Float32Array.from({ length: count }, () => (2 * next() - 1) * bound);
}

/**
 * N(0, std²) truncated to [-limit, limit], by rejection from a Box-Muller stream (`seededNormal`):
 * a draw outside is discarded and the next one taken. torch's `trunc_normal_` inverts the CDF
 * instead; the distribution is the same, the values are not.
 */
export function truncatedNormal(
  count: number,
  stream: number,
  std: number,
  limit: number,
): Float32Array {
  const next = seededNormal(stream);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    let value: number;
    do value = next() * std;
    while (Math.abs(value) > limit);
    out[i] = value;
  }
  return out;
}
