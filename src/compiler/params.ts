import type { CheckpointSpec, Model, Site } from './model.js';
import { usedByGraph } from './graph-uses.js';
import { SITES } from './model.js';

/** Parameter counts of docs/language.md §4.6, for `adapt params`. */

export interface AdapterParams {
  readonly name: string;
  readonly bottleneck: number;
  /** One adapter module, its down and up projections at one (layer, site): `2rd + r + d`. */
  readonly perPlacement: number;
  /** (layer, site) pairs where the adapter sits: its sites × its layers. */
  readonly placements: number;
  /** The down projections of every placement. */
  readonly down: number;
  /** The up projections of every placement. */
  readonly up: number;
  /** `placements × perPlacement`. */
  readonly total: number;
}

export interface FusionParams {
  readonly name: string;
  readonly sites: number;
  readonly perSite: number;
  readonly total: number;
}

export interface LayerParams {
  readonly layer: number;
  readonly base: number;
  readonly adapters: number;
  readonly fusion: number;
}

export interface ParamReport {
  readonly model: string;
  readonly graph: string;
  readonly base: {
    readonly attention: number;
    readonly ffn: number;
    readonly layerNorms: number;
    readonly perLayer: number;
    /** A checkpoint model's parameters outside its layers; absent for hidden-state specs. */
    readonly checkpoint?: CheckpointParams;
    /** Every layer, and the checkpoint's embeddings, final LayerNorm and head. */
    readonly total: number;
  };
  readonly adapters: readonly AdapterParams[];
  readonly fusions: readonly FusionParams[];
  readonly layers: readonly LayerParams[];
  readonly totals: {
    readonly base: number;
    readonly adapters: number;
    readonly fusion: number;
    readonly trainable: number;
    readonly total: number;
    /** Adapter parameters as a percentage of the base. */
    readonly adaptersPercentOfBase: number;
    /** Adapter and fusion parameters as a percentage of everything. */
    readonly trainablePercentOfTotal: number;
  };
}

export interface CheckpointParams {
  /** Word, position and token-type tables, and the embedding LayerNorm. */
  readonly embeddings: number;
  /** GPT-2's `ln_f`. */
  readonly finalLayerNorm: number;
  /** The task head: pooler or dense layers and the classifier; 0 for a head tied to the embeddings. */
  readonly head: number;
  readonly total: number;
}

/** The parameters a checkpoint model holds outside its layers, as lowering reads them. */
function checkpointParams(checkpoint: CheckpointSpec, d: number): CheckpointParams {
  const { vocab, maxPositions, typeVocab, embeddingEps, head } = checkpoint;
  const embeddings =
    (vocab + maxPositions + typeVocab) * d + (embeddingEps === undefined ? 0 : 2 * d);
  const finalLayerNorm = checkpoint.family === 'gpt2' ? 2 * d : 0;
  const classifier = head ? head.labels.length * (d + 1) : 0;
  const dense = d * d + d;
  const headParams =
    head === undefined || head.layout === 'tied-embeddings'
      ? 0
      : head.layout === 'token'
        ? classifier
        : dense + classifier;
  return {
    embeddings,
    finalLayerNorm,
    head: headParams,
    total: embeddings + finalLayerNorm + headParams,
  };
}

export function countParams(model: Model, graphName: string): ParamReport {
  const graph = model.graphs.get(graphName);
  if (!graph) throw new Error(`unknown graph '${graphName}'`);
  const { hidden: d, ffn, layers } = model.base;
  const attention = 4 * d * d + 4 * d;
  const ffnParams = 2 * d * ffn + ffn + d;
  const layerNorms = 4 * d;
  const perLayer = attention + ffnParams + layerNorms;

  const used = usedByGraph(model, graph.composition);
  const perLayerAdapters = new Array<number>(layers).fill(0);
  const perLayerFusion = new Array<number>(layers).fill(0);
  const adapters: AdapterParams[] = [...model.adapters.values()]
    .filter((a) => used.adapters.has(a.name))
    .map((adapter) => {
      const r = adapter.bottleneck;
      const sites = SITES.filter((s: Site) => adapter.placements[s] !== undefined).length;
      const perPlacement = 2 * r * d + r + d;
      for (const layer of adapter.layers) perLayerAdapters[layer]! += sites * perPlacement;
      const placements = sites * adapter.layers.length;
      const down = placements * (r * d + r);
      const up = placements * (r * d + d);
      return {
        name: adapter.name,
        bottleneck: r,
        perPlacement,
        placements,
        down,
        up,
        total: down + up,
      };
    });
  const fusions: FusionParams[] = [...model.fusions.values()]
    .filter((f) => used.fusions.has(f.name))
    .map((fusion) => {
      const perSite = (fusion.value === 'identity' ? 2 : 3) * (d * d + d);
      for (const cover of fusion.covers) perLayerFusion[cover.layer]! += perSite;
      return {
        name: fusion.name,
        sites: fusion.covers.length,
        perSite,
        total: perSite * fusion.covers.length,
      };
    });

  const checkpoint = model.base.checkpoint && checkpointParams(model.base.checkpoint, d);
  const base = perLayer * layers + (checkpoint?.total ?? 0);
  const adapterTotal = adapters.reduce((sum, a) => sum + a.total, 0);
  const fusionTotal = fusions.reduce((sum, f) => sum + f.total, 0);
  const trainable = adapterTotal + fusionTotal;
  return {
    model: model.base.name,
    graph: graphName,
    base: {
      attention,
      ffn: ffnParams,
      layerNorms,
      perLayer,
      ...(checkpoint ? { checkpoint } : {}),
      total: base,
    },
    adapters,
    fusions,
    layers: Array.from({ length: layers }, (_, layer) => ({
      layer,
      base: perLayer,
      adapters: perLayerAdapters[layer]!,
      fusion: perLayerFusion[layer]!,
    })),
    totals: {
      base,
      adapters: adapterTotal,
      fusion: fusionTotal,
      trainable,
      total: base + trainable,
      adaptersPercentOfBase: (100 * adapterTotal) / base,
      trainablePercentOfTotal: (100 * trainable) / (base + trainable),
    },
  };
}
