import { afterAll, beforeAll, describe, expect } from 'vitest';
import { writeServeFixture } from '../../bench/serve/fixture.js';
import { TINY } from '../../bench/serve/shape.js';
import type { Serving } from '../../src/cli/commands/serve.js';
import { repoRoot } from '../helpers/cli.js';
import { gpuIt } from '../helpers/gpu.js';
import { call, classify, logitError, referenceLogits, SENTENCES, serve } from './serve-helpers.js';

/**
 * `adapt serve` on WebGPU: a checkpoint with tokenizer and three seq_bn adapters with heads, two
 * declared in the spec and one added while serving. Every answer is held to the CPU reference
 * of its adapter's graph, each text run alone.
 */
const fixture = writeServeFixture(repoRoot, { shape: TINY, adapters: 3, specs: [2, 3], seed: 11 });
const spec = fixture.specs.get(2)!;
const TOLERANCE = 1e-4;

interface Result {
  readonly label: string;
  readonly score: number;
  readonly logits: number[];
}

let serving: Serving | undefined;
const references = new Map<string, Float32Array[]>();

beforeAll(async () => {
  // a2 is not in the served spec: it is added while serving; the spec of three declares it.
  for (const adapter of ['a0', 'a1', 'a2'])
    references.set(adapter, await referenceLogits(fixture.specs.get(3)!, adapter, SENTENCES));
}, 120_000);

afterAll(async () => {
  await serving?.stop();
  fixture.remove();
});

describe('adapt serve', () => {
  gpuIt(
    'answers 64 concurrent requests across two adapters with their single-run logits',
    async () => {
      serving = await serve(spec, { maxBatch: 16, maxWaitMs: 20 });
      const { url } = serving.server;
      const requests = Array.from({ length: 64 }, (_, i) => ({
        adapter: i % 2 === 0 ? 'a0' : 'a1',
        sentence: i % SENTENCES.length,
      }));
      const replies = await Promise.all(
        requests.map((r) => classify(url, r.adapter, [SENTENCES[r.sentence]!])),
      );
      let worst = 0;
      replies.forEach((reply, i) => {
        expect(reply.status, reply.text).toBe(200);
        const [result] = (reply.json() as { results: Result[] }).results;
        const expected = references.get(requests[i]!.adapter)![requests[i]!.sentence]!;
        worst = Math.max(worst, logitError(result!.logits, expected));
        const best = expected.indexOf(Math.max(...expected));
        expect(result!.label).toBe(['negative', 'neutral', 'positive'][best]);
      });
      expect(worst).toBeLessThan(TOLERANCE);
      // The two adapters shared forward passes: fewer batches than requests, more than one.
      const metrics = (await call(url, 'GET', '/metrics')).text;
      const batches = Number(/^adapt_batches_total (\d+)$/m.exec(metrics)![1]);
      expect(batches).toBeGreaterThan(0);
      expect(batches).toBeLessThan(64);
      expect(metrics).toMatch(/^adapt_sequences_total 64$/m);
    },
  );
});
