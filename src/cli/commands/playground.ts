import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliError, EXIT, type CliIO } from '../io.js';
import { serveFolder } from '../static-server.js';
import { listenError } from '../listen-error.js';
import { untilStopped } from '../signals.js';

/** The built playground, dist/web: beside dist/src when built, under dist/ from the sources. */
export const PLAYGROUND_FOLDER =
  [new URL('../../../web/', import.meta.url), new URL('../../../dist/web/', import.meta.url)]
    .map((url) => fileURLToPath(url))
    .find((folder) => existsSync(`${folder}index.html`)) ??
  fileURLToPath(new URL('../../../web/', import.meta.url));

export interface PlaygroundOptions {
  /** 0 picks a free port. */
  readonly port: number;
  /** The folder to serve; the built playground by default. */
  readonly folder?: string;
  /** Stops serving when aborted, as SIGINT and SIGTERM do. */
  readonly signal?: AbortSignal;
}

/** `adapt playground [--port N]`: serves the playground on localhost until interrupted. */
export async function runPlayground(io: CliIO, options: PlaygroundOptions): Promise<number> {
  const folder = options.folder ?? PLAYGROUND_FOLDER;
  if (!existsSync(join(folder, 'index.html'))) {
    throw new CliError('adapt: error: the playground is not built; run `npm run build` first');
  }
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
    throw new CliError(
      `adapt: error: --port ${options.port}: expected a port from 1 to 65535`,
      EXIT.usage,
    );
  }
  const running = await serveFolder(folder, options.port, (line) => io.stderr(`${line}\n`)).catch(
    (error: unknown) => {
      throw listenError(options.port, error);
    },
  );
  io.stdout(`adaptc playground at ${running.url} (Ctrl-C to stop)\n`);
  await untilStopped(options.signal);
  await running.close();
  return EXIT.ok;
}
