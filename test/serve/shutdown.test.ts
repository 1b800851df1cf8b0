import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { writeServeFixture } from '../../bench/serve/fixture.js';
import { TINY } from '../../bench/serve/shape.js';
import { repoRoot } from '../helpers/cli.js';
import { call, classify, rawExchange, SENTENCES, serve } from './serve-helpers.js';

/** `adapt serve` as a user runs it: SIGTERM stops accepting, answers what it took, exits 0. */
const fixture = writeServeFixture(repoRoot, { shape: TINY, adapters: 2, specs: [2], seed: 31 });
afterAll(() => fixture.remove());

describe('adapt serve and SIGTERM', () => {
  it('drains the requests it took and exits 0', async () => {
    const child = spawn(
      process.execPath,
      [
        `${repoRoot}bin/adapt.js`,
        'serve',
        fixture.specs.get(2)!,
        '--port',
        '0',
        '--backend',
        'cpu',
        '--max-wait-ms',
        '300',
      ],
      { cwd: repoRoot, env: { ...process.env, NO_COLOR: '1' } },
    );
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) =>
      child.on('close', (code) => resolve(code)),
    );
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const match = /adapt serve: listening on (http:\/\/[^ ]+)/.exec(stdout);
        if (match) resolve(match[1]!);
      });
      void exited.then((code) => reject(new Error(`adapt serve exited ${code}: ${stderr}`)));
    });
    expect(stdout).toMatch(/2 adapters, 1 graph, 1 program, cpu/);
    // Queued behind a 300 ms wait for more, when the signal comes.
    const pending = SENTENCES.map((s, i) => classify(url, i % 2 ? 'a1' : 'a0', [s]));
    await new Promise((resolve) => setTimeout(resolve, 100));
    child.kill('SIGTERM');
    const replies = await Promise.all(pending);
    for (const reply of replies) expect(reply.status, reply.text).toBe(200);
    expect(await exited).toBe(0);
    expect(stderr).toMatch(/stopping: answering what is queued/);
    await expect(call(url, 'GET', '/healthz')).rejects.toThrow(/ECONNREFUSED/);
  }, 60_000);

  it('does not wait for a client that is still sending its body', async () => {
    const serving = await serve(fixture.specs.get(2)!, { backend: 'cpu' });
    const { url } = serving.server;
    // Headers and 10 of the 100 bytes promised, then nothing.
    const reply = rawExchange(
      url,
      'POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"adapter"',
      20_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    await serving.stop();
    const text = await reply;
    expect(text).toMatch(/^HTTP\/1\.1 503/);
    expect(text).toMatch(/shutting down/);
  }, 30_000);
});
