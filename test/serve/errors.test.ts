import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeServeFixture } from '../../bench/serve/fixture.js';
import { TINY } from '../../bench/serve/shape.js';
import type { Serving } from '../../src/cli/commands/serve.js';
import { repoRoot } from '../helpers/cli.js';
import { call, classify, rawExchange, SENTENCES, serve } from './serve-helpers.js';

/** Hostile and malformed requests get one 4xx with `{"error"}` each, and the server keeps serving. */
const fixture = writeServeFixture(repoRoot, { shape: TINY, adapters: 2, specs: [2], seed: 5 });
let serving: Serving;
let url: string;

beforeAll(async () => {
  serving = await serve(fixture.specs.get(2)!, {
    backend: 'cpu',
    maxBodyBytes: 4096,
    maxWaitMs: 20,
  });
  url = serving.server.url;
}, 60_000);

afterAll(async () => {
  await serving.stop();
  fixture.remove();
});

const hostile: [string, () => ReturnType<typeof call>, number, RegExp][] = [
  [
    'malformed JSON',
    () => call(url, 'POST', '/v1/classify', '{"adapter": "a0", "texts": ['),
    400,
    /not JSON/,
  ],
  ['a JSON array', () => call(url, 'POST', '/v1/classify', '[1, 2]'), 400, /must be a JSON object/],
  [
    'an unknown adapter',
    () => classify(url, 'nope', ['hi']),
    404,
    /no adapter 'nope'; the adapters are 'a0', 'a1'/,
  ],
  [
    'an unknown graph',
    () => call(url, 'POST', '/v1/classify', { graph: 'g', texts: ['hi'] }),
    404,
    /no graph 'g'/,
  ],
  [
    'texts not an array',
    () => call(url, 'POST', '/v1/classify', { adapter: 'a0', texts: 'hi' }),
    400,
    /'texts' must be a non-empty array/,
  ],
  [
    'an empty texts',
    () => call(url, 'POST', '/v1/classify', { adapter: 'a0', texts: [] }),
    400,
    /non-empty array/,
  ],
  [
    'a text that is a number',
    () => call(url, 'POST', '/v1/classify', { adapter: 'a0', texts: ['ok', 7] }),
    400,
    /'texts\[1\]' must be a string, got the number 7/,
  ],
  [
    'an adapter that is a number',
    () => call(url, 'POST', '/v1/classify', { adapter: 3, texts: ['x'] }),
    400,
    /'adapter' must be a non-empty string/,
  ],
  [
    'both adapter and graph',
    () => call(url, 'POST', '/v1/classify', { adapter: 'a0', graph: 'default', texts: ['x'] }),
    400,
    /either 'adapter'/,
  ],
  [
    'an unknown key',
    () => call(url, 'POST', '/v1/classify', { adapter: 'a0', texts: ['x'], top: 1 }),
    400,
    /unknown key 'top'/,
  ],
  [
    'too large a body',
    () => classify(url, 'a0', ['x'.repeat(5000)]),
    413,
    /over the limit of 4096/,
  ],
  [
    'a body that is not JSON by type',
    () =>
      call(url, 'POST', '/v1/classify', 'a=1', {
        'Content-Type': 'application/x-www-form-urlencoded',
      }),
    415,
    /application\/json/,
  ],
  ['an unknown route', () => call(url, 'GET', '/v2/everything'), 404, /no route/],
  ['a wrong method', () => call(url, 'GET', '/v1/classify'), 405, /takes POST/],
  [
    'DELETE of an unknown adapter',
    () => call(url, 'DELETE', '/v1/adapters/zzz'),
    404,
    /no adapter 'zzz'/,
  ],
  [
    'an adapter directory that does not exist',
    () => call(url, 'POST', '/v1/adapters', { name: 'x', path: '/no/such/dir' }),
    400,
    /no\/such\/dir/,
  ],
  [
    'an adapter name taken',
    () => call(url, 'POST', '/v1/adapters', { name: 'a1', path: '/tmp' }),
    409,
    /'a1' is taken/,
  ],
  [
    'a key given twice',
    () => call(url, 'POST', '/v1/classify', '{"adapter": "a0", "adapter": "a1", "texts": ["x"]}'),
    400,
    /"adapter" appears twice/,
  ],
  [
    'a JSON-like content type',
    () => call(url, 'POST', '/v1/classify', '{}', { 'Content-Type': 'application/json-seq' }),
    415,
    /json-seq/,
  ],
  [
    'a bad percent-encoding in DELETE',
    () => call(url, 'DELETE', '/v1/adapters/%E0%A4%A'),
    400,
    /percent-encoding/,
  ],
  [
    'an adapter name the spec declares',
    () => call(url, 'POST', '/v1/adapters', { name: 'default', path: '/tmp' }),
    409,
    /the spec declares 'default'/,
  ],
  [
    'a path with a control character',
    () => call(url, 'POST', '/v1/adapters', { name: 'x', path: '/tmp/a\u0000b' }),
    400,
    /control characters/,
  ],
  [
    'an adapter name that is no name',
    () => call(url, 'POST', '/v1/adapters', { name: '1x', path: '/tmp' }),
    400,
    /must be a name/,
  ],
];

