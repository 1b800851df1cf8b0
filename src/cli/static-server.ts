import { constants } from 'node:fs';
import { open, realpath, type FileHandle } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, isAbsolute, join, relative, sep } from 'node:path';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.wasm': 'application/wasm',
};

/** The only interface served on: WebGPU needs a secure context, and http://localhost is one. */
export const LOOPBACK = '127.0.0.1';

/**
 * A request must arrive whole within this time, checked every second; Node answers 408 and closes
 * the connection otherwise, so a client that connects and sends nothing, or sends its headers or
 * body slowly, cannot hold a connection for long. Headers are limited to Node's 16 KiB (431).
 */
const REQUEST_TIMEOUT_MS = 10_000;
const TIMEOUT_CHECK_MS = 1_000;

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  close(): Promise<void>;
}

interface Refusal {
  readonly status: 400 | 403 | 404 | 405;
  readonly reason: string;
}

interface Found {
  readonly handle: FileHandle;
  readonly size: number;
}

const NOT_FOUND: Refusal = { status: 404, reason: 'not found' };
const OUTSIDE: Refusal = { status: 403, reason: 'the path leads outside the served folder' };

function isRefusal(value: object): value is Refusal {
  return 'status' in value;
}

function errorCode(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string'
    ? error.code
    : undefined;
}

function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ');
}

/**
 * The file names a request target asks for, below the served folder. The target is taken as
 * sent: a path beginning with `/`, percent-decoded once; the query is ignored. Dot segments,
 * backslashes and control characters (NUL among them) are refused rather than normalized, and
 * hidden files are not served.
 */
