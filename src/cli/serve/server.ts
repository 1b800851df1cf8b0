import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { addAdapter } from './add-adapter.js';
import { BodyReaders, ClientGone } from './body.js';
import { encodeText } from './batch-inputs.js';
import { Batcher } from './batcher.js';
import type { Catalog, Target } from './catalog.js';
import type { ServeContext } from './context.js';
import { HttpError, notFound } from './http-error.js';
import { Metrics } from './metrics.js';
import { describeBackend, describeModels, describeTarget } from './models.js';
import { parseJsonBody, readAddAdapterRequest, readClassifyRequest } from './requests.js';
import type { TextResult } from './results.js';
import { settleBatch, type SequenceItem } from './run-batch.js';

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly metrics: Metrics;
  readonly catalog: Catalog;
  /** Stops accepting, answers what is queued and running, then closes; resolves when done. */
  close(): Promise<void>;
}

type Reply = { status: number; body: unknown; headers?: Readonly<Record<string, string>> };

const ROUTES: Readonly<Record<string, readonly string[]>> = {
  '/healthz': ['GET'],
  '/metrics': ['GET'],
  '/v1/models': ['GET'],
  '/v1/classify': ['POST'],
  '/v1/adapters': ['POST'],
};

function requireJson(request: IncomingMessage): void {
  const type = request.headers['content-type'];
  if (type !== undefined && !/^application\/json\s*(;|$)/i.test(type))
    throw new HttpError(
      415,
      `the body must be application/json, got '${type}'${/x-www-form-urlencoded/i.test(type) ? " (curl's default for -d: add -H 'Content-Type: application/json')" : ''}`,
      {
        Connection: 'close',
      },
    );
}

/** The route a path is counted under in /metrics: a known one, or `other`. */
function routeLabel(path: string): string {
  if (Object.hasOwn(ROUTES, path)) return path;
  return path.startsWith('/v1/adapters/') ? '/v1/adapters/NAME' : 'other';
}

/** The path of a request target, or a 400 for one that is not a path. */
function pathOf(target: string | undefined): string {
  const path = (target ?? '/').split('?')[0]!;
  if (!path.startsWith('/')) throw new HttpError(400, 'the request target must be a path');
  return path;
}

