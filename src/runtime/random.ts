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
  const normal = seededNormal(seed);
  for (let i = 0; i < count; i++) out[i] = normal() * std;
  return out;
}

const MULBERRY_STEP = 0x6d2b79f5;

/** The 32-bit output of mulberry32 for a state already advanced by one step, as an int32. */
function mulberryBits(state: number): number {
  let t = Math.imul(state ^ (state >>> 15), state | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return t ^ (t >>> 14);
}

// The ziggurat of Marsaglia and Tsang (2000) for the standard normal, 256 boxes: the right edge
// of the base box and the area of each box, and per box the threshold below which a sample is
// accepted at once (ZIG_ACCEPT, on the 2^23 scale of the magnitude), the width per unit of
// magnitude (ZIG_WIDTH) and the density at its edge (ZIG_DENSITY).
const ZIG_BOXES = 256;
const ZIG_BOX_BITS = 8;
const ZIG_R = 3.6541528853610088;
const ZIG_AREA = 4.92867323399e-3;
const ZIG_SCALE = 2 ** 23;
const ZIG_ACCEPT = new Int32Array(ZIG_BOXES);
const ZIG_WIDTH = new Float64Array(ZIG_BOXES);
const ZIG_DENSITY = new Float64Array(ZIG_BOXES);
{
  let edge = ZIG_R;
  let previous = edge;
  const base = ZIG_AREA / Math.exp(-0.5 * edge * edge);
  ZIG_ACCEPT[0] = Math.floor((edge / base) * ZIG_SCALE);
  ZIG_ACCEPT[1] = 0;
  ZIG_WIDTH[0] = base / ZIG_SCALE;
  ZIG_WIDTH[ZIG_BOXES - 1] = edge / ZIG_SCALE;
  ZIG_DENSITY[0] = 1;
  ZIG_DENSITY[ZIG_BOXES - 1] = Math.exp(-0.5 * edge * edge);
  for (let i = ZIG_BOXES - 2; i >= 1; i--) {
    edge = Math.sqrt(-2 * Math.log(ZIG_AREA / edge + Math.exp(-0.5 * edge * edge)));
    ZIG_ACCEPT[i + 1] = Math.floor((edge / previous) * ZIG_SCALE);
    previous = edge;
    ZIG_DENSITY[i] = Math.exp(-0.5 * edge * edge);
    ZIG_WIDTH[i] = edge / ZIG_SCALE;
  }
}

/**
 * Writes standard normal samples times `std`: the stream of seeded weights (docs/design.md §3).
 * Each mulberry32 output gives a box (its low 8 bits) and a signed 24-bit magnitude (the rest);
 * 98.5% of samples are accepted by one comparison, the rest take the wedge or tail test of
 * the ziggurat with further outputs of the same stream. A loop of integer steps and one multiply
 * per value, some three times faster than Box-Muller here.
 */
export function fillWeightNormal(out: Float32Array, seed: number, std: number): void {
  let state = seed | 0;
  const count = out.length;
  for (let i = 0; i < count; i++) {
    state = (state + MULBERRY_STEP) | 0;
    const bits = mulberryBits(state);
    const box = bits & (ZIG_BOXES - 1);
    const magnitude = bits >> ZIG_BOX_BITS;
    if (Math.abs(magnitude) < ZIG_ACCEPT[box]!) {
      out[i] = magnitude * ZIG_WIDTH[box]! * std;
      continue;
    }
    slowState = state;
    out[i] = slowSample(box, magnitude) * std;
    state = slowState;
  }
}

/** A uniform in (0, 1] from one stream output, so that its log is finite. */
const openUniform = (bits: number) => ((bits >>> 0) + 1) / 4294967296;

/** The stream's state around slowSample, which draws from it (a variable, so that no call allocates). */
let slowState = 0;

/** The wedge and tail tests of the ziggurat, drawing from the stream at `slowState`. */
function slowSample(firstBox: number, firstMagnitude: number): number {
  let state = slowState;
  let box = firstBox;
  let magnitude = firstMagnitude;
  const next = () => {
    state = (state + MULBERRY_STEP) | 0;
    slowState = state;
    return mulberryBits(state);
  };
  for (;;) {
    if (box === 0) {
      // The tail beyond R, by Marsaglia's method.
      let x: number;
      let y: number;
      do {
        x = -Math.log(openUniform(next())) / ZIG_R;
        y = -Math.log(openUniform(next()));
      } while (y + y < x * x);
      return magnitude > 0 ? ZIG_R + x : -ZIG_R - x;
    }
    const x = magnitude * ZIG_WIDTH[box]!;
    const density =
      ZIG_DENSITY[box]! + openUniform(next()) * (ZIG_DENSITY[box - 1]! - ZIG_DENSITY[box]!);
    if (density < Math.exp(-0.5 * x * x)) return x;
    const bits = next();
    box = bits & (ZIG_BOXES - 1);
    magnitude = bits >> ZIG_BOX_BITS;
    if (Math.abs(magnitude) < ZIG_ACCEPT[box]!) return magnitude * ZIG_WIDTH[box]!;
  }
}
