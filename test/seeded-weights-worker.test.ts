import { describe, expect, it } from 'vitest';
import { compile } from '../src/compiler/index.js';
import { initWeights } from '../src/runtime/weights.js';
import { repoRoot } from './helpers/cli.js';

/**
 * The CLI's seeded weights, computed by this thread and a worker thread, are initWeights' bit
 * for bit. The worker's module exists in the build (`npm test` builds first), so the built
 * module is the one tested.
 */
describe('seeded weights on two threads', () => {
  it("equal initWeights' for a program past the worker's threshold", async () => {
    const built = (await import(`${repoRoot}dist/src/cli/seeded/weights.js`)) as {
      seededWeights: typeof import('../src/cli/seeded/weights.js').seededWeights;
    };
    const { program } = compile(
      'model m { hidden 256 heads 4 ffn 1024 layers 8 }\nadapter a { bottleneck 16 at ffn }',
      { fileName: 'big.adapt', gpu: false },
    );
    const want = initWeights(program!, 11);
    const got = await built.seededWeights(program!, 11);
    expect([...got.keys()]).toEqual([...want.keys()]);
    for (const [name, tensor] of want) {
      const other = got.get(name)!;
      expect(other.shape, name).toEqual(tensor.shape);
      expect(Buffer.from(other.data.buffer).equals(Buffer.from(tensor.data.buffer)), name).toBe(
        true,
      );
    }
  });
});
