import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compiler/index.js';
import { interpret } from '../../src/runtime/cpu/interpreter.js';
import {
  BackwardError,
  backward,
  forward64,
  nodesNeedingGradient,
} from '../../src/runtime/cpu/backward/index.js';
import { relativeError } from '../helpers/numerics.js';
import { SMALL_MODEL, SMALL_TRAINING_CASES } from '../helpers/small-training-models.js';
import {
  checkGraphGradients,
  compileLowered,
  dot,
  normals,
  randomInputs,
  randomWeights,
  weightsNamed,
} from './finite-differences.js';

/**
 * Central differences of the f64 forward with h = 1e-5 have a truncation error of about
 * h²·|f'''| ≈ 1e-10 and a rounding error of about 1e-16/h ≈ 1e-11, both far below 1e-6 of the
 * tensor's largest gradient; a ReLU kink within h of an evaluated point would show as an error
 * near 1, which seeded inputs avoid.
 */
const TOLERANCE = 1e-6;
/**
 * The rounding of the loss itself (|loss| ≲ 100 here, so about 1e-14) over 2h: a floor for a
 * tensor whose gradient is tiny, as a gate before a LayerNorm, which undoes its scaling but for eps.
 */
const NOISE = 1e-9;

describe('graph backward against finite differences', () => {
  SMALL_TRAINING_CASES.forEach(({ name, source, trained }, index) => {
    it(`every trained tensor of ${name}`, () => {
      const program = compileLowered(source);
      const weights = randomWeights(program, 11 + index);
      const inputs = randomInputs(program, 3, 5, 21 + index);
      const names = weightsNamed(program, ...trained);
      expect(names.length).toBeGreaterThan(0);
      const checks = checkGraphGradients(program, weights, inputs, names, 31 + index);
      for (const check of checks) {
        if (check.name.endsWith('.key.bias')) {
          // The softmax over the members is shift-invariant: the key bias adds q·b_K to every
          // score alike, so its gradient is zero (the optimizing passes drop it).
          expect(check.worst, check.name).toBeLessThan(1e-8);
          continue;
        }
        expect(check.largest, check.name).toBeGreaterThan(1e-6);
        expect(check.worst, check.name).toBeLessThan(TOLERANCE * check.largest + NOISE);
      }
    });
  });
});

describe('the f64 forward', () => {
  it("equals the interpreter's outputs to f32 rounding", () => {
    const program = compileLowered(SMALL_TRAINING_CASES[4]!.source);
    const weights = randomWeights(program, 3);
    const inputs = randomInputs(program, 3, 5, 4);
    const reference = interpret(program, weights, inputs);
    const mine = forward64(program, weights, inputs);
    for (const output of program.outputs) {
      const ref = reference[output.name]!.data;
      expect(relativeError(mine.outputs[output.name]!.data, ref)).toBeLessThan(1e-6);
    }
  });
});

describe("finite differences of the interpreter's f32 forward", () => {
  it('agree with the backward pass to what f32 rounding leaves', () => {
    // Smooth activations only (gelu in the model and the adapter): a ReLU kink within a step
    // as large as this one would spoil the difference.
    const program = compileLowered(SMALL_TRAINING_CASES[1]!.source);
    const weights = randomWeights(program, 41);
    const inputs = randomInputs(program, 2, 4, 42);
    const names = weightsNamed(program, 'adapters.h.');
    const size = forward64(program, weights, inputs).outputs.hidden_states!.data.length;
    const r = normals(size, 43);
    const seed = { output: 'hidden_states', gradient: r };
    const { gradients } = backward(program, weights, inputs, seed, names);
    const loss = () => dot(interpret(program, weights, inputs).hidden_states!.data, r);
    // h = 1e-2: the loss's f32 rounding (about 1e-6 here) over 2h is 5e-5 and the truncation
    // h²·|f'''| about 1e-4, against gradients of order 0.1 to 1: errors up to 1e-3 of the
    // tensor's gradient (h = 1e-3 gives 5e-3, the rounding growing as 1/h).
    const h = 1e-2;
    for (const name of names) {
      const tensor = weights.get(name)!;
      const count = Math.min(tensor.length, 8);
      const numeric = Array.from({ length: count }, (_, i) => {
        const original = tensor[i]!;
        tensor[i] = original + h;
        const up = loss();
        const stepUp = tensor[i]! - original;
        tensor[i] = original - h;
        const down = loss();
        const stepDown = original - tensor[i]!;
        tensor[i] = original;
        return (up - down) / (stepUp + stepDown);
      });
      const error = relativeError(gradients.get(name)!.subarray(0, count), numeric);
      expect(error, name).toBeLessThan(5e-3);
    }
  });
});

