import { describe, expect, it } from 'vitest';
import type { WeightSpec } from '../src/runtime/program.js';
import { fillWeightNormal, normalArray } from '../src/runtime/random.js';
import { firstNonFinite } from '../src/runtime/tensor.js';
import { initTensor } from '../src/runtime/weights.js';

/** mulberry32's 32-bit outputs, one call each. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** The input stream: mulberry32 and Box-Muller, one closure call a value. */
function oracleBoxMuller(seed: number): () => number {
  const bits = mulberry32(seed);
  const uniform = () => bits() / 4294967296;
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

/**
 * The weight stream, one closure call a value: Marsaglia and Tsang's RNOR (J. Stat. Software 5,
 * 2000) with 256 boxes, on mulberry32, the box from an output's low 8 bits and the signed
 * magnitude from its high 24.
 */
function oracleZiggurat(seed: number): () => number {
  const r = 3.6541528853610088;
  const v = 4.92867323399e-3;
  const m = 2 ** 23;
  const kn: number[] = [];
  const wn: number[] = [];
  const fn: number[] = [];
  let dn = r;
  let tn = dn;
  const q = v / Math.exp(-0.5 * dn * dn);
  kn[0] = Math.floor((dn / q) * m);
  kn[1] = 0;
  wn[0] = q / m;
  wn[255] = dn / m;
  fn[0] = 1;
  fn[255] = Math.exp(-0.5 * dn * dn);
  for (let i = 254; i >= 1; i--) {
    dn = Math.sqrt(-2 * Math.log(v / dn + Math.exp(-0.5 * dn * dn)));
    kn[i + 1] = Math.floor((dn / tn) * m);
    tn = dn;
    fn[i] = Math.exp(-0.5 * dn * dn);
    wn[i] = dn / m;
  }
  const bits = mulberry32(seed);
  const uni = () => (bits() + 1) / 4294967296;
  return () => {
    let hz = bits() | 0;
    let iz = hz & 255;
    let j = hz >> 8;
    if (Math.abs(j) < kn[iz]!) return j * wn[iz]!;
    for (;;) {
      if (iz === 0) {
        let x: number;
        let y: number;
        do {
          x = -Math.log(uni()) / r;
          y = -Math.log(uni());
        } while (y + y < x * x);
        return j > 0 ? r + x : -r - x;
      }
      const x = j * wn[iz]!;
      if (fn[iz]! + uni() * (fn[iz - 1]! - fn[iz]!) < Math.exp(-0.5 * x * x)) return x;
      hz = bits() | 0;
      iz = hz & 255;
      j = hz >> 8;
      if (Math.abs(j) < kn[iz]!) return j * wn[iz]!;
    }
  };
}

function oracleArray(next: () => number, count: number, std: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = next() * std;
  return out;
}

/** The seed initTensor derives from a weight's name (FNV-1a of the name). */
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

/** Φ(x), the standard normal CDF, by the Chebyshev fit of erfc in Numerical Recipes (erfcc, error below 1.2e-7). */
function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  const erfc =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t *
                              (-1.13520398 +
                                t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - erfc / 2 : erfc / 2;
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
    'fillWeightNormal(%i values, seed %i, std %f) is the per-value ziggurat bit for bit',
    (count, seed, std) => {
      const fast = new Float32Array(count);
      fillWeightNormal(fast, seed, std);
      expect(firstDifference(fast, oracleArray(oracleZiggurat(seed), count, std))).toBe(-1);
    },
  );

  it('normalArray gives the per-value Box-Muller stream', () => {
    const expected = (count: number, seed: number, std: number) =>
      oracleArray(oracleBoxMuller(seed), count, std);
    expect(firstDifference(normalArray(10_001, 99, 0.5), expected(10_001, 99, 0.5))).toBe(-1);
    expect(firstDifference(normalArray(333, 5), expected(333, 5, 1))).toBe(-1);
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

  it.each([0, 1, 2024])('initTensor with seed %i gives the weight stream of each name', (seed) => {
    for (const spec of specs) {
      const init = spec.init as { kind: 'normal'; std: number };
      const count = spec.shape.reduce((n, d) => n * d, 1);
      const next = oracleZiggurat(oracleTensorSeed(spec.name, seed));
      expect(
        firstDifference(initTensor(spec, seed), oracleArray(next, count, init.std)),
        spec.name,
      ).toBe(-1);
    }
  });

  it('initTensor fills ones and zeros as the manifest says', () => {
    const ones = initTensor({ name: 'ln.weight', shape: [4, 3], init: { kind: 'ones' } }, 3);
    const zeros = initTensor({ name: 'ln.bias', shape: [5], init: { kind: 'zeros' } }, 3);
    expect([...ones]).toEqual(new Array(12).fill(1));
    expect([...zeros]).toEqual(new Array(5).fill(0));
  });

  describe('the weight stream is N(0, std)', () => {
    const std = 0.02;
    const data = initTensor(
      { name: 'big', shape: [2048, 1024], init: { kind: 'normal', std } },
      11,
    );
    const n = data.length;

    it('has mean about 0, the std the manifest names and a normal kurtosis', () => {
      let sum = 0;
      let squares = 0;
      let fourth = 0;
      for (const value of data) {
        sum += value;
        squares += value * value;
        fourth += (value / std) ** 4;
      }
      const mean = sum / n;
      const measured = Math.sqrt(squares / n - mean * mean);
      // 2²¹ samples: the mean's standard error is std / 1448, the std's about std / 2048, the
      // fourth moment's (3) sqrt(96 / 2²¹) = 0.0068.
      expect(Math.abs(mean)).toBeLessThan((5 * std) / 1448);
      expect(Math.abs(measured / std - 1)).toBeLessThan(5 / 2048);
      expect(Math.abs(fourth / n - 3)).toBeLessThan(5 * 0.0068);
    });

    it('passes the Kolmogorov-Smirnov test against Φ', () => {
      const sorted = Float64Array.from(data, (value) => value / std).sort();
      let distance = 0;
      for (let i = 0; i < n; i += 1) {
        const cdf = normalCdf(sorted[i]!);
        distance = Math.max(distance, Math.abs(cdf - i / n), Math.abs((i + 1) / n - cdf));
      }
      // The 1% critical value is 1.628 / sqrt(n), 0.0011 here.
      expect(distance).toBeLessThan(1.628 / Math.sqrt(n));
    });

    it('has the tails of a normal, past the base box (|x| > R = 3.65) included', () => {
      for (const bound of [1, 2, 3, 3.5, 3.65, 4]) {
        const expected = 2 * (1 - normalCdf(bound)) * n;
        const count = data.reduce((k, value) => (Math.abs(value / std) > bound ? k + 1 : k), 0);
        // Within 5 standard deviations of the binomial count.
        expect(Math.abs(count - expected), `|x| > ${bound}`).toBeLessThan(5 * Math.sqrt(expected));
      }
    });
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
