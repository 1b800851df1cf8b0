/** Seeded random streams: the same numbers on every platform, for weights and test inputs. */

import { ResourceError } from './errors.js';
import { requireCount, requireSeed } from './guards.js';
import { MAX_TENSOR_ELEMENTS } from './tensor.js';

/** mulberry32: uniform in [0, 1). */
export function seededUniform(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples by Box-Muller. */
export function seededNormal(seed: number): () => number {
  const uniform = seededUniform(seed);
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const value = spare;
      spare = undefined;
      return value;
    }
    const u = 1 - uniform();
    const angle = 2 * Math.PI * uniform();
    const radius = Math.sqrt(-2 * Math.log(u));
    spare = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  };
}

export function normalArray(count: number, seed: number, std = 1): Float32Array {
  requireCount(count, 'count', 0);
  requireSeed(seed);
  if (count > MAX_TENSOR_ELEMENTS) {
    throw new ResourceError(
      `${count} random values would not fit in one typed array (at most ${MAX_TENSOR_ELEMENTS})`,
    );
  }
  const normal = seededNormal(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = normal() * std;
  return out;
}
