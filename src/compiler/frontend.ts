import { check, type ReadFile } from './check/index.js';
import { DiagnosticBag, sortDiagnostics, type Diagnostic } from './diagnostics.js';
import type { Model } from './model.js';
import { SourceFile, type Span } from './source.js';
import type { SourceAst } from './syntax/ast.js';
import { parse } from './syntax/parse.js';
import { ArgumentError } from '../runtime/errors.js';

export interface FrontendResult {
  readonly source: SourceFile;
  readonly ast: SourceAst;
  /** Present when the file has no errors (warnings allowed). */
  readonly model: Model | undefined;
  /** All diagnostics, sorted by position. */
  readonly diagnostics: readonly Diagnostic[];
}

/** `null`, `42`, `an object`: what an argument of the wrong kind was, for an ArgumentError. */
export function describeArgument(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') {
    return String(value);
  }
  return typeof value;
}

/** Throws an ArgumentError unless `value` is a string. */
export function requireString(value: unknown, what: string): asserts value is string {
  if (typeof value !== 'string') {
    throw new ArgumentError(`${what} must be a string, got ${describeArgument(value)}`);
  }
}

export interface CheckOptions {
  /**
   * Reads a file the spec names, synchronously: `model NAME from "DIR"` asks for `DIR/config.json`
   * exactly so (DIR as written, relative to the spec), and the host resolves it; undefined means
   * there is no such file. The compiler reads no files itself, so it runs in a browser too;
   * without a reader, a model read from a checkpoint is an error.
   */
  readonly readFile?: ReadFile;
}

/** Throws an ArgumentError unless `options` is undefined or an object whose readFile is a function. */
function requireCheckOptions(options: unknown): asserts options is CheckOptions | undefined {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ArgumentError(
      `checkSource: options must be an object, got ${describeArgument(options)}`,
    );
  }
  for (const [key, value] of Object.entries(options)) {
    if (key !== 'readFile') {
      throw new ArgumentError(
        `checkSource: unknown option '${key}'; the only option is 'readFile'`,
      );
    }
    if (value !== undefined && typeof value !== 'function') {
      throw new ArgumentError(
        `checkSource: option 'readFile' must be a function, got ${describeArgument(value)}`,
      );
    }
  }
}

/**
 * Parses and checks one .adapt source text. Never throws for bad input; a text or file name
 * that is not a string, or options of the wrong kind, are an ArgumentError. What `readFile`
 * throws is passed on.
 */
export function checkSource(
  text: string,
  fileName = '<input>',
  options?: CheckOptions,
): FrontendResult {
  requireString(text, 'checkSource: source');
  requireString(fileName, 'checkSource: fileName');
  requireCheckOptions(options);
  const source = new SourceFile(fileName, text);
  const bag = new DiagnosticBag(fileName);
  const recovered: Span[] = [];
  const ast = parse(source, bag, recovered);
  const model = check(ast, bag, options?.readFile ? { readFile: options.readFile } : {});
  // check() judges what parsed; a syntax error elsewhere rejects the file all the same.
  const clean = bag.errorCount === 0;
  const diagnostics = bag.items.filter((d) => !judgesRecovered(d, recovered));
  return {
    source,
    ast,
    model: clean ? model : undefined,
    diagnostics: sortDiagnostics(diagnostics),
  };
}

/**
 * Whether a checker diagnostic falls inside a declaration whose syntax error is reported: the
 * parser's guess at it (`hidden heads 4` read as `hidden heads`) would give errors that are not
 * the user's, one mistake reported three times.
 */
function judgesRecovered(diagnostic: Diagnostic, recovered: readonly Span[]): boolean {
  const span = diagnostic.span;
  // Syntax errors stay, and so do the judgements of a declaration's head, which parsed.
  if (!span || /^[EW]00|^E0101$|^E0111$/.test(diagnostic.code)) return false;
  return recovered.some((r) => span.start >= r.start && span.end <= r.end);
}