/** Starts serving `catalog` on `options.host:options.port`; resolves once listening. */
export async function startServer(context: ServeContext, catalog: Catalog): Promise<RunningServer> {
  const { options } = context;
  const batcher = new Batcher<SequenceItem>(options, async (items) => {
    let passes = 1;
    try {
      passes = await settleBatch(items);
    } finally {
      const tokens = items.reduce((sum, item) => sum + item.text.ids.length, 0);
      metrics.batch(items.length, tokens, passes);
      for (const item of items) catalog.release(item.target);
    }
  });
  const metrics = new Metrics(
    () => batcher.depth,
    () => catalog.adapters.size,
  );
  const adding = new Set<string>();
  const bodies = new BodyReaders();
  const text = catalog.engines[0]!.program.model.text!;
  const backend = await describeBackend(context.runtime);
  let draining = false;
  /** Requests whose response has not closed yet. */
  let open = 0;
  let settled: (() => void) | undefined;
  const shuttingDown = () =>
    new HttpError(503, 'the server is shutting down', { 'Retry-After': '1', Connection: 'close' });

  const keyOf = (target: Target) =>
    options.batching === 'per-adapter' || !target.engine.slots
      ? `${target.engine.name}\u0000${target.name}`
      : target.engine.name;

  async function classify(body: string): Promise<Reply> {
    const request = readClassifyRequest(parseJsonBody(body));
    const target = catalog.resolve(request.route);
    if (!target.head)
      throw new HttpError(400, `${target.kind} '${target.name}' cannot classify: ${target.noHead}`);
    if (request.texts.length > options.maxQueue)
      throw new HttpError(
        400,
        `'texts' holds ${request.texts.length} texts; this server queues at most ${options.maxQueue} sequences (--max-queue)`,
      );
    const texts = request.texts.map((value, i) => {
      try {
        return encodeText(context.tokenizer, text, value);
      } catch (error) {
        throw new HttpError(400, `'texts[${i}]' cannot be tokenized: ${(error as Error).message}`);
      }
    });
    const results = await new Promise<TextResult[]>((resolve, reject) => {
      const out: TextResult[] = [];
      let left = texts.length;
      let failed = false;
      const items = texts.map((text, i): SequenceItem => ({
        key: keyOf(target),
        target,
        text,
        resolve(result) {
          out[i] = result;
          if (--left === 0 && !failed) resolve(out);
        },
        reject(error) {
          if (!failed) reject(error);
          failed = true;
        },
      }));
      batcher.submit(items);
      target.pending += items.length;
    });
    return { status: 200, body: { results } };
  }

  async function handle(request: IncomingMessage, path: string): Promise<Reply> {
    const method = request.method ?? 'GET';
    const adapterPath = /^\/v1\/adapters\/([^/]+)$/.exec(path);
    if (adapterPath) {
      if (method !== 'DELETE')
        throw new HttpError(405, `${path} takes DELETE`, { Allow: 'DELETE' });
      if (draining) throw shuttingDown();
      let name: string;
      try {
        name = decodeURIComponent(adapterPath[1]!);
      } catch {
        throw new HttpError(400, `${path}: the adapter's name is not a valid percent-encoding`);
      }
      return { status: 200, body: { removed: catalog.remove(name).name } };
    }
    const methods = ROUTES[path];
    if (!methods)
      throw notFound(
        `no route ${path}; the routes are ${Object.keys(ROUTES).join(', ')}, /v1/adapters/NAME`,
      );
    if (!methods.includes(method))
      throw new HttpError(405, `${path} takes ${methods.join(', ')}`, {
        Allow: methods.join(', '),
      });
    switch (path) {
      case '/healthz':
        return draining
          ? { status: 503, body: { status: 'draining' } }
          : { status: 200, body: { status: 'ok' } };
      case '/metrics':
        return { status: 200, body: metrics.text() };
      case '/v1/models':
        return { status: 200, body: describeModels(context, catalog, backend) };
    }
    if (draining) throw shuttingDown();
    requireJson(request);
    const body = await bodies.read(request, options.maxBodyBytes);
    if (path === '/v1/classify') return classify(body);
    const target = await addAdapter(
      context,
      catalog,
      adding,
      readAddAdapterRequest(parseJsonBody(body)),
    );
    return { status: 201, body: { adapter: describeTarget(target) } };
  }

  function send(response: ServerResponse, reply: Reply): void {
    const text = typeof reply.body === 'string' ? reply.body : `${JSON.stringify(reply.body)}\n`;
    const type = typeof reply.body === 'string' ? 'text/plain; version=0.0.4' : 'application/json';
    response.writeHead(reply.status, {
      'Content-Type': `${type}; charset=utf-8`,
      'Content-Length': Buffer.byteLength(text),
      ...(draining ? { Connection: 'close' } : {}),
      ...reply.headers,
    });
    response.end(text);
  }

  function answer(request: IncomingMessage, response: ServerResponse): void {
    open += 1;
    response.on('close', () => {
      open -= 1;
      if (open === 0) settled?.();
    });
    const started = performance.now();
    let route = 'other';
    void (async () => {
      const path = pathOf(request.url);
      route = routeLabel(path);
      return handle(request, path);
    })()
      .catch((error: unknown): Reply | undefined => {
        if (error instanceof ClientGone) return undefined;
        if (error instanceof HttpError)
          return { status: error.status, body: { error: error.message }, headers: error.headers };
        const message = error instanceof Error ? error.message : String(error);
        context.io.stderr(`adapt serve: error: ${request.method} ${route}: ${message}\n`);
        return { status: 500, body: { error: `internal error: ${message}` } };
      })
      .then((reply) => {
        const seconds = (performance.now() - started) / 1000;
        if (!reply) {
          // Nobody to answer; counted as nginx counts it, 499.
          metrics.request(route, 499, seconds);
          response.destroy();
          return;
        }
        send(response, reply);
        metrics.request(route, reply.status, seconds);
      });
  }

  const server: Server = createServer(answer);
  // A client that says it will send a body too large, or not JSON, is answered before it sends it.
  server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) => {
    const declared = Number(request.headers['content-length']);
    if (draining || (Number.isFinite(declared) && declared > options.maxBodyBytes)) {
      answer(request, response);
      return;
    }
    response.writeContinue();
    answer(request, response);
  });
  server.requestTimeout = 60_000;
  server.headersTimeout = 20_000;
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;

  return {
    url: `http://${host}:${port}`,
    port,
    metrics,
    catalog,
    async close() {
      draining = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Bodies still arriving are not waited for: they get 503 now, as new requests do.
      bodies.cancelAll(shuttingDown());
      await batcher.drain();
      if (open > 0) await new Promise<void>((resolve) => (settled = resolve));
      server.closeAllConnections();
      await closed;
    },
  };
}
