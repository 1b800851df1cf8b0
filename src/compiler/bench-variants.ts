import type { Model } from './model.js';

/** What benchmarks compile besides a spec as written: `compile`'s `benchmark` option. */
export interface BenchmarkVariant {
  /** Override the model's layer count (overhead is per layer). */
  readonly layers?: number;
  /** Compile the frozen base alone, with the same weight names and no adapters. */
  readonly base?: boolean;
}

/**
 * The model with `layers` layers instead of its own (benchmarks measure overhead per layer).
 * Adapters keep the layers they had below the new count; fusions keep the sites they cover there.
 */
function withLayerCount(model: Model, layers: number): Model {
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
const BASE_GRAPH = '<base>';

function withBaseGraph(model: Model): Model {
  const graphs = new Map(model.graphs);
  graphs.set(BASE_GRAPH, { name: BASE_GRAPH, composition: { kind: 'stack', items: [] } });
  return { ...model, graphs };
}

/** The model and graph to compile for `variant` of `graph` in `model`. */
export function benchmarkVariant(
  model: Model,
  graph: string,
  variant: BenchmarkVariant,
): { model: Model; graph: string } {
  const sized = variant.layers === undefined ? model : withLayerCount(model, variant.layers);
  return variant.base
    ? { model: withBaseGraph(sized), graph: BASE_GRAPH }
    : { model: sized, graph };
}
