import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ADAMW_DEFAULTS,
  BackwardError,
  adamwState,
  adamwStep,
  crossEntropy,
  type AdamWOptions,
} from '../../src/runtime/cpu/backward/index.js';
import { relativeError } from '../helpers/numerics.js';

/** Written by test/fixtures/backward/generate.py with PyTorch. */
interface Fixture {
  readonly crossEntropy: readonly {
    readonly rows: number;
    readonly classes: number;
    readonly logits: number[];
    readonly labels: number[];
    readonly loss: number;
    readonly gradient: number[];
  }[];
  readonly adamw: {
    readonly options: AdamWOptions;
    readonly trajectories: readonly {
      readonly dtype: 'float64' | 'float32';
      readonly initial: number[][];
      readonly gradients: number[][][];
      readonly after: number[][][];
    }[];
  };
}

const fixture = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', 'fixtures', 'backward', 'reference.json'), 'utf8'),
) as Fixture;

describe('cross-entropy against torch.nn.functional.cross_entropy', () => {
  fixture.crossEntropy.forEach((c) => {
    it(`${c.rows} rows of ${c.classes} classes: loss and gradient to 1e-12`, () => {
      const { loss, gradient } = crossEntropy(c.logits, c.classes, c.labels);
      expect(Math.abs(loss - c.loss) / c.loss).toBeLessThan(1e-12);
      expect(relativeError(gradient, c.gradient)).toBeLessThan(1e-12);
    });
  });

  it('refuses labels outside the classes and logits of the wrong size', () => {
    const logits = [0.1, 0.2, 0.3, 0.4];
    expect(() => crossEntropy(logits, 2, [0, 2])).toThrow(BackwardError);
    expect(() => crossEntropy(logits, 2, [0, 2])).toThrow(
      /label 2 of row 1 is not a class in 0..1/,
    );
    expect(() => crossEntropy(logits, 2, [-100, 1])).toThrow(/label -100/);
    expect(() => crossEntropy(logits, 2, [0.5, 1])).toThrow(/label 0.5/);
    expect(() => crossEntropy(logits, 3, [0, 1])).toThrow(/4 logits do not make 2 rows of 3/);
  });
});

describe('AdamW against torch.optim.AdamW', () => {
  const { options, trajectories } = fixture.adamw;

  it("keeps torch's defaults", () => {
    expect(ADAMW_DEFAULTS).toEqual({
      lr: 1e-3,
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      weightDecay: 0.01,
    });
  });

  trajectories.forEach((t) => {
    // f64 parameters: the same operations in the same precision, which agree exactly here.
    // f32 parameters: PyTorch rounds each operation of the update to f32, this reference only
    // the stored result; they differ by 1.5 f32 ulps at most here (1e-7 relative), and 4e-7
    // allows about three.
    const tolerance = t.dtype === 'float64' ? 1e-15 : 4e-7;
    it(`follows a ${t.dtype} trajectory of three steps within ${tolerance}`, () => {
      const params = t.initial.map((p) =>
        t.dtype === 'float64' ? Float64Array.from(p) : Float32Array.from(p),
      );
      const states = params.map((p) => adamwState(p.length));
      t.gradients.forEach((grads, step) => {
        params.forEach((p, i) => adamwStep(p, grads[i]!, states[i]!, options));
        params.forEach((p, i) => {
          const expected = t.after[step]![i]!;
          for (let j = 0; j < p.length; j++) {
            expect(
              Math.abs(p[j]! - expected[j]!),
              `step ${step + 1}, tensor ${i}[${j}]`,
            ).toBeLessThan(tolerance * Math.max(1, Math.abs(expected[j]!)));
          }
        });
      });
      expect(states[0]!.step).toBe(3);
    });
  });

  it('refuses a gradient of another size', () => {
    expect(() => adamwStep(new Float32Array(3), [1, 2], adamwState(3))).toThrow(/gradient of 2/);
  });
});