describe('adapt serve refuses bad requests', () => {
  it('answers a request target that is no route 404 and stays up', async () => {
    const reply = await rawExchange(
      url,
      'GET //[ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    expect(reply).toMatch(/^HTTP\/1\.1 404/);
    expect((await call(url, 'GET', '/healthz')).status).toBe(200);
  });

  it('answers a too large body it was asked to accept 413, without inviting it', async () => {
    const reply = await rawExchange(
      url,
      'POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\nExpect: 100-continue\r\n\r\n',
    );
    expect(reply).not.toMatch(/100 Continue/);
    expect(reply).toMatch(/^HTTP\/1\.1 413/);
    expect(reply).toMatch(/connection: close/i);
  });

  it('answers bytes that are not UTF-8 400', async () => {
    const body = '{"adapter": "a0", "texts": ["\xff"]}';
    const reply = await rawExchange(
      url,
      `POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    );
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    expect(reply).toMatch(/not UTF-8/);
  });

  it('counts unknown paths under one route label', async () => {
    await call(url, 'GET', '/random-1');
    await call(url, 'GET', '/random-2');
    const metrics = (await call(url, 'GET', '/metrics')).text;
    expect(metrics).not.toMatch(/random/);
    expect(metrics).toMatch(/adapt_requests_total\{route="other",code="404"\} [2-9]/);
  });

  it.each(hostile)('%s', async (_, send, status, message) => {
    const reply = await send();
    expect(reply.status, reply.text).toBe(status);
    const body = reply.json() as { error: string };
    expect(body.error).toMatch(message);
    expect(reply.text).not.toMatch(/at .*\.js:\d+/);
  });

  it('answers good requests sent among bad ones, each as if alone', async () => {
    const good = SENTENCES.map((s) => classify(url, 'a0', [s]));
    const bad = hostile.map(([, send]) => send());
    const replies = await Promise.all([...good, ...bad]);
    const alone = await Promise.all(SENTENCES.map((s) => classify(url, 'a0', [s])));
    replies.slice(0, good.length).forEach((reply, i) => {
      expect(reply.status, reply.text).toBe(200);
      expect(reply.json()).toEqual(alone[i]!.json());
    });
    replies.slice(good.length).forEach((reply, i) => expect(reply.status).toBe(hostile[i]![2]));
    expect((await call(url, 'GET', '/healthz')).status).toBe(200);
  });

  it('says what it serves', async () => {
    const models = (await call(url, 'GET', '/v1/models')).json() as {
      adapters: { name: string; slot: number; head: { labels: string[] } }[];
      graphs: { name: string; adapter?: string }[];
      slots: { count: number; free: number }[];
    };
    expect(models.adapters.map((a) => [a.name, a.slot])).toEqual([
      ['a0', 0],
      ['a1', 1],
    ]);
    expect(models.adapters[0]!.head.labels).toEqual(['negative', 'neutral', 'positive']);
    expect(models.graphs).toEqual([{ name: 'default', adapter: 'a0' }]);
    expect(models.slots).toEqual([{ program: 'slots(a0)', count: 10, free: 8 }]);
  });
});
