import { execFileSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPlayground } from '../../src/cli/commands/playground.js';
import type { CliIO } from '../../src/cli/io.js';
import { serveFolder, type RunningServer } from '../../src/cli/static-server.js';

const HOST = '127.0.0.1';
const INDEX = '<!doctype html><h1>index</h1>\n';
const SECRET = 'top secret, outside the served folder\n';

interface RawResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

let scratch: string;
let root: string;
let server: RunningServer;
const logged: string[] = [];

/** A served folder with a secret beside it, links out of it, a link loop and a FIFO. */
function makeFolder(): void {
  scratch = mkdtempSync(join(tmpdir(), 'adapt-serve-'));
  root = join(scratch, 'root');
  mkdirSync(join(root, 'sub'), { recursive: true });
  writeFileSync(join(scratch, 'secret.txt'), SECRET);
  // A sibling whose name begins with the served folder's: a prefix test would let it through.
  mkdirSync(join(scratch, 'root-sibling'));
  writeFileSync(join(scratch, 'root-sibling', 'secret.txt'), SECRET);
  symlinkSync('../root-sibling/secret.txt', join(root, 'sibling'));
  writeFileSync(join(root, 'index.html'), INDEX);
  writeFileSync(join(root, 'app.js'), 'export {};\n');
  writeFileSync(join(root, '.hidden'), SECRET);
  symlinkSync('index.html', join(root, 'inner-link.js'));
  symlinkSync('../secret.txt', join(root, 'out-file'));
  symlinkSync('..', join(root, 'out-dir'));
  symlinkSync('/etc/passwd', join(root, 'abs-link'));
  symlinkSync('loop', join(root, 'loop'));
  execFileSync('mkfifo', [join(root, 'fifo')]);
}

/** Sends bytes exactly as given and reads the answer until the server closes the connection. */
function raw(request: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, HOST);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n');
      const headers = Object.fromEntries(
        lines.map((line) => {
          const colon = line.indexOf(':');
          return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
        }),
      );
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: text.slice(end + 4) });
    });
    socket.write(request, 'latin1');
  });
}

function get(target: string, method = 'GET', extra = ''): Promise<RawResponse> {
  return raw(`${method} ${target} HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n${extra}\r\n`);
}

async function expectStillServing(): Promise<void> {
  const response = await get('/');
  expect(response.status).toBe(200);
  expect(response.body).toBe(INDEX);
}

beforeAll(async () => {
  makeFolder();
  server = await serveFolder(root, 0, (line) => logged.push(line));
});

afterAll(async () => {
  await server.close();
  rmSync(scratch, { recursive: true, force: true });
});

