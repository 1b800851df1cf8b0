import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BackwardError } from '../../src/runtime/cpu/backward/differentiable-ops.js';
import { crossEntropy } from '../../src/runtime/cpu/backward/cross-entropy.js';
import { IGNORED_LABEL } from '../../src/runtime/training/backend.js';
import { relativeError } from '../helpers/numerics.js';

/** Written by test/fixtures/backward/generate.py: F.cross_entropy(..., ignore_index=-100). */
interface IgnoreCase {
  readonly rows: number;
  readonly classes: number;
  readonly ignoreIndex: number;
  readonly logits: number[];
  readonly labels: number[];
  readonly loss: number;
  readonly gradient: number[];
}

const cases = (
  JSON.parse(
    readFileSync(join(import.meta.dirname, '..', 'fixtures', 'backward', 'reference.json'), 'utf8'),
  ) as { crossEntropyIgnore: IgnoreCase[] }
).crossEntropyIgnore;

describe('cross-entropy with an ignore index, against torch', () => {
  it('ignores the label training uses for padding and special tokens', () => {
    expect(cases.map((c) => c.ignoreIndex)).toEqual([IGNORED_LABEL, IGNORED_LABEL]);
  });

  cases.forEach((c) => {
    const counted = c.labels.filter((label) => label !== c.ignoreIndex).length;
    it(`${counted} of ${c.rows} rows counted, ${c.classes} classes: loss and gradient to 1e-12`, () => {
      const result = crossEntropy(c.logits, c.classes, c.labels, { ignoreIndex: c.ignoreIndex });
      expect(result.counted).toBe(counted);
      expect(Math.abs(result.loss - c.loss) / c.loss).toBeLessThan(1e-12);
      expect(relativeError(result.gradient, c.gradient)).toBeLessThan(1e-12);
      c.labels.forEach((label, row) => {
        if (label !== c.ignoreIndex) return;
        const ignoredRow = result.gradient.subarray(row * c.classes, (row + 1) * c.classes);
        expect(Array.from(ignoredRow), `row ${row}`).toEqual(new Array(c.classes).fill(0));
      });
    });
  });

  it('is the plain mean over the counted rows', () => {
    const logits = [0.3, -1.2, 2.0, 0.5, 0.1, 0.7];
    const ignored = crossEntropy(logits, 2, [1, IGNORED_LABEL, 0], { ignoreIndex: IGNORED_LABEL });
    const plain = crossEntropy([0.3, -1.2, 0.1, 0.7], 2, [1, 0]);
    expect(ignored.loss).toBeCloseTo(plain.loss, 15);
    expect(Array.from(ignored.gradient)).toEqual([
      plain.gradient[0],
      plain.gradient[1],
      0,
      0,
      plain.gradient[2],
      plain.gradient[3],
    ]);
  });

  it('refuses a batch whose every label is ignored, where torch gives NaN', () => {
    const run = (): unknown =>
      crossEntropy([0.1, 0.2, 0.3, 0.4], 2, [IGNORED_LABEL, IGNORED_LABEL], {
        ignoreIndex: IGNORED_LABEL,
      });
    expect(run).toThrow(BackwardError);
    expect(run).toThrow(/every one of the 2 labels is the ignore index -100/);
  });

  it('still refuses other labels outside the classes, and ignores nothing without the option', () => {
    const logits = [0.1, 0.2, 0.3, 0.4];
    expect(() => crossEntropy(logits, 2, [-1, 1], { ignoreIndex: IGNORED_LABEL })).toThrow(
      /label -1 of row 0 is not a class in 0..1 nor the ignore index -100/,
    );
    expect(() => crossEntropy(logits, 2, [0, IGNORED_LABEL])).toThrow(/label -100 of row 1/);
    expect(crossEntropy(logits, 2, [0, 1]).counted).toBe(2);
  });

  it('refuses an ignore index that is not an integer', () => {
    expect(() => crossEntropy([0.1, 0.2], 2, [0], { ignoreIndex: 0.5 })).toThrow(
      /ignore index 0.5 is not an integer/,
    );
  });
});
