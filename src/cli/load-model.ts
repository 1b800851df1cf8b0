import {
  checkSource,
  compile,
  hasErrors,
  quoteList,
  type Diagnostic,
  type Model,
  type SourceFile,
} from '../compiler/index.js';
import type { Program, Target } from '../runtime/program.js';
import { CliError, type CliIO } from './io.js';
import { readTextFile } from './input-file.js';
import { renderDiagnostic, summarize } from './render.js';

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
): { model: Model; source: string } {
  const text = readTextFile(io.cwd, path);
  const result = checkSource(text, path);
  report(io, result.diagnostics, result.source);
  requireGraph(path, result.model!, graph);
  return { model: result.model!, source: text };
}

export function loadModel(io: CliIO, path: string, graph?: string): Model {
  return loadChecked(io, path, graph).model;
}

/** Reads, checks and compiles a spec to a Program for one graph; `source` is the text read. */
export function loadProgram(
  io: CliIO,
  path: string,
  graph: string,
  options: { fuse?: boolean; target?: Target } = {},
): { model: Model; program: Program; source: string } {
  const text = readTextFile(io.cwd, path);
  const front = checkSource(text, path);
  report(io, front.diagnostics, front.source);
  requireGraph(path, front.model!, graph);
  const { program, model } = compile(text, { fileName: path, graph, ...options });
  return { model: model!, program: program!, source: text };
}
