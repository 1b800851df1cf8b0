import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compiler/index.js';
import { normalArray } from '../../src/runtime/random.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { initWeights } from '../../src/runtime/weights.js';
import { gpuIt, gpuRuntime } from '../helpers/gpu.js';
import { relativeError } from '../helpers/numerics.js';

// A weight over the binding limit is split over its output columns. A small limit lets a small
// model exercise what a 128 MiB limit does to a large one.
const SPEC = `model m { hidden 32 heads 4 ffn 96 layers 2 norm pre }
adapter a { bottleneck 8 at attn, ffn scale 3 }
adapter p { bottleneck 4 parallel ffn }
graph default = stack(a, p)
`;
const LIMIT = 4096;

describe('weights bigger than one storage binding', () => {
  it('are split into column windows that each fit', () => {
    const plan = compile(SPEC, { maxBindingBytes: LIMIT }).program!.gpu!;
    const parts = plan.dispatches.filter((d) => /\[\d+\]/.test(d.label));
    expect(parts.length).toBeGreaterThan(0);
    for (const upload of plan.uploads) {
      for (const part of upload.parts.filter((p) => p.columns)) {
        expect(part.columns![1] - part.columns![0]).toBeLessThanOrEqual(32);
      }
    }
    // The FFN's matmuls take 12 KiB each: W1 (32 in, 96 out) splits into 3 windows of 32
    // columns, W2 (96 in, 32 out) into 4 windows of 8.
    expect(
      plan.dispatches.filter(
        (d) => d.label.includes('(L0/ffn/base)') && d.label.includes('linear['),
      ).length,
    ).toBe(7);
  });

  const variants = [
    ['software', true],
    ['software', false],
    ['gpu', true],
  ] as const;
  for (const [target, fuse] of variants) {
    gpuIt(`compute the same result (${target}, ${fuse ? 'fused' : 'unfused'})`, async () => {
      const reference = compile(SPEC, { fuse: false }).program!;
      const split = compile(SPEC, { fuse, target, maxBindingBytes: LIMIT }).program!;
      const weights = initWeights(reference, 3);
      for (const [name, t] of weights)
        if (name.includes('adapters.')) t.data.set(t.data.map((v) => v * 30));
      const inputs = { hidden_states: { data: normalArray(2 * 5 * 32, 8), shape: [2, 5, 32] } };
      const cpu = await Runtime.create({ backend: 'cpu' });
      const gpu = await gpuRuntime();
      try {
        const expected = (await (await cpu.load(reference, weights)).run(inputs)).hidden_states
          .data;
        const out = (await (await gpu.load(split, weights)).run(inputs)).hidden_states.data;
        expect(relativeError(out, expected)).toBeLessThan(1e-4);
      } finally {
        gpu.dispose();
        cpu.dispose();
      }
    });
  }
});
