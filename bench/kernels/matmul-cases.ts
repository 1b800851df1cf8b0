/** The matmuls under test, their seeded inputs and their CPU f64 reference. */
import { erf } from '../../src/runtime/cpu/math.js';
import { normalArray } from '../../src/runtime/random.js';
import { BATCH, SEQ } from './options.js';

export interface MatmulCase {
  readonly id: 'ffn1' | 'ffn2';
  readonly label: string;
  readonly m: number;
  readonly k: number;
  readonly n: number;
  readonly gelu: boolean;
}

export const CASES: readonly MatmulCase[] = [
  { id: 'ffn1', label: 'x[128,768]·W1ᵀ +bias +gelu', m: BATCH * SEQ, k: 768, n: 3072, gelu: true },
  { id: 'ffn2', label: 'h[128,3072]·W2ᵀ +bias', m: BATCH * SEQ, k: 3072, n: 768, gelu: false },
];

/** Relative error above which a kernel's output is wrong (docs/design.md §4). */
export const TOLERANCE = 1e-4;

export const flopsOf = (c: MatmulCase) => 2 * c.m * c.n * c.k;

export interface CaseInputs {
  readonly x: Float32Array;
  /** k-major [in, out], as the runtime uploads it. */
  readonly w: Float32Array;
  readonly bias: Float32Array;
}

/** Seeded inputs: x ~ N(0, 1), W ~ N(0, 0.02) as BERT's init, bias ~ N(0, 0.02). */
export function caseInputs(c: MatmulCase, seed: number): CaseInputs {
  const x = normalArray(c.m * c.k, seed);
  const torchWeight = normalArray(c.n * c.k, seed + 1, 0.02); // PyTorch [out, in]
  const bias = normalArray(c.n, seed + 2, 0.02);
  const w = new Float32Array(c.k * c.n);
  for (let o = 0; o < c.n; o++)
    for (let i = 0; i < c.k; i++) w[i * c.n + o] = torchWeight[o * c.k + i]!;
  return { x, w, bias };
}

/** The same matmul and epilogue on the CPU, accumulated in f64. */
export function cpuReference(c: MatmulCase, { x, w, bias }: CaseInputs): Float64Array {
  const out = new Float64Array(c.m * c.n);
  for (let i = 0; i < c.m; i++) {
    const row = out.subarray(i * c.n, (i + 1) * c.n);
    for (let k = 0; k < c.k; k++) {
      const a = x[i * c.k + k]!;
      const base = k * c.n;
      for (let j = 0; j < c.n; j++) row[j]! += a * w[base + j]!;
    }
    for (let j = 0; j < c.n; j++) {
      const v = row[j]! + bias[j]!;
      row[j] = c.gelu ? 0.5 * v * (1 + erf(v / Math.SQRT2)) : v;
    }
  }
  return out;
}

export interface Comparison {
  readonly relError: number;
  readonly maxAbsError: number;
}

/** ‖out − ref‖ / ‖ref‖ (docs/design.md §4), and the largest absolute difference. */
export function compare(out: Float32Array, ref: Float64Array): Comparison {
  let diff = 0;
  let norm = 0;
  let maxAbs = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = out[i]! - ref[i]!;
    diff += d * d;
    norm += ref[i]! * ref[i]!;
    if (!(Math.abs(d) <= maxAbs)) maxAbs = Number.isNaN(d) ? NaN : Math.abs(d);
  }
  return { relError: Math.sqrt(diff / norm), maxAbsError: maxAbs };
}