describe('which nodes carry a gradient', () => {
  it('only the nodes a trained weight reaches, and never the masks', () => {
    const source = `${SMALL_MODEL}\nadapter a { bottleneck 4 at ffn layers 1 }`;
    const program = compileLowered(source);
    const trained = new Set(weightsNamed(program, 'adapters.a.'));
    const needs = nodesNeedingGradient(program, trained);
    const first = program.nodes.findIndex((n) => n.op === 'weight' && trained.has(n.attrs.name));
    for (const node of program.nodes) {
      if (node.id < first || node.dtype === 'i32')
        expect(needs[node.id], `%${node.id}`).toBe(false);
    }
    expect(needs[program.outputs[0]!.node]).toBe(true);
  });

  it('gives zeros to a trained weight the output does not depend on', () => {
    const source = `${SMALL_MODEL}\nadapter a { bottleneck 4 at ffn }\nadapter b { bottleneck 2 at ffn }\ngraph default = a`;
    const program = compileLowered(source);
    const weights = randomWeights(program, 5);
    const inputs = randomInputs(program, 2, 3, 6);
    const unused = weightsNamed(program, 'adapters.b.');
    const used = weightsNamed(program, 'adapters.a.');
    const size = forward64(program, weights, inputs).outputs.hidden_states!.data.length;
    const seed = { output: 'hidden_states', gradient: normals(size, 7) };
    const { gradients } = backward(program, weights, inputs, seed, [...unused, ...used]);
    for (const name of unused) expect(gradients.get(name)!.every((g) => g === 0)).toBe(true);
    for (const name of used) expect(gradients.get(name)!.some((g) => g !== 0)).toBe(true);
  });
});

describe('what the backward pass refuses', () => {
  const source = `${SMALL_MODEL}\nadapter a { bottleneck 4 at ffn }`;

  it('a fused program', () => {
    const fused = compile(source, { gpu: false }).program!;
    const weights = randomWeights(fused, 1);
    const inputs = randomInputs(fused, 1, 2, 2);
    const seed = { output: 'hidden_states', gradient: new Float64Array(16) };
    expect(() => backward(fused, weights, inputs, seed, [])).toThrow(BackwardError);
    expect(() => backward(fused, weights, inputs, seed, [])).toThrow(
      /compile with \{ fuse: false \}/,
    );
  });

  it('an unknown weight, an unknown output and a seed of the wrong size', () => {
    const program = compileLowered(source);
    const weights = randomWeights(program, 1);
    const inputs = randomInputs(program, 1, 2, 2);
    const good = { output: 'hidden_states', gradient: new Float64Array(16) };
    expect(() => backward(program, weights, inputs, good, ['nope'])).toThrow(/no weight 'nope'/);
    const unknown = { output: 'logits', gradient: new Float64Array(16) };
    expect(() => backward(program, weights, inputs, unknown, [])).toThrow(/no output 'logits'/);
    const short = { output: 'hidden_states', gradient: new Float64Array(3) };
    expect(() => backward(program, weights, inputs, short, [])).toThrow(/3 elements/);
  });
});
