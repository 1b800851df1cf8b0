import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CliError, EXIT, type CliIO } from '../io.js';
import { serveFolder } from '../static-server.js';

/** The built playground, dist/web: beside dist/src when built, under dist/ from the sources. */
export const PLAYGROUND_FOLDER =
  [new URL('../../../web/', import.meta.url), new URL('../../../dist/web/', import.meta.url)]
    .map((url) => fileURLToPath(url))
    .find((folder) => existsSync(`${folder}index.html`)) ??
  fileURLToPath(new URL('../../../web/', import.meta.url));

/** `adapt playground [--port N]`: serves the playground on localhost until interrupted. */
export async function runPlayground(io: CliIO, options: { port: number }): Promise<number> {
  if (!existsSync(`${PLAYGROUND_FOLDER}index.html`)) {
    throw new CliError('adapt: error: the playground is not built; run `npm run build` first');
  }
  const running = await serveFolder(PLAYGROUND_FOLDER, options.port).catch((error: Error) => {
    throw new CliError(`adapt: error: cannot serve on port ${options.port}: ${error.message}`);
  });
  io.stdout(`adaptc playground at ${running.url} (Ctrl-C to stop)\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await running.close();
  return EXIT.ok;
}
