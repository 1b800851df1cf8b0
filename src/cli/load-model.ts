import { statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import {
  checkSource,
  compile,
  hasErrors,
  quoteList,
  type CompileResult,
  type Diagnostic,
  type Model,
  type ReadFile,
  type SourceFile,
} from '../compiler/index.js';
import type { Program, Target } from '../runtime/program.js';
import { CliError, type CliIO } from './io.js';
import { MAX_SPEC_BYTES, readInputFile, readTextFile } from './input-file.js';
import { decodeUtf8 } from './utf8.js';
import { renderDiagnostic, summarize } from './render.js';

/**
 * The reader the compiler is given for a spec: a path the spec names (`DIR/config.json`) is
 * relative to the spec file's folder. A missing file is undefined (the compiler reports it at
 * the spec's string); anything else that cannot be read, one that is not a regular file, one past
 * the spec size limit or not UTF-8, is a CliError naming the path.
 */
export function specFileReader(cwd: string, specPath: string): ReadFile {
  return (path) => {
    const shown = isAbsolute(path) ? path : join(dirname(specPath), path);
    try {
      statSync(resolve(cwd, shown));
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    }
    const bytes = readInputFile(cwd, {
      path: shown,
      what: 'a checkpoint file',
      maxBytes: MAX_SPEC_BYTES,
    });
    return decodeUtf8(bytes, shown);
  };
}

/** Prints diagnostics; fails with one summary line if any is an error. */
function report(io: CliIO, diagnostics: readonly Diagnostic[], source: SourceFile): void {
  for (const diagnostic of diagnostics) io.stderr(renderDiagnostic(diagnostic, source, io.color));
  if (hasErrors(diagnostics)) {
    const errors = diagnostics.filter((d) => d.severity === 'error').length;
    throw new CliError(summarize(errors, diagnostics.length - errors, 1));
  }
}

function requireGraph(path: string, model: Model, graph: string | undefined): void {
  if (graph !== undefined && !model.graphs.has(graph)) {
    throw new CliError(
      `${path}: error: no graph '${graph}'; the graphs are ${quoteList([...model.graphs.keys()])}`,
    );
  }
}

/**
 * Reads and checks a spec for the commands that need a valid model: prints its diagnostics, and
 * fails with exit 1 if there are errors or the graph does not exist. `source` is the text read.
 */
export function loadChecked(
  io: CliIO,
  path: string,
  graph?: string,
): { model: Model; source: string; readFile: ReadFile } {
  const text = readTextFile(io.cwd, path);
  const readFile = specFileReader(io.cwd, path);
  const result = checkSource(text, path, { readFile });
  report(io, result.diagnostics, result.source);
  requireGraph(path, result.model!, graph);
  return { model: result.model!, source: text, readFile };
}

export function loadModel(io: CliIO, path: string, graph?: string): Model {
  return loadChecked(io, path, graph).model;
}

/**
 * Reads, checks and compiles a spec to a Program for one graph, with the graph as lowered (`ir`);
 * `source` is the text read and `readFile` the reader it was compiled with, for compiling it again.
 */
export function loadProgram(
  io: CliIO,
  path: string,
  graph: string,
  options: { fuse?: boolean; target?: Target; gpu?: boolean; maxBindingBytes?: number } = {},
): {
  model: Model;
  program: Program;
  ir: NonNullable<CompileResult['ir']>;
  source: string;
  readFile: ReadFile;
} {
  const { source, readFile } = loadChecked(io, path, graph);
  const { program, model, ir } = compile(source, { fileName: path, graph, readFile, ...options });
  return { model: model!, program: program!, ir: ir!, source, readFile };
}
