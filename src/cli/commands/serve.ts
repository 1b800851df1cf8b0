import type { Runtime } from '../../runtime/runtime.js';
import { createRuntime } from '../create-runtime.js';
import { readCheckpoint } from '../checkpoint-files.js';
import { CliError, EXIT, type CliIO } from '../io.js';
import { listenError } from '../listen-error.js';
import { loadChecked } from '../load-model.js';
import type { ServeContext } from '../serve/context.js';
import { loadCatalog } from '../serve/load.js';
import type { ServeOptions } from '../serve/options.js';
import { startServer, type RunningServer } from '../serve/server.js';
import { startupReader } from '../serve/startup-reader.js';
import { untilStopped } from '../signals.js';
import { readWeightFiles } from '../weights-files.js';

export type { ServeOptions } from '../serve/options.js';

export interface Serving {
  readonly server: RunningServer;
  readonly runtime: Runtime;
  /** Drains the server, then frees the device. */
  stop(): Promise<void>;
}

/** Loads the spec's base, adapters, heads and graphs, and starts answering on the port. */
export async function startServing(
  io: CliIO,
  file: string,
  options: ServeOptions,
): Promise<Serving> {
  const { model, source, readFile } = loadChecked(io, file);
  const reader = startupReader(readFile);
  const spec = model.base.checkpoint;
  if (!spec)
    throw new CliError(
      `${file}: error: adapt serve classifies text, so the model must be read from a checkpoint (model NAME from "DIR"); this one reads hidden states`,
    );
  const checkpoint = readCheckpoint(io.cwd, file, spec.dir, { tokenizer: true });
  if (!checkpoint.tokenizer)
    throw new CliError(`${checkpoint.dir}: error: no tokenizer.json, so texts cannot be tokenized`);
  const given = options.weights.map((path) => ({
    tensors: readWeightFiles(io.cwd, [path])[0]!,
    file: path,
  }));
  let server: RunningServer | undefined;
  const onNotice = (notice: string) => {
    if (/device was lost/.test(notice)) server?.metrics.deviceLost();
    io.stderr(`note: ${notice}\n`);
  };
  const { runtime, choice } = await createRuntime(options, onNotice);
  if (choice) io.stderr(`note: ${choice}\n`);
  try {
    const context: ServeContext = {
      io,
      file,
      source,
      readFile: reader.readFile,
      model,
      checkpointTensors: checkpoint.weights.tensors,
      checkpointFiles: checkpoint.weights.files,
      tokenizer: checkpoint.tokenizer,
      runtime,
      given,
      options,
    };
    const catalog = await loadCatalog(context);
    reader.freeze();
    if (catalog.engines.length === 0)
      throw new CliError(
        `${file}: error: nothing to serve: the spec declares no adapter and no graph that can run`,
      );
    server = await startServer(context, catalog).catch((error: unknown) => {
      throw listenError(options.port, error);
    });
    const running = server;
    return {
      server: running,
      runtime,
      async stop() {
        await running.close();
        runtime.dispose();
      },
    };
  } catch (error) {
    runtime.dispose();
    throw error;
  }
}

const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/** `adapt serve`: serves until SIGINT or SIGTERM, then drains what is queued and exits 0. */
export async function runServe(io: CliIO, file: string, options: ServeOptions): Promise<number> {
  const serving = await startServing(io, file, options);
  const { catalog, url } = serving.server;
  const programs = catalog.engines.length;
  io.stdout(
    `adapt serve: listening on ${url} (${count(catalog.adapters.size, 'adapter')}, ${count(catalog.graphs.size, 'graph')}, ${count(programs, 'program')}, ${serving.runtime.backend})\n`,
  );
  await untilStopped(undefined);
  io.stderr('adapt serve: stopping: answering what is queued\n');
  await serving.stop();
  io.stderr('adapt serve: stopped\n');
  return EXIT.ok;
}
