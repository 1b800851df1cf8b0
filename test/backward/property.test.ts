import { describe, expect, it } from 'vitest';
import { seededUniform } from '../../src/runtime/random.js';
import { dropoutSites } from '../../src/runtime/training/dropout/sites.js';
import {
  checkGraphGradients,
  compileLowered,
  randomInputs,
  randomWeights,
  weightsNamed,
} from './finite-differences.js';

/** The activations the language gives an adapter. */
const ADAPTER_ACTIVATIONS = ['relu', 'gelu', 'gelu_tanh', 'silu', 'tanh', 'identity'];

/** A random small model with one or two adapters, and the sizes of a run, from one seed. */
function randomCase(seed: number) {
  const uniform = seededUniform(seed);
  const choose = <T>(options: readonly T[]): T => options[Math.floor(uniform() * options.length)]!;
  const heads = choose([1, 2, 3]);
  const hidden = heads * choose([2, 3, 4]);
  const norm = choose(['pre', 'post']);
  const attention = choose(['causal', 'bidirectional']);
  const model = `model m { hidden ${hidden} heads ${heads} ffn ${2 * hidden} layers ${choose([1, 2])} norm ${norm} attention ${attention} activation ${choose(['gelu', 'gelu_tanh', 'relu'])} }`;
  const adapter = (name: string) =>
    `adapter ${name} { bottleneck ${choose([2, 3, 5])} activation ${choose(ADAPTER_ACTIVATIONS)} ${choose(['at', 'parallel'])} ${choose(['attn', 'ffn', 'attn, ffn'])} scale ${choose([0.5, 1, 2])} }`;
  const graph = choose(['a', 'stack(a, b)', 'average(a: 0.6, b: 0.4)']);
  const source = `${model}\n${adapter('a')}\n${adapter('b')}\ngraph default = ${graph}`;
  return { source, batch: choose([1, 2, 3]), seq: choose([1, 3, 6]), trainsB: graph !== 'a' };
}

/** Dropout at every site, its masks fixed by the seed and step (the same in every probe). */
const DROPOUT_PROBABILITY = 0.3;

describe.each([
  ['without dropout', false],
  [`with dropout ${DROPOUT_PROBABILITY}, the masks fixed`, true],
])('graph backward on random models (property), %s', (_, withDropout) => {
  for (const seed of [101, 202, 303, 404, 505, 606, 707, 808]) {
    it(`seed ${seed}`, () => {
      const { source, batch, seq, trainsB } = randomCase(seed);
      const program = compileLowered(source);
      const weights = randomWeights(program, seed);
      const inputs = randomInputs(program, batch, seq, seed + 1);
      const trained = weightsNamed(program, 'adapters.a.', ...(trainsB ? ['adapters.b.'] : []));
      const dropout = withDropout
        ? {
            sites: dropoutSites(program),
            settings: { probability: DROPOUT_PROBABILITY, seed },
            step: seed % 7,
          }
        : undefined;
      if (dropout) expect(dropout.sites.length).toBeGreaterThan(0);
      const checks = checkGraphGradients(program, weights, inputs, trained, seed + 2, {
        perTensor: 6,
        ...(dropout ? { dropout } : {}),
      });
      let nonzero = 0;
      for (const check of checks) {
        // A tensor whose ReLU units are all off on these few tokens has no gradient at all.
        if (check.largest < 1e-9) {
          expect(check.worst, `${check.name} in\n${source}`).toBeLessThan(1e-9);
          continue;
        }
        nonzero++;
        expect(check.worst, `${check.name} in\n${source}`).toBeLessThan(
          1e-6 * check.largest + 1e-9,
        );
      }
      expect(nonzero).toBeGreaterThan(checks.length / 2);
    });
  }
});
