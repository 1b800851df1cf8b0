import { graphHead } from './graph-head.js';
import type { Composition, Model } from './model.js';

/** Adapters and fusions a graph uses; the members of a used fusion count as used. */
export function usedByGraph(
  model: Model,
  composition: Composition,
): { adapters: Set<string>; fusions: Set<string> } {
  const adapters = new Set<string>();
  const fusions = new Set<string>();
  const visit = (node: Composition): void => {
    switch (node.kind) {
      case 'adapter':
        adapters.add(node.name);
        return;
      case 'fusion':
        fusions.add(node.name);
        for (const member of model.fusions.get(node.name)!.adapters) adapters.add(member);
        return;
      case 'stack':
        return node.items.forEach(visit);
      case 'average':
        return node.items.forEach((item) => adapters.add(item.name));
      case 'batch':
      case 'parallel':
        return node.branches.forEach(visit);
    }
  };
  visit(composition);
  return { adapters, fusions };
}

/** An AdapterHub directory a graph reads weights from, and the names its tensors carry. */
export interface SavedWeights {
  readonly kind: 'adapter' | 'head' | 'fusion';
  /** As the spec writes it, relative to the spec file. */
  readonly dir: string;
  readonly savedName: string;
  /** The declared name the program's weights carry. */
  readonly name: string;
}

/**
 * The directories of `adapter/head/fusion NAME from "DIR"` whose weights a graph reads: its
 * adapters and fusions, and the head it ends in. The host reads each directory's weights file
 * and renames its tensors (`renameSavedTensors`) before binding them.
 */
export function savedWeightsOf(model: Model, graphName: string): SavedWeights[] {
  const graph = model.graphs.get(graphName);
  if (!graph) throw new Error(`unknown graph '${graphName}'`);
  const used = usedByGraph(model, graph.composition);
  const found: SavedWeights[] = [];
  for (const adapter of model.adapters.values()) {
    if (adapter.source && used.adapters.has(adapter.name))
      found.push({ kind: 'adapter', ...adapter.source, name: adapter.name });
  }
  for (const fusion of model.fusions.values()) {
    if (fusion.source && used.fusions.has(fusion.name))
      found.push({ kind: 'fusion', ...fusion.source, name: fusion.name });
  }
  const { composition } = graph;
  const ends = composition.kind === 'parallel' ? composition.branches : [composition];
  for (const end of ends) {
    const head = graphHead(model, end);
    // A head declared inline has no directory: its weights are seeded or trained.
    if (head?.source && !found.some((f) => f.kind === 'head' && f.name === head.name))
      found.push({ kind: 'head', ...head.source, name: head.name });
  }
  return found;
}
