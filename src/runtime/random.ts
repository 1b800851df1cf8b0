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
  const out = new Float32Array(count);
  fillNormal(out, seed, std);
  return out;
}

const MULBERRY_STEP = 0x6d2b79f5;
const TWO_PI = 2 * Math.PI;

/** The 32-bit output of mulberry32 for a state already advanced by one step. */
function mulberryBits(state: number): number {
  let t = Math.imul(state ^ (state >>> 15), state | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (t ^ (t >>> 14)) >>> 0;
}

// Tables for the fast path of fillNormal: ln of 1024 mantissa midpoints, and sin/cos of 4096
// turns, each as the platform's Math functions give them.
const LOG_TABLE_BITS = 10;
const LOG_CENTER = new Float64Array(1 << LOG_TABLE_BITS);
const LOG_CENTER_INVERSE = new Float64Array(1 << LOG_TABLE_BITS);
const LOG_OF_CENTER = new Float64Array(1 << LOG_TABLE_BITS);
for (let j = 0; j < LOG_CENTER.length; j++) {
  LOG_CENTER[j] = 1 + (j + 0.5) / LOG_CENTER.length;
  LOG_CENTER_INVERSE[j] = 1 / LOG_CENTER[j]!;
  LOG_OF_CENTER[j] = Math.log(LOG_CENTER[j]!);
}
const POWERS_OF_HALF = Float64Array.from({ length: 32 }, (_, e) => 2 ** -e);
const TURN_TABLE_BITS = 12;
const TURN_COS = new Float64Array(1 << TURN_TABLE_BITS);
const TURN_SIN = new Float64Array(1 << TURN_TABLE_BITS);
for (let h = 0; h < TURN_COS.length; h++) {
  TURN_COS[h] = Math.cos((TWO_PI * h) / TURN_COS.length);
  TURN_SIN[h] = Math.sin((TWO_PI * h) / TURN_COS.length);
}
const TURN_LOW_MASK = 2 ** (32 - TURN_TABLE_BITS) - 1;
const ANGLE_PER_UNIT = TWO_PI / 4294967296;

/**
 * Bounds on how far the fast path may stray from the Math functions, with room to spare. The
 * log's absolute error (a few units in the last place of ln 2³²) is at most 3e-14, so past
 * `SMALL_FIRST`, where -ln(u) > 7e-4, the radius is off by a relative 3e-14 / 7e-4 / 2 at most;
 * sin and cos by a few units in the last place, counting the rounding of the angle. The
 * threshold balances the pairs it sends to the exact path (7e-4) against the bound's width.
 */
const SMALL_FIRST = 3005426; // ⌈(1 - e^-7e-4)·2³²⌉
const RADIUS_ERROR = 3e-14 / 7e-4 / 2 + 1e-15;
const TRIG_ERROR = 2e-14;

/**
 * Writes `out[i] = seededNormal(seed)() * std` for every i, the values of the per-call stream
 * bit for bit, without a call per value. Each Box-Muller pair takes its log and sin/cos from
 * tables and short series; where that estimate's error bound straddles a float32 rounding
 * boundary, or u is near 1 (about one pair in 500 together), the pair is computed as the
 * stream does.
 */
export function fillNormal(out: Float32Array, seed: number, std: number): void {
  const count = out.length;
  let state = seed >>> 0;
  for (let i = 0; i < count; i += 2) {
    state = (state + MULBERRY_STEP) | 0;
    const first = mulberryBits(state);
    state = (state + MULBERRY_STEP) | 0;
    const second = mulberryBits(state);
    if (first < SMALL_FIRST || i + 1 === count) {
      writeExactPair(out, i, first, second, std);
      continue;
    }
    // ln(1 - first / 2³²) = ln(m) - 32 ln 2 with m = 2³² - first, in [1, 2³²) past this test.
    const m = 4294967296 - first;
    const exponent = 31 - Math.clz32(m);
    const j = ((m << (31 - exponent)) >>> (31 - LOG_TABLE_BITS)) & ((1 << LOG_TABLE_BITS) - 1);
    const r = (m * POWERS_OF_HALF[exponent]! - LOG_CENTER[j]!) * LOG_CENTER_INVERSE[j]!;
    const r2 = r * r;
    const log1p = r - r2 * 0.5 + r2 * r * (1 / 3 - r * 0.25 + r2 * 0.2);
    const radius = Math.sqrt(-2 * ((exponent - 32) * Math.LN2 + LOG_OF_CENTER[j]! + log1p));

    const high = second >>> (32 - TURN_TABLE_BITS);
    const b = (second & TURN_LOW_MASK) * ANGLE_PER_UNIT;
    const b2 = b * b;
    const cosB = 1 - b2 * 0.5 + b2 * b2 * (1 / 24);
    const sinB = b - b * b2 * (1 / 6 - b2 * (1 / 120));
    const cosH = TURN_COS[high]!;
    const sinH = TURN_SIN[high]!;
    const cos = cosH * cosB - sinH * sinB;
    const sin = sinH * cosB + cosH * sinB;

    const scale = radius * std;
    const x = radius * cos * std;
    const y = radius * sin * std;
    const xError = scale * (Math.abs(cos) * RADIUS_ERROR + TRIG_ERROR);
    const yError = scale * (Math.abs(sin) * RADIUS_ERROR + TRIG_ERROR);
    const xRounded = Math.fround(x);
    const yRounded = Math.fround(y);
    if (
      Math.fround(x - xError) !== xRounded ||
      Math.fround(x + xError) !== xRounded ||
      Math.fround(y - yError) !== yRounded ||
      Math.fround(y + yError) !== yRounded
    ) {
      writeExactPair(out, i, first, second, std);
      continue;
    }
    out[i] = xRounded;
    out[i + 1] = yRounded;
  }
}

/** One Box-Muller pair exactly as `seededNormal` computes it. */
function writeExactPair(
  out: Float32Array,
  i: number,
  first: number,
  second: number,
  std: number,
): void {
  const u = 1 - first / 4294967296;
  const angle = TWO_PI * (second / 4294967296);
  const radius = Math.sqrt(-2 * Math.log(u));
  out[i] = radius * Math.cos(angle) * std;
  if (i + 1 < out.length) out[i + 1] = radius * Math.sin(angle) * std;
}
