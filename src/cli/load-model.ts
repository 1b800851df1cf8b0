import { hasErrors } from '../compiler/diagnostics.js';
import { checkSource } from '../compiler/frontend.js';
import type { Model } from '../compiler/model.js';
import { quoteList } from '../compiler/suggest.js';
import { CliError, type CliIO } from './io.js';
import { readTextFile } from './read-source.js';
import { renderDiagnostic, summarize } from './render.js';

/**
 * Reads and checks a spec for the commands that need a valid model: prints its diagnostics, and
 * fails with exit 1 if there are errors or the graph does not exist.
 */
export function loadModel(io: CliIO, path: string, graph?: string): Model {
  const result = checkSource(readTextFile(io.cwd, path), path);
  for (const diagnostic of result.diagnostics) {
    io.stderr(renderDiagnostic(diagnostic, result.source, io.color));
  }
  if (hasErrors(result.diagnostics) || !result.model) {
    const errors = result.diagnostics.filter((d) => d.severity === 'error').length;
    const warnings = result.diagnostics.length - errors;
    throw new CliError(summarize(errors, warnings, 1));
  }
  if (graph !== undefined && !result.model.graphs.has(graph)) {
    throw new CliError(
      `${path}: error: no graph '${graph}'; the graphs are ${quoteList([...result.model.graphs.keys()])}`,
    );
  }
  return result.model;
}
