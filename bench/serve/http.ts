import { Agent, request, type IncomingHttpHeaders } from 'node:http';

export interface HttpAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/**
 * A keep-alive HTTP/1.1 client for one server: every request reuses the agent's open sockets, as
 * many as requests are in flight, so that connection set-up stays out of the latencies.
 */
export class HttpClient {
  private readonly agent: Agent;

  constructor(
    readonly base: URL,
    sockets: number,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets: sockets });
  }

  get(path: string): Promise<HttpAnswer> {
    return this.send('GET', path);
  }

  postJson(path: string, value: unknown): Promise<HttpAnswer> {
    return this.send('POST', path, JSON.stringify(value));
  }

  /** Closes the idle sockets; the server then sees its keep-alive connections end. */
  close(): void {
    this.agent.destroy();
  }

  private send(method: 'GET' | 'POST', path: string, body?: string): Promise<HttpAnswer> {
    const url = new URL(path, this.base);
    const headers: Record<string, string | number> = { accept: 'application/json' };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(body);
    }
    return new Promise((resolve, reject) => {
      const req = request(url, { method, agent: this.agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      });
      req.on('error', reject);
      req.end(body);
    });
  }
}

/** `Retry-After` in milliseconds: delta-seconds or an HTTP date; `fallback` when absent or bad. */
export function retryAfterMs(header: string | string[] | undefined, fallback: number): number {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return fallback;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return 1000 * seconds;
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : fallback;
}
