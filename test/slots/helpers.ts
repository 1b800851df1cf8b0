import { expect } from 'vitest';
import { compile, type CompileOptions } from '../../src/compiler/index.js';
import type { Program } from '../../src/runtime/program.js';
import type { TensorMap } from '../../src/runtime/safetensors.js';
import { initWeights } from '../../src/runtime/weights.js';

/** A hidden-states model with three article adapters of one shape, sequential and parallel. */
export const ARTICLE_SPEC = `model m { hidden 16 heads 2 ffn 32 layers 2 }
adapter a { bottleneck 4 at ffn parallel attn scale 0.5 activation gelu }
adapter b { bottleneck 4 at ffn parallel attn scale 2 activation gelu }
adapter c { bottleneck 4 at ffn parallel attn activation gelu }
adapter wide { bottleneck 8 at ffn parallel attn activation gelu }
graph ga = a
graph gb = b
graph gc = c
graph gw = wide
`;

export function compiled(source: string, options: CompileOptions): Program {
  const result = compile(source, options);
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  expect(errors.map((d) => `${d.code} ${d.message}`)).toEqual([]);
  return result.program!;
}

/** Fresh random values of every weight of a program (seeded, never zeros). */
export function randomWeights(program: Program, seed: number): TensorMap {
  const weights = initWeights(program, seed);
  // Seeded inits leave biases zero and up projections possibly zero: every value random here.
  let state = seed * 7919 + 17;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648 - 0.5;
  };
  for (const tensor of weights.values()) {
    const data = tensor.data as Float32Array;
    for (let i = 0; i < data.length; i++) data[i] = 0.2 * next();
  }
  return weights;
}

/**
 * The slot program's weights: the base's from `base`, and slot i of every stacked tensor from
 * adapter `members[i]` of `adapters[i]` (with its scale); free slots hold zeros.
 */
export function stackSlots(
  program: Program,
  base: TensorMap,
  members: readonly { name: string; weights: TensorMap; scale: number }[],
): TensorMap {
  const slots = program.slots!;
  const out: TensorMap = new Map();
  const stacked = new Set([...slots.weights.map((w) => w.name), slots.scale]);
  for (const spec of program.weights) {
    if (stacked.has(spec.name)) continue;
    out.set(spec.name, base.get(spec.name)!);
  }
  for (const weight of slots.weights) {
    const data = new Float32Array(weight.shape.reduce((n, d) => n * d, 1));
    const size = data.length / slots.count;
    members.forEach((member, i) => {
      const tensor = member.weights.get(weight.perAdapter.replaceAll('{adapter}', member.name));
      expect(tensor, `${member.name}: ${weight.perAdapter}`).toBeDefined();
      data.set(tensor!.data as Float32Array, i * size);
    });
    out.set(weight.name, { dtype: 'F32', shape: weight.shape, data });
  }
  const scale = new Float32Array(slots.count);
  members.forEach((member, i) => (scale[i] = member.scale));
  out.set(slots.scale, { dtype: 'F32', shape: [slots.count], data: scale });
  return out;
}

/** Rows [b] of a [B, ...] tensor. */
export function row(data: Float32Array, shape: readonly number[], b: number): Float32Array {
  const size = data.length / shape[0]!;
  return data.subarray(b * size, (b + 1) * size);
}

export function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

/** The largest difference over every output two runs share. */
export function worst(a: object, b: object): number {
  const x = a as Record<string, { data: Float32Array }>;
  const y = b as Record<string, { data: Float32Array }>;
  return Math.max(...Object.keys(y).map((name) => maxDifference(x[name]!.data, y[name]!.data)));
}
