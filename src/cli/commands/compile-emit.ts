import {
  checkSource,
  compile,
  graphToDot,
  printGraph,
  printPlan,
  printWgsl,
  type CompileResult,
  type ReadFile,
} from '../../compiler/index.js';
import type { Target } from '../../runtime/program.js';
import { CliError, EXIT, type CliIO, printable } from '../io.js';
import { loadChecked } from '../load-model.js';
import { prepareOutput, writeOutput } from '../output-file.js';

export interface CompileOptions {
  readonly graph: string;
  readonly emit: string;
  readonly output?: string;
  /** Replace an existing -o file (never the spec). */
  readonly force?: boolean;
  readonly fuse: boolean;
  readonly target: Target;
}

interface EmitContext {
  readonly source: string;
  readonly file: string;
  readonly readFile: ReadFile;
  /** Compiles on first use: `--emit ast` needs only the front end. */
  readonly result: () => CompileResult;
}

/** What each `--emit` value writes. */
const EMITTERS: Readonly<Record<string, (context: EmitContext) => string>> = {
  ast: ({ source, file, readFile }) => json(checkSource(source, file, { readFile }).ast),
  ir: ({ result }) => printGraph(result().ir!),
  fused: ({ result }) => printGraph(result().optimized!),
  dot: ({ result }) => graphToDot(result().optimized!),
  wgsl: ({ result }) => printWgsl(result().program!.gpu!),
  plan: ({ result }) => printPlan(result().program!.gpu!),
  program: ({ result }) => json(result().program),
};

/** `adapt compile <file> [--graph G] [--emit WHAT] [--no-fuse] [--target T] [-o PATH]`. */
export function runCompile(io: CliIO, file: string, options: CompileOptions): number {
  // Own keys only: `--emit constructor` names no emitter, whatever Object.prototype holds.
  const emit = Object.hasOwn(EMITTERS, options.emit) ? EMITTERS[options.emit] : undefined;
  if (!emit) {
    throw new CliError(
      `adapt: error: unknown --emit '${options.emit}'; choose one of ${Object.keys(EMITTERS).join(', ')}`,
      EXIT.usage,
    );
  }
  const output = prepareOutput(
    io.cwd,
    { option: '-o', path: options.output },
    [{ option: 'the spec', path: file }],
    options.force,
  );
  const { source, readFile } = loadChecked(io, file, options.graph);
  const result = () =>
    compile(source, {
      fileName: file,
      readFile,
      graph: options.graph,
      fuse: options.fuse,
      target: options.target,
    });
  const text = emit({ source, file, readFile, result });
  if (output === undefined) {
    io.stdout(text);
  } else {
    writeOutput(output, text);
    io.stdout(`wrote ${printable(output.path)} (${options.emit}, graph '${options.graph}')\n`);
  }
  return EXIT.ok;
}

function json(value: unknown): string {
  return `${prettyJson(value, '')}\n`;
}

/** JSON with two-space indents, where each value that fits in 100 columns stays on one line. */
function prettyJson(value: unknown, indent: string): string {
  const flat = inline(value);
  if (typeof value !== 'object' || value === null || indent.length + flat.length <= 100)
    return flat;
  const inner = `${indent}  `;
  const items = Array.isArray(value)
    ? value.map((item) => prettyJson(item, inner))
    : entries(value).map(([key, item]) => `${JSON.stringify(key)}: ${prettyJson(item, inner)}`);
  const [open, close] = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
  return `${open}\n${items.map((item) => inner + item).join(',\n')}\n${indent}${close}`;
}

function inline(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(inline).join(', ')}]`;
  if (typeof value !== 'object' || value === null) return JSON.stringify(value) ?? 'null';
  const items = entries(value).map(([key, item]) => `${JSON.stringify(key)}: ${inline(item)}`);
  return items.length === 0 ? '{}' : `{ ${items.join(', ')} }`;
}

function entries(value: object): [string, unknown][] {
  return Object.entries(value).filter(([, item]) => item !== undefined);
}
