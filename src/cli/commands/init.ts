import { dirname, resolve } from 'node:path';
import { EXIT, printable, type CliIO } from '../io.js';
import { readSavedDirectory } from '../init/saved-directory.js';
import { writeSpec } from '../init/write-spec.js';
import { prepareOutput, writeOutput } from '../output-file.js';

export interface InitOptions {
  readonly output?: string;
  readonly force: boolean;
}

/**
 * `adapt init DIR... [-o FILE [--force]]`: a .adapt spec for a Hugging Face checkpoint and the
 * adapters, heads and fusions the Python `adapters` library saved, on stdout or in FILE.
 */
export function runInit(io: CliIO, dirs: readonly string[], options: InitOptions): number {
  const output = prepareOutput(io.cwd, { option: '-o', path: options.output }, [], options.force);
  const entries = dirs.map((dir) => readSavedDirectory(io.cwd, dir));
  const base = output === undefined ? io.cwd : dirname(resolve(io.cwd, output.path));
  const text = writeSpec(entries, base);
  if (output === undefined) {
    io.stdout(text);
  } else {
    writeOutput(output, text);
    io.stdout(`wrote ${printable(output.path)}\n`);
  }
  return EXIT.ok;
}
