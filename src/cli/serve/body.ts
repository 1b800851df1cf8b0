import type { IncomingMessage } from 'node:http';
import { HttpError } from './http-error.js';

/** The client went away before its body arrived: nobody is left to answer. */
export class ClientGone extends Error {
  constructor() {
    super('the client closed the connection before its body arrived');
    this.name = 'ClientGone';
  }
}

/** Bodies being read, so that a drain can cut them off instead of waiting for slow clients. */
export class BodyReaders {
  private readonly cancels = new Set<(error: HttpError) => void>();

  /** Answers every body still arriving with `error`, as a drain does. */
  cancelAll(error: HttpError): void {
    for (const cancel of this.cancels) cancel(error);
    this.cancels.clear();
  }

  /**
   * The body, at most `limit` bytes of strict UTF-8: past the limit (or a Content-Length over it,
   * before anything is read) a 413; bad UTF-8 a 400.
   */
  read(request: IncomingMessage, limit: number): Promise<string> {
    const declared = Number(request.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit)
      return Promise.reject(tooLarge(`the body is ${declared} bytes`, limit));
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const finish = (error?: Error, text?: string) => {
        this.cancels.delete(cancel);
        request.removeListener('data', onData);
        if (error) reject(error);
        else resolve(text!);
      };
      const cancel = (error: HttpError) => finish(error);
      const onData = (chunk: Buffer) => {
        size += chunk.length;
        if (size > limit) finish(tooLarge('the body is longer', limit));
        else chunks.push(chunk);
      };
      this.cancels.add(cancel);
      request.on('data', onData);
      request.on('end', () => {
        try {
          finish(
            undefined,
            new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks)),
          );
        } catch {
          finish(new HttpError(400, 'the body is not UTF-8'));
        }
      });
      request.on('aborted', () => finish(new ClientGone()));
      request.on('error', () => finish(new ClientGone()));
    });
  }
}

const tooLarge = (what: string, limit: number) =>
  new HttpError(413, `${what}, over the limit of ${limit} bytes (--max-body-bytes)`, {
    Connection: 'close',
  });
