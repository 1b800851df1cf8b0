import type { Model } from '../../compiler/index.js';
import type { Program } from '../../runtime/program.js';
import { trainableModules, type TrainTarget } from '../../runtime/training/trainable.js';
import { CliError, EXIT } from '../io.js';

/**
 * The adapter or fusion to train, from --adapter / --fusion: exactly one of them, naming one the
 * spec declares and the graph uses (the program has its weights). Each fault is one error listing what there is.
 */
export function trainTarget(
  specPath: string,
  model: Model,
  program: Program,
  options: { readonly adapter?: string; readonly fusion?: string },
): TrainTarget {
  if ((options.adapter === undefined) === (options.fusion === undefined))
    throw new CliError(
      `adapt: error: give --adapter NAME (an adapter with its head) or --fusion NAME (a fusion with its head), ${options.adapter === undefined ? 'not neither' : 'not both'}`,
      EXIT.usage,
    );
  const isAdapter = options.adapter !== undefined;
  const name = (options.adapter ?? options.fusion)!;
  const kind = isAdapter ? 'adapter' : 'fusion';
  const declared = isAdapter ? model.adapters : model.fusions;
  const used = trainableModules(program);
  const inGraph = new Set(isAdapter ? used.adapters : used.fusions);
  const graph = program.graph;
  if (!declared.has(name)) {
    const names = [...declared.keys()];
    throw new CliError(
      `${specPath}: error: --${kind} ${name}: no ${kind} '${name}'; ${names.length > 0 ? `the spec's ${kind}s are ${listed(names)}` : `the spec declares no ${kind}`}`,
    );
  }
  if (!inGraph.has(name)) {
    const names = [...inGraph];
    throw new CliError(
      `${specPath}: error: --${kind} ${name}: graph '${graph}' does not use ${kind} '${name}'; ${names.length > 0 ? `it uses ${listed(names)}` : `it uses no ${kind}`} (choose the graph with --graph)`,
    );
  }
  return isAdapter ? { adapter: name } : { fusion: name };
}

const listed = (names: readonly string[]) => names.map((name) => `'${name}'`).join(', ');
