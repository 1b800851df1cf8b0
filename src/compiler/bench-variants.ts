import type { Model } from './model.js';

/**
 * The model with `layers` layers instead of its own (benchmarks measure overhead per layer).
 * Adapters keep the layers they had below the new count; fusions keep the sites they cover there.
 */
export function withLayerCount(model: Model, layers: number): Model {
  const adapters = new Map(
    [...model.adapters].map(([name, a]) => [
      name,
      { ...a, layers: a.layers.filter((l) => l < layers) },
    ]),
  );
  const fusions = new Map(
    [...model.fusions].map(([name, f]) => [
      name,
      { ...f, covers: f.covers.filter((c) => c.layer < layers) },
    ]),
  );
  return { ...model, base: { ...model.base, layers }, adapters, fusions };
}

/** The model with one more graph: the frozen base alone, no adapter anywhere. */
export const BASE_GRAPH = '<base>';

export function withBaseGraph(model: Model): Model {
  const graphs = new Map(model.graphs);
  graphs.set(BASE_GRAPH, { name: BASE_GRAPH, composition: { kind: 'stack', items: [] } });
  return { ...model, graphs };
}
