import { check } from './check/index.js';
import { DiagnosticBag, sortDiagnostics, type Diagnostic } from './diagnostics.js';
import type { Model } from './model.js';
import { SourceFile } from './source.js';
import type { SourceAst } from './syntax/ast.js';
import { parse } from './syntax/parse.js';

export interface FrontendResult {
  readonly source: SourceFile;
  readonly ast: SourceAst;
  /** Present when the file has no errors (warnings allowed). */
  readonly model: Model | undefined;
  /** All diagnostics, sorted by position. */
  readonly diagnostics: readonly Diagnostic[];
}

/** Parses and checks one .adapt source text. Never throws for bad input. */
export function checkSource(text: string, fileName = '<input>'): FrontendResult {
  const source = new SourceFile(fileName, text);
  const bag = new DiagnosticBag(fileName);
  const ast = parse(source, bag);
  const model = check(ast, bag);
  return { source, ast, model, diagnostics: sortDiagnostics(bag.items) };
}