function requestedNames(target: string): readonly string[] | Refusal {
  if (!target.startsWith('/')) {
    return { status: 400, reason: 'the request target must be a path beginning with /' };
  }
  let path: string;
  try {
    path = decodeURIComponent(target.split(/[?#]/, 1)[0]!);
  } catch {
    return { status: 400, reason: 'the path is not valid percent-encoding' };
  }
  if (/[\\\p{Cc}]/u.test(path)) {
    return { status: 400, reason: 'the path holds a backslash or a control character' };
  }
  const segments = path.split('/');
  if (segments.includes('..')) return OUTSIDE;
  if (segments.some((segment) => segment.startsWith('.'))) return NOT_FOUND;
  const names = segments.filter((segment) => segment !== '');
  return path.endsWith('/') ? [...names, 'index.html'] : names;
}

function isInside(root: string, path: string): boolean {
  const rest = relative(root, path);
  return rest !== '' && rest !== '..' && !rest.startsWith(`..${sep}`) && !isAbsolute(rest);
}

/**
 * Opens the regular file the names lead to, after following every symbolic link: the real path
 * must still lie inside the served folder's real path.
 */
async function locate(realRoot: string, names: readonly string[]): Promise<Found | Refusal> {
  let path: string;
  try {
    path = await realpath(join(realRoot, ...names));
  } catch (error) {
    if (['ENOENT', 'ENOTDIR', 'ENAMETOOLONG'].includes(errorCode(error) ?? '')) return NOT_FOUND;
    throw error;
  }
  if (!isInside(realRoot, path)) return path === realRoot ? NOT_FOUND : OUTSIDE;
  let handle: FileHandle;
  try {
    // Non-blocking, so that opening a FIFO returns at once instead of waiting for a writer.
    handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return NOT_FOUND;
    if (errorCode(error) === 'EACCES') return { status: 403, reason: 'not readable' };
    throw error;
  }
  try {
    const info = await handle.stat();
    if (info.isFile()) return { handle, size: info.size };
  } catch (error) {
    await handle.close();
    throw error;
  }
  await handle.close();
  return NOT_FOUND;
}

function answer(
  response: ServerResponse,
  status: number,
  reason: string,
  headers: Readonly<Record<string, string>> = {},
): void {
  const body = `${status} ${reason}\n`;
  response.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  response.end(body);
}

async function serve(
  realRoot: string,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  if (!(await currentResponse(request, response))) return;
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    answer(response, 405, 'only GET and HEAD are served', { allow: 'GET, HEAD' });
    return;
  }
  const names = requestedNames(request.url ?? '/');
  if (isRefusal(names)) {
    answer(response, names.status, names.reason);
    return;
  }
  const found = await locate(realRoot, names);
  if (isRefusal(found)) {
    answer(response, found.status, found.reason);
    return;
  }
  response.writeHead(200, {
    // The type is the requested name's: a link serves its target under the link's name.
    'content-type': TYPES[extname(names.at(-1) ?? '')] ?? 'application/octet-stream',
    'content-length': String(found.size),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  if (request.method === 'HEAD' || found.size === 0) {
    await found.handle.close();
    response.end();
    return;
  }
  // Exactly the bytes the length announced, even if the file grows meanwhile.
  const body = found.handle.createReadStream({ start: 0, end: found.size - 1 });
  // The file closes with the connection, should the client go away mid-transfer.
  const settled = whenClosed(request.socket, () => body.destroy());
  try {
    await pipeline(body, response);
  } catch (error) {
    // The client went away mid-transfer: nothing to answer and nothing wrong here.
    if (!request.socket.destroyed && errorCode(error) !== 'ERR_STREAM_PREMATURE_CLOSE') throw error;
  } finally {
    settled();
  }
}

/** What to do when each connection closes, for the responses it has not finished. */
const closeCallbacks = new WeakMap<Socket, Set<() => void>>();

/**
 * Calls `callback` when the connection closes (at once if it has), with one listener per
 * connection however many requests it pipelines. Returns the function that cancels the call.
 */
function whenClosed(socket: Socket, callback: () => void): () => void {
  if (socket.destroyed) {
    callback();
    return () => {};
  }
  let callbacks = closeCallbacks.get(socket);
  if (!callbacks) {
    const mine = new Set<() => void>();
    closeCallbacks.set(socket, mine);
    socket.once('close', () => {
      for (const call of mine) call();
      mine.clear();
    });
    callbacks = mine;
  }
  callbacks.add(callback);
  const registered = callbacks;
  return () => registered.delete(callback);
}

/**
 * Waits until the response is the connection's current one: a pipelined request is answered only
 * after the ones before it, and is never answered if the client goes away first. Until then it
 * holds no file and no buffer, so a client that pipelines thousands of requests and reads none
 * costs little. False when the connection closed first.
 */
function currentResponse(request: IncomingMessage, response: ServerResponse): Promise<boolean> {
  if (response.socket) return Promise.resolve(true);
  return new Promise((resolve) => {
    const forget = whenClosed(request.socket, () => resolve(false));
    response.once('socket', () => {
      forget();
      resolve(true);
    });
  });
}

/** The 405 of `answer`, written to the raw socket a CONNECT request leaves behind. */
function refuseConnect(socket: Duplex): void {
  const body = '405 only GET and HEAD are served\n';
  socket.on('error', () => socket.destroy());
  socket.end(
    [
      'HTTP/1.1 405 Method Not Allowed',
      'allow: GET, HEAD',
      'content-type: text/plain; charset=utf-8',
      `content-length: ${Buffer.byteLength(body)}`,
      'cache-control: no-store',
      'x-content-type-options: nosniff',
      'connection: close',
      '',
      body,
    ].join('\r\n'),
  );
}

/** Every request gets an answer; an error in the handler is logged as one line and answered 500. */
function handler(realRoot: string, log: (line: string) => void) {
  return (request: IncomingMessage, response: ServerResponse): void => {
    serve(realRoot, request, response).catch((error: unknown) => {
      log(`adapt: playground: ${request.method} ${request.url}: ${oneLine(error)}`);
      if (response.headersSent) response.destroy();
      else answer(response, 500, 'internal error');
    });
  };
}

/**
 * Serves one folder read-only on the loopback interface, GET and HEAD only. Port 0 picks a free
 * port. Rejects with the listen error (its `code` is `EADDRINUSE` when the port is taken).
 */
export async function serveFolder(
  folder: string,
  port: number,
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<RunningServer> {
  const realRoot = await realpath(folder);
  const server = createServer(
    {
      requestTimeout: REQUEST_TIMEOUT_MS,
      headersTimeout: REQUEST_TIMEOUT_MS,
      connectionsCheckingInterval: TIMEOUT_CHECK_MS,
    },
    handler(realRoot, log),
  );
  // A client may end its side once its requests are sent (`nc -N`, `curl --http0.9`, scripts):
  // it still gets every answer, and the connection closes after the last. Node drops them
  // unless told.
  (server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  // Without a listener Node drops a CONNECT without a word; it gets the 405 any other method gets.
  server.on('connect', (request: IncomingMessage, socket: Duplex) => refuseConnect(socket));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, LOOPBACK, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => log(`adapt: playground: ${oneLine(error)}`));
  const address = server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  return {
    url: `http://localhost:${actual}/`,
    port: actual,
    server,
    close: () =>
      new Promise((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}
