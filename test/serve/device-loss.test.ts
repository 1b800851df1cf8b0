import { afterAll, describe, expect } from 'vitest';
import { writeServeFixture } from '../../bench/serve/fixture.js';
import { TINY } from '../../bench/serve/shape.js';
import { repoRoot } from '../helpers/cli.js';
import { gpuIt } from '../helpers/gpu.js';
import { call, classify, logitError, referenceLogits, SENTENCES, serve } from './serve-helpers.js';

/** A GPU device lost under load: every request is answered, 200 exact or 503, and serving goes on. */
const fixture = writeServeFixture(repoRoot, { shape: TINY, adapters: 2, specs: [2], seed: 41 });
afterAll(() => fixture.remove());

describe('adapt serve and a lost GPU device', () => {
  gpuIt('answers every request in flight and serves exactly afterwards', async () => {
    const spec = fixture.specs.get(2)!;
    const expected = await referenceLogits(spec, 'a1', SENTENCES);
    const log = { stdout: '', stderr: '' };
    const serving = await serve(spec, { maxWaitMs: 5, maxBatch: 4 }, log);
    try {
      const { url } = serving.server;
      const inFlight = Array.from({ length: 24 }, (_, i) =>
        classify(url, 'a1', [SENTENCES[i % SENTENCES.length]!]),
      );
      // The runtime's GpuDevice (src/runtime/webgpu/device.ts) holds the GPUDevice.
      const device = (serving.runtime as unknown as { device: { device: GPUDevice } }).device
        .device;
      device.destroy();
      const replies = await Promise.all(inFlight);
      replies.forEach((reply, i) => {
        expect([200, 503], reply.text).toContain(reply.status);
        if (reply.status === 503) {
          expect(reply.headers['retry-after']).toBe('1');
          return;
        }
        const [result] = (reply.json() as { results: { logits: number[] }[] }).results;
        expect(logitError(result!.logits, expected[i % SENTENCES.length]!)).toBeLessThan(1e-4);
      });
      const after = await Promise.all(SENTENCES.map((s) => classify(url, 'a1', [s])));
      after.forEach((reply, i) => {
        expect(reply.status, reply.text).toBe(200);
        const [result] = (reply.json() as { results: { logits: number[] }[] }).results;
        expect(logitError(result!.logits, expected[i]!)).toBeLessThan(1e-4);
      });
      expect((await call(url, 'GET', '/healthz')).status).toBe(200);
      expect((await call(url, 'GET', '/metrics')).text).toMatch(/^adapt_device_losses_total 1$/m);
      expect(log.stderr).toMatch(/device was lost/);
    } finally {
      await serving.stop();
    }
  });
});
