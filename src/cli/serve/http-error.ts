/** A request the server answers with a status other than 200, and the message of its `{"error"}` body. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Extra headers, such as Retry-After for 429 and 503. */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const badRequest = (message: string) => new HttpError(400, message);
export const notFound = (message: string) => new HttpError(404, message);
