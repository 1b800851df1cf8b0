import { describe, expect, it } from 'vitest';
import type { WeightSpec } from '../src/runtime/program.js';
import { fillNormal, normalArray } from '../src/runtime/random.js';
import { firstNonFinite } from '../src/runtime/tensor.js';
import { initTensor } from '../src/runtime/weights.js';

/** The per-value stream as first written: mulberry32 and Box-Muller, one closure call a value. */
function oracleNormal(seed: number): () => number {
  let state = seed >>> 0;
  const uniform = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
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

function oracleArray(count: number, seed: number, std: number): Float32Array {
  const normal = oracleNormal(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = normal() * std;
  return out;
}

/** The seed initTensor derives from a weight's name, as first written (FNV-1a of the name). */
function oracleTensorSeed(name: string, seed: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return ((hash >>> 0) ^ Math.imul(seed, 0x9e3779b1)) >>> 0;
}

/** The first index where two arrays differ bit for bit (-0 and 0 differ), or -1. */
function firstDifference(a: Float32Array, b: Float32Array): number {
  const aBits = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const bBits = new Uint32Array(b.buffer, b.byteOffset, b.length);
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (aBits[i] !== bBits[i]) return i;
  return -1;
}

describe('seeded initialization', () => {
  const streams: [count: number, seed: number, std: number][] = [
    [0, 1, 1],
    [1, 0, 1],
    [2, 0, 1],
    [7, 0, 0.5],
    [1001, 12345, 0.02],
    [768, 0xffffffff, 0.01],
    [1_000_001, 42, 0.02],
    [400_000, 7, 3.7],
  ];

  it.each(streams)(
    'fillNormal(%i values, seed %i, std %f) is the per-value stream bit for bit',
    (count, seed, std) => {
      const fast = new Float32Array(count);
      fillNormal(fast, seed, std);
      expect(firstDifference(fast, oracleArray(count, seed, std))).toBe(-1);
    },
  );

  it('normalArray gives the per-value stream', () => {
    expect(firstDifference(normalArray(10_001, 99, 0.5), oracleArray(10_001, 99, 0.5))).toBe(-1);
    expect(firstDifference(normalArray(333, 5), oracleArray(333, 5, 1))).toBe(-1);
  });

  const specs: WeightSpec[] = [
    {
      name: 'encoder.layer.0.attention.self.query.weight',
      shape: [768, 768],
      init: { kind: 'normal', std: 0.02 },
    },
    { name: 'adapter.down.weight', shape: [48, 768], init: { kind: 'normal', std: 0.01 } },
    { name: 'fusion.query.weight', shape: [3, 5, 7], init: { kind: 'normal', std: 0.02 } },
    { name: 'x', shape: [1], init: { kind: 'normal', std: 1 } },
  ];

  it.each([0, 1, 2024])(
    'initTensor with seed %i gives the per-value stream of each name',
    (seed) => {
      for (const spec of specs) {
        const init = spec.init as { kind: 'normal'; std: number };
        const count = spec.shape.reduce((n, d) => n * d, 1);
        const expected = oracleArray(count, oracleTensorSeed(spec.name, seed), init.std);
        expect(firstDifference(initTensor(spec, seed), expected), spec.name).toBe(-1);
      }
    },
  );

  it('initTensor fills ones and zeros as the manifest says', () => {
    const ones = initTensor({ name: 'ln.weight', shape: [4, 3], init: { kind: 'ones' } }, 3);
    const zeros = initTensor({ name: 'ln.bias', shape: [5], init: { kind: 'zeros' } }, 3);
    expect([...ones]).toEqual(new Array(12).fill(1));
    expect([...zeros]).toEqual(new Array(5).fill(0));
  });

  it('a large tensor has mean about 0 and the std the manifest names', () => {
    const std = 0.02;
    const data = initTensor(
      { name: 'big', shape: [2048, 1024], init: { kind: 'normal', std } },
      11,
    );
    let sum = 0;
    let squares = 0;
    for (const value of data) {
      sum += value;
      squares += value * value;
    }
    const mean = sum / data.length;
    const measured = Math.sqrt(squares / data.length - mean * mean);
    // 2²¹ samples: the mean's standard error is std / 1448, the std's about std / 2048.
    expect(Math.abs(mean)).toBeLessThan((5 * std) / 1448);
    expect(Math.abs(measured / std - 1)).toBeLessThan(5 / 2048);
  });
});

describe('firstNonFinite', () => {
  it('finds the first NaN or infinity in a block, in the tail, or none', () => {
    const data = new Float32Array(21).fill(-0);
    expect(firstNonFinite(data)).toBeUndefined();
    data[19] = Infinity;
    expect(firstNonFinite(data)).toBe('element 19 is Infinity');
    data[11] = NaN;
    data[13] = -Infinity;
    expect(firstNonFinite(data)).toBe('element 11 is NaN');
    expect(firstNonFinite([1, 2, -Infinity])).toBe('element 2 is -Infinity');
    expect(firstNonFinite([])).toBeUndefined();
  });
});
