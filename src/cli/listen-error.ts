import { CliError } from './io.js';

/** The user error for a port that cannot be listened on. */
export function listenError(port: number, error: unknown): CliError {
  const code = error instanceof Error && 'code' in error ? error.code : undefined;
  if (code === 'EADDRINUSE')
    return new CliError(`adapt: error: port ${port} is in use; pass --port N`);
  if (code === 'EACCES') {
    return new CliError(`adapt: error: no permission to listen on port ${port}; pass --port N`);
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new CliError(`adapt: error: cannot serve on port ${port}: ${detail}`);
}