describe('the playground server', () => {
  it('listens on the loopback interface only', () => {
    expect(server.server.address()).toEqual({ address: HOST, family: 'IPv4', port: server.port });
    expect(server.url).toBe(`http://localhost:${server.port}/`);
  });

  it('serves its files, with a link inside the folder followed', async () => {
    const index = await get('/');
    expect(index).toMatchObject({ status: 200, body: INDEX });
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(index.headers['content-length']).toBe(String(INDEX.length));
    expect((await get('/index.html?x=%E0%A4%A')).body).toBe(INDEX);
    const linked = await get('/inner-link.js');
    expect(linked).toMatchObject({ status: 200, body: INDEX });
    expect(linked.headers['content-type']).toBe('text/javascript; charset=utf-8');
  });

  it('answers HEAD with the headers alone', async () => {
    const head = await get('/app.js', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(statSync(join(root, 'app.js')).size));
    expect(head.body).toBe('');
  });

  // Each target is sent byte for byte: no client normalizes it first.
  it.each([
    ['/%E0%A4%A', 400, 'the path is not valid percent-encoding'],
    ['/%', 400, 'the path is not valid percent-encoding'],
    ['/index.html%00.js', 400, 'the path holds a backslash or a control character'],
    ['/%00', 400, 'the path holds a backslash or a control character'],
    ['/..\\secret.txt', 400, 'the path holds a backslash or a control character'],
    ['/..%5csecret.txt', 400, 'the path holds a backslash or a control character'],
    ['/sub%0aSet-Cookie:%20x=1', 400, 'the path holds a backslash or a control character'],
    ['http://127.0.0.1/../secret.txt', 400, 'the request target must be a path beginning with /'],
    ['*', 400, 'the request target must be a path beginning with /'],
    ['/../secret.txt', 403, 'the path leads outside the served folder'],
    ['/../package.json', 403, 'the path leads outside the served folder'],
    ['/%2e%2e/%2e%2e/etc/passwd', 403, 'the path leads outside the served folder'],
    ['/..%2fsecret.txt', 403, 'the path leads outside the served folder'],
    ['/%2E%2E%2Fsecret.txt', 403, 'the path leads outside the served folder'],
    ['/sub/../../secret.txt', 403, 'the path leads outside the served folder'],
    ['/out-file', 403, 'the path leads outside the served folder'],
    ['/out-dir/secret.txt', 403, 'the path leads outside the served folder'],
    ['/abs-link', 403, 'the path leads outside the served folder'],
    ['/sibling', 403, 'the path leads outside the served folder'],
    ['/etc/passwd', 404, 'not found'],
    ['//etc/passwd', 404, 'not found'],
    ['/%2fetc%2fpasswd', 404, 'not found'],
    ['/.hidden', 404, 'not found'],
    ['/missing.js', 404, 'not found'],
    ['/sub', 404, 'not found'],
    ['/sub/', 404, 'not found'],
    ['/fifo', 404, 'not found'],
    [`/${'a'.repeat(300)}`, 404, 'not found'],
  ])('answers GET %s with %i', async (target, status, reason) => {
    const response = await get(target);
    expect(response.status).toBe(status);
    expect(response.body).toBe(`${status} ${reason}\n`);
    expect(response.headers['content-type']).toBe('text/plain; charset=utf-8');
    await expectStillServing();
  });

  it.each(['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'])(
    'answers %s with 405 and the methods it allows',
    async (method) => {
      const response = await get('/index.html', method, 'Content-Length: 5\r\n');
      expect(response.status).toBe(405);
      expect(response.headers.allow).toBe('GET, HEAD');
      expect(response.body).toBe('405 only GET and HEAD are served\n');
      await expectStillServing();
    },
  );

  it('answers a request that is not HTTP, or a method HTTP does not know, with 400', async () => {
    expect((await raw('HELLO THERE\r\n\r\n')).status).toBe(400);
    expect((await get('/', 'BREW')).status).toBe(400);
    await expectStillServing();
  });

  it('answers headers over 16 KiB with 431', async () => {
    const response = await get('/', 'GET', `X-Padding: ${'x'.repeat(20_000)}\r\n`);
    expect(response.status).toBe(431);
    await expectStillServing();
  });

  it('keeps serving while a client holds a connection with half its headers', async () => {
    const slow = connect(server.port, HOST);
    await new Promise<void>((resolve) => slow.once('connect', () => resolve()));
    slow.write(`GET / HTTP/1.1\r\nHost: ${HOST}\r\n`);
    await expectStillServing();
    slow.destroy();
  });

  it('answers a GET that announces a body it never sends', async () => {
    const response = await get('/', 'GET', 'Content-Length: 1000000000\r\n');
    expect(response).toMatchObject({ status: 200, body: INDEX });
  });

  it('logs an error in the handler as one line and answers 500 without details', async () => {
    logged.length = 0;
    const response = await get('/loop');
    expect(response.status).toBe(500);
    expect(response.body).toBe('500 internal error\n');
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(/^adapt: playground: GET \/loop: ELOOP: too many symbolic links/);
    expect(logged[0]).not.toContain('\n');
    await expectStillServing();
  });

  it('answers CONNECT with 405 instead of dropping the connection', async () => {
    const response = await raw(`CONNECT ${HOST}:22 HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
    expect(response.status).toBe(405);
    expect(response.headers.allow).toBe('GET, HEAD');
    expect(response.body).toBe('405 only GET and HEAD are served\n');
    await expectStillServing();
  });

  it('answers every pipelined request of a client that ends its side after sending', async () => {
    const text = await new Promise<string>((resolve, reject) => {
      const socket = connect(server.port, HOST);
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('error', reject);
      socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
      socket.end(
        `GET / HTTP/1.1\r\nHost: ${HOST}\r\n\r\nGET /app.js HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`,
      );
    });
    expect(text.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(2);
    expect(text).toContain(INDEX);
    expect(text.endsWith('export {};\n')).toBe(true);
  });

  it('opens no file for pipelined requests of a client that goes away, and holds none', async () => {
    const fds = () => readdirSync('/proc/self/fd').length;
    const before = fds();
    for (let i = 0; i < 20; i++) {
      const socket = connect(server.port, HOST);
      socket.on('error', () => {});
      // Never read: the answers after the first wait, and each would hold its file open.
      socket.pause();
      socket.write(`GET /app.js HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`.repeat(50));
      await new Promise((resolve) => setTimeout(resolve, 20));
      socket.destroy();
    }
    await expect.poll(fds).toBeLessThanOrEqual(before);
    await expectStillServing();
  });

  it('answers the same through fetch', async () => {
    const base = `http://${HOST}:${server.port}`;
    const bad = await fetch(`${base}/%E0%A4%A`);
    expect([bad.status, await bad.text()]).toEqual([
      400,
      '400 the path is not valid percent-encoding\n',
    ]);
    expect((await fetch(`${base}/index.html`, { method: 'DELETE' })).status).toBe(405);
    // fetch resolves the dot segments itself, so this asks for /etc/passwd inside the folder.
    expect((await fetch(`${base}/%2e%2e/%2e%2e/etc/passwd`)).status).toBe(404);
    const index = await fetch(`${base}/`);
    expect([index.status, await index.text()]).toEqual([200, INDEX]);
  });
});

describe('adapt playground', () => {
  function captureIO(): CliIO & { out: string[]; err: string[] } {
    const out: string[] = [];
    const err: string[] = [];
    return {
      out,
      err,
      stdout: (text) => out.push(text),
      stderr: (text) => err.push(text),
      color: false,
      cwd: scratch,
    };
  }

  it('says once that a busy port is in use, exit code 1', async () => {
    const busy: Server = createServer();
    await new Promise<void>((resolve) => busy.listen(0, HOST, () => resolve()));
    const port = (busy.address() as { port: number }).port;
    try {
      await expect(runPlayground(captureIO(), { port, folder: root })).rejects.toMatchObject({
        message: `adapt: error: port ${port} is in use; pass --port N`,
        exitCode: 1,
      });
    } finally {
      await new Promise((resolve) => busy.close(resolve));
    }
  });

  it('refuses a port past 65535 as a usage error', async () => {
    await expect(runPlayground(captureIO(), { port: 70_000, folder: root })).rejects.toMatchObject({
      message: 'adapt: error: --port 70000: expected a port from 1 to 65535',
      exitCode: 2,
    });
  });

  it('serves until stopped and writes handler errors to stderr', async () => {
    const io = captureIO();
    const stop = new AbortController();
    const done = runPlayground(io, { port: 0, folder: root, signal: stop.signal });
    await expect
      .poll(() => io.out.join(''))
      .toMatch(/^adaptc playground at http:\/\/localhost:\d+\//);
    const port = Number(/:(\d+)\//.exec(io.out.join(''))![1]);
    const response = await fetch(`http://${HOST}:${port}/loop`);
    expect(response.status).toBe(500);
    expect(io.err).toHaveLength(1);
    expect(io.err[0]).toMatch(/^adapt: playground: GET \/loop: ELOOP[^\n]*\n$/);
    stop.abort();
    await expect(done).resolves.toBe(0);
    await expect(fetch(`http://${HOST}:${port}/`)).rejects.toThrow();
  });
});
