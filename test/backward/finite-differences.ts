import { expect } from 'vitest';
import { compile } from '../../src/compiler/index.js';
import type { StepDropout } from '../../src/runtime/cpu/backward/dropout.js';
import { backwardFrom, forward64 } from '../../src/runtime/cpu/backward/index.js';
import { prepareInputs, type PreparedInputs } from '../../src/runtime/inputs.js';
import type { Program } from '../../src/runtime/program.js';
import { seededNormal, seededUniform } from '../../src/runtime/random.js';

/** Σ a_i · b_i in f64. */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

/** Seeded N(0, std²) values in f64. */
export function normals(count: number, seed: number, std = 1): Float64Array {
  const next = seededNormal(seed);
  return Float64Array.from({ length: count }, () => next() * std);
}

export function compileLowered(source: string, graph = 'default'): Program {
  const result = compile(source, { fuse: false, gpu: false, graph });
  expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return result.program!;
}

/**
 * Weights large enough that every adapter and fusion moves the output (the seeded init keeps
 * adapter up-projections at zero): N(0, 0.4²) everywhere, LayerNorm scales 1 + N(0, 0.1²). f32, as
 * the runtime loads them.
 */
export function randomWeights(program: Program, seed: number): Map<string, Float32Array> {
  const weights = new Map<string, Float32Array>();
  program.weights.forEach((spec, i) => {
    const count = spec.shape.reduce((n, d) => n * d, 1);
    const ones = spec.init.kind === 'ones';
    const values = normals(count, seed * 1000 + i, ones ? 0.1 : 0.4);
    weights.set(
      spec.name,
      Float32Array.from(values, (v) => (ones ? 1 + v : v)),
    );
  });
  return weights;
}

/** Hidden states N(0, 1), a padding mask with zeros in every sequence but the first. */
export function randomInputs(
  program: Program,
  batch: number,
  seq: number,
  seed: number,
): PreparedInputs {
  const hidden = Float32Array.from(normals(batch * seq * program.model.hidden, seed));
  const mask = Int32Array.from({ length: batch * seq }, (_, i) =>
    Math.floor(i / seq) === 0 || i % seq < seq - Math.floor(i / seq) ? 1 : 0,
  );
  const branches = program.branches;
  return prepareInputs(program, {
    hidden_states: { data: hidden, shape: [batch, seq, program.model.hidden] },
    attention_mask: { data: mask, shape: [batch, seq] },
    ...(branches === undefined
      ? {}
      : {
          adapter_index: {
            data: Int32Array.from({ length: batch }, (_, b) => b % branches),
            shape: [batch],
          },
        }),
  });
}

/** Names of the weights whose name contains one of `parts`. */
export function weightsNamed(program: Program, ...parts: string[]): string[] {
  return program.weights.map((w) => w.name).filter((n) => parts.some((p) => n.includes(p)));
}

export interface GradientCheck {
  readonly name: string;
  readonly checked: number;
  /** The largest |analytic − numeric| over the elements checked. */
  readonly worst: number;
  /** The largest |numeric| over the elements checked. */
  readonly largest: number;
}

/**
 * The backward pass's gradient of loss = Σ output · R for every trained weight, held against
 * central differences of the f64 forward (step h), at up to `perTensor` elements of each tensor
 * chosen at random. With `dropout` every forward pass drops with the same masks.
 */
export function checkGraphGradients(
  program: Program,
  weights: Map<string, Float32Array>,
  inputs: PreparedInputs,
  trained: readonly string[],
  seed: number,
  {
    perTensor = 24,
    h = 1e-5,
    output = program.outputs[0]!.name,
    dropout,
  }: { perTensor?: number; h?: number; output?: string; dropout?: StepDropout } = {},
): GradientCheck[] {
  const forward = forward64(program, weights, inputs, dropout);
  const r = normals(forward.outputs[output]!.data.length, seed + 1);
  const gradients = backwardFrom(program, forward, { output, gradient: r }, trained);
  const probe = new Map<string, Float32Array | Float64Array>(weights);
  const loss = () => dot(forward64(program, probe, inputs, dropout).outputs[output]!.data, r);
  const pick = seededUniform(seed + 2);
  return trained.map((name) => {
    const tensor = Float64Array.from(weights.get(name)!);
    probe.set(name, tensor);
    const indices =
      tensor.length <= perTensor
        ? [...tensor.keys()]
        : Array.from({ length: perTensor }, () => Math.floor(pick() * tensor.length));
    let worst = 0;
    let largest = 0;
    const analytic = gradients.get(name)!;
    for (const i of indices) {
      const original = tensor[i]!;
      tensor[i] = original + h;
      const up = loss();
      tensor[i] = original - h;
      const down = loss();
      tensor[i] = original;
      const numeric = (up - down) / (2 * h);
      worst = Math.max(worst, Math.abs(analytic[i]! - numeric));
      largest = Math.max(largest, Math.abs(numeric));
    }
    probe.set(name, weights.get(name)!);
    return { name, checked: indices.length, worst, largest };
  });
}
