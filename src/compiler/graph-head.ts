import type { Composition, Model, PredictionHeadSpec } from './model.js';

/**
 * The AdapterHub head a graph ends in: the head named like the adapter its composition ends
 * with (a fusion: the head named like the fusion, else like its last member), as the `adapters`
 * library activates the head of the setup's last adapter. None for `batch(...)` unless every
 * branch ends in the same head.
 */
export function graphHead(model: Model, composition: Composition): PredictionHeadSpec | undefined {
  // parallel(...) ends each branch in its own head: lowering asks per branch.
  if (model.heads.size === 0) return undefined;
  const last = (node: Composition): string | undefined => {
    switch (node.kind) {
      case 'adapter':
        return node.name;
      case 'fusion': {
        if (model.heads.has(node.name)) return node.name;
        const members = model.fusions.get(node.name)!.adapters;
        return members[members.length - 1];
      }
      case 'stack':
        return node.items.length === 0 ? undefined : last(node.items[node.items.length - 1]!);
      case 'average':
        return node.items[node.items.length - 1]?.name;
      case 'batch': {
        const ends = new Set(node.branches.map(last));
        return ends.size === 1 ? [...ends][0] : undefined;
      }
      case 'parallel':
        return undefined;
    }
  };
  const name = last(composition);
  return name === undefined ? undefined : model.heads.get(name);
}
