import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeAdapter, writeHead } from '../../bench/serve/adapters.js';
import { writeServeFixture } from '../../bench/serve/fixture.js';
import { TINY } from '../../bench/serve/shape.js';
import type { Serving } from '../../src/cli/commands/serve.js';
import { repoRoot } from '../helpers/cli.js';
import { gpuIt } from '../helpers/gpu.js';
import { call, classify, logitError, referenceLogits, SENTENCES, serve } from './serve-helpers.js';

/**
 * Adapters added and removed while requests run: an added adapter answers with its own
 * single-run logits, requests queued for a removed one still get theirs, and its slot is reused.
 */
const fixture = writeServeFixture(repoRoot, { shape: TINY, adapters: 3, specs: [2, 3], seed: 23 });
const spec = fixture.specs.get(2)!;
const references = new Map<string, Float32Array[]>();
const adapterDir = (name: string) => ({
  path: join(fixture.dir, 'adapters', name),
  head: join(fixture.dir, 'heads', name),
});

beforeAll(async () => {
  for (const adapter of ['a0', 'a1', 'a2'])
    references.set(adapter, await referenceLogits(fixture.specs.get(3)!, adapter, SENTENCES));
  // An adapter of another shape (bottleneck 8, not 4), which no slot program holds.
  const wide = { ...TINY, reductionFactor: 4 };
  writeAdapter(repoRoot, join(fixture.dir, 'adapters', 'wide'), 'wide', wide, 99);
  writeHead(repoRoot, join(fixture.dir, 'heads', 'wide'), 'wide', wide, 98);
}, 120_000);

afterAll(() => fixture.remove());

interface Result {
  readonly logits: number[];
}

function expectReference(
  reply: { status: number; text: string; json(): unknown },
  adapter: string,
  sentence: number,
) {
  expect(reply.status, reply.text).toBe(200);
  const [result] = (reply.json() as { results: Result[] }).results;
  expect(logitError(result!.logits, references.get(adapter)![sentence]!)).toBeLessThan(1e-4);
}

async function hotAddAndRemove(serving: Serving): Promise<void> {
  const { url } = serving.server;
  // Load on a0 and a1 while a2 is added and a1 removed.
  const load = Array.from({ length: 24 }, (_, i) => ({
    adapter: i % 2 ? 'a1' : 'a0',
    sentence: i % SENTENCES.length,
  }));
  const inFlight = load.map((r) => classify(url, r.adapter, [SENTENCES[r.sentence]!]));
  const added = await call(url, 'POST', '/v1/adapters', { name: 'a2', ...adapterDir('a2') });
  expect(added.status, added.text).toBe(201);
  expect(added.json()).toMatchObject({ adapter: { name: 'a2', slot: 2, program: 'slots(a0)' } });
  const removed = await call(url, 'DELETE', '/v1/adapters/a1');
  expect(removed.status, removed.text).toBe(200);
  const answers = await Promise.all(inFlight);
  answers.forEach((reply, i) => expectReference(reply, load[i]!.adapter, load[i]!.sentence));

  const afterwards = await Promise.all(SENTENCES.map((s) => classify(url, 'a2', [s])));
  afterwards.forEach((reply, i) => expectReference(reply, 'a2', i));
  expect((await classify(url, 'a1', ['hello'])).status).toBe(404);

  // a1's slot is free again: the same directory added under another name takes it.
  const again = await call(url, 'POST', '/v1/adapters', { name: 'b1', ...adapterDir('a1') });
  expect(again.status, again.text).toBe(201);
  expect(again.json()).toMatchObject({ adapter: { name: 'b1', slot: 1 } });
  const mixed = await Promise.all(SENTENCES.map((s, i) => classify(url, i % 2 ? 'b1' : 'a2', [s])));
  mixed.forEach((reply, i) => expectReference(reply, i % 2 ? 'a1' : 'a2', i));

  const wide = await call(url, 'POST', '/v1/adapters', { name: 'wide', ...adapterDir('wide') });
  expect(wide.status, wide.text).toBe(422);
  expect((wide.json() as { error: string }).error).toMatch(
    /no slot program serves adapters of the shape of 'wide'/,
  );
  const noHead = await call(url, 'POST', '/v1/adapters', {
    name: 'c',
    path: adapterDir('a2').path,
  });
  expect(noHead.status, noHead.text).toBe(422);
}

async function onBackend(backend: 'cpu' | 'webgpu' | 'onnx'): Promise<void> {
  const serving = await serve(spec, { backend, maxWaitMs: 10, slots: 3 });
  try {
    await hotAddAndRemove(serving);
  } finally {
    await serving.stop();
  }
}

describe('adapters added and removed while serving', () => {
  it('on the CPU reference', () => onBackend('cpu'), 120_000);
  gpuIt('on WebGPU', () => onBackend('webgpu'));
  // ONNX Runtime feeds the slot weights as inputs at every run, so a write needs no new session.
  it('on ONNX Runtime', () => onBackend('onnx'), 120_000);
});

describe('a full queue', () => {
  it('answers 429 with Retry-After, and the requests it took still succeed', async () => {
    const serving = await serve(spec, {
      backend: 'cpu',
      maxQueue: 4,
      maxBatch: 16,
      maxWaitMs: 500,
    });
    try {
      const { url } = serving.server;
      const replies = await Promise.all(SENTENCES.map((s) => classify(url, 'a0', [s])));
      const refused = replies.filter((r) => r.status === 429);
      expect(refused.length).toBeGreaterThan(0);
      for (const reply of refused) {
        expect(Number(reply.headers['retry-after'])).toBeGreaterThanOrEqual(1);
        expect((reply.json() as { error: string }).error).toMatch(/the queue is full/);
      }
      replies.forEach((reply, i) => {
        if (reply.status !== 429) expectReference(reply, 'a0', i);
      });
      const metrics = (await call(url, 'GET', '/metrics')).text;
      expect(metrics).toMatch(/adapt_requests_total\{route="\/v1\/classify",code="429"\} [1-9]/);
      // More texts than the queue holds could never be taken: 400, not 429.
      const tooMany = await classify(url, 'a0', SENTENCES.slice(0, 5));
      expect(tooMany.status, tooMany.text).toBe(400);
      expect((tooMany.json() as { error: string }).error).toMatch(/queues at most 4 sequences/);
    } finally {
      await serving.stop();
    }
  }, 60_000);
});
