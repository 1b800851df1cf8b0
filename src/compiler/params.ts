import type {
  AdapterSpec,
  CheckpointSpec,
  FusionSpec,
  Model,
  PredictionHeadSpec,
  Site,
} from './model.js';
import { graphHead } from './graph-head.js';
import { usedByGraph } from './graph-uses.js';
import { bottleneckAt, SITES } from './model.js';

/** Parameter counts of docs/language.md §4.6, for `adapt params`. */

export interface AdapterParams {
  readonly name: string;
  /** r; where `layerBottlenecks` names a layer, that layer's r instead. */
  readonly bottleneck: number;
  /** AdapterHub's per-layer reduction factors: r by layer, for the layers whose r differs. */
  readonly layerBottlenecks?: Readonly<Record<number, number>>;
  /**
   * One adapter module at one (layer, site) with r = `bottleneck`: its down and up projections,
   * `2rd + r + d`, and its own LayerNorms, scaling and gate where it has them.
   */
  readonly perPlacement: number;
  /** (layer, site) pairs where the adapter sits: its sites × its layers. */
  readonly placements: number;
  /** The down projections of every placement. */
  readonly down: number;
  /** The up projections of every placement. */
  readonly up: number;
  /** AdapterHub's parts beside the projections, over every placement; absent where none. */
  readonly extras?: AdapterExtras;
  /** `down + up` and the extras. */
  readonly total: number;
}

/** An AdapterHub adapter's parameters beside its projections, summed over its placements. */
export interface AdapterExtras {
  /** `adapter_norm_before` and `adapter_norm_after`: 2d each. */
  readonly layerNorms: number;
  /** A learned `scaling`: 1, or d per channel. */
  readonly scaling: number;
  /** The `gate` Linear(d, 1): d + 1. */
  readonly gate: number;
}

/** An AdapterHub prediction head (`heads.NAME.*`): its Linear layers. */
export interface HeadParams {
  readonly name: string;
  readonly type: PredictionHeadSpec['type'];
  /** The Linear layers: all but the last (d + 1)·d, the last d·labels (+ labels with a bias). */
  readonly layers: number;
  readonly labels: number;
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
  /**
   * The AdapterHub heads the graph ends in (one per parallel(...) branch that has one), which
   * replace the checkpoint's own head there.
   */
  readonly heads: readonly HeadParams[];
  readonly layers: readonly LayerParams[];
  readonly totals: {
    readonly base: number;
    readonly adapters: number;
    readonly fusion: number;
    /** The AdapterHub heads'; 0 without one. */
    readonly head: number;
    /** Adapters, fusion and the AdapterHub head. */
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
  /**
   * The task head: pooler or dense layers and the classifier; 0 for a head tied to the embeddings.
   * Where an AdapterHub head replaces it: the pooler that head reads (`use_pooler`), else 0.
   */
  readonly head: number;
  /** The AdapterHub head that replaces the checkpoint's own; absent where none does. */
  readonly replacedBy?: { readonly name: string; readonly usesPooler: boolean };
  readonly total: number;
}

/** The checkpoint's own head as lowering reads it (docs/design.md §3). */
function ownHeadParams(checkpoint: CheckpointSpec, d: number): number {
  const { head } = checkpoint;
  if (head === undefined || head.layout === 'tied-embeddings') return 0;
  const classifier = head.labels.length * (d + 1);
  return head.layout === 'token' ? classifier : d * d + d + classifier;
}

/**
 * The parameters a checkpoint model holds outside its layers, as lowering reads them. An
 * AdapterHub head replaces the checkpoint's head; of the checkpoint's, it reads only BERT's
 * pooler (`use_pooler`).
 */
function checkpointParams(
  checkpoint: CheckpointSpec,
  d: number,
  hubHeads: readonly PredictionHeadSpec[],
  ownHeadRead: boolean,
): CheckpointParams {
  const { vocab, maxPositions, typeVocab, embeddingEps } = checkpoint;
  const embeddings =
    (vocab + maxPositions + typeVocab) * d + (embeddingEps === undefined ? 0 : 2 * d);
  const finalLayerNorm = checkpoint.family === 'gpt2' ? 2 * d : 0;
  const usesPooler = hubHeads.some((h) => h.type !== 'tagging' && h.usePooler);
  const own = ownHeadRead ? ownHeadParams(checkpoint, d) : 0;
  // BERT's own sequence head holds the pooler already; weights are read once.
  const poolerCounted = ownHeadRead && checkpoint.head?.layout === 'pooler';
  const head = own + (usesPooler && !poolerCounted ? d * d + d : 0);
  const replacedBy = hubHeads.map((h) => h.name).join(', ');
  return {
    embeddings,
    finalLayerNorm,
    head,
    ...(hubHeads.length === 0 ? {} : { replacedBy: { name: replacedBy, usesPooler } }),
    total: embeddings + finalLayerNorm + head,
  };
}

/** Per placement: an AdapterHub adapter's own LayerNorms, learned scaling and gate. */
function extrasPerPlacement(adapter: AdapterSpec, d: number): AdapterExtras {
  const { lnBefore, lnAfter, scaling, gating } = adapter.fields;
  return {
    layerNorms: (lnBefore ? 2 * d : 0) + (lnAfter ? 2 * d : 0),
    scaling: scaling === 'learned' ? 1 : scaling === 'channel' ? d : 0,
    gate: gating ? d + 1 : 0,
  };
}

const extrasSum = (e: AdapterExtras) => e.layerNorms + e.scaling + e.gate;

/**
 * One adapter over its placements: per layer its r (`bottleneckAt`), at each of its sites the
 * down projection rd + r, the up projection rd + d and the extras.
 */
function adapterParams(adapter: AdapterSpec, d: number, perLayer: number[]): AdapterParams {
  const r = adapter.bottleneck;
  const sites = SITES.filter((s: Site) => adapter.placements[s] !== undefined).length;
  const extras = extrasPerPlacement(adapter, d);
  const extra = extrasSum(extras);
  let down = 0;
  let up = 0;
  const differing: Record<number, number> = {};
  for (const layer of adapter.layers) {
    const rAt = bottleneckAt(adapter, layer);
    if (rAt !== r) differing[layer] = rAt;
    down += sites * (rAt * d + rAt);
    up += sites * (rAt * d + d);
    perLayer[layer]! += sites * (2 * rAt * d + rAt + d + extra);
  }
  const placements = sites * adapter.layers.length;
  const scaled = (e: AdapterExtras): AdapterExtras => ({
    layerNorms: placements * e.layerNorms,
    scaling: placements * e.scaling,
    gate: placements * e.gate,
  });
  return {
    name: adapter.name,
    bottleneck: r,
    ...(Object.keys(differing).length > 0 ? { layerBottlenecks: differing } : {}),
    perPlacement: 2 * r * d + r + d + extra,
    placements,
    down,
    up,
    ...(extra > 0 ? { extras: scaled(extras) } : {}),
    total: down + up + placements * extra,
  };
}

/**
 * One fusion's parameters per (layer, site) it covers. The article's: query, key and (unless
 * `value identity`) value, d² + d each. AdapterHub's: query and key d² + d each where present,
 * value d² (no bias) where present.
 */
function fusionPerSite(fusion: FusionSpec, d: number): number {
  const { hub } = fusion;
  if (!hub) return (fusion.value === 'identity' ? 2 : 3) * (d * d + d);
  return (hub.query ? d * d + d : 0) + (hub.key ? d * d + d : 0) + (hub.value ? d * d : 0);
}

/** An AdapterHub head's Linear layers: (d + 1)·d each but the last, d·L (+ L with a bias). */
function headParams(head: PredictionHeadSpec, d: number): HeadParams {
  const labels = head.labels.length;
  const last = d * labels + (head.bias ? labels : 0);
  return {
    name: head.name,
    type: head.type,
    layers: head.layers,
    labels,
    total: (head.layers - 1) * (d + 1) * d + last,
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
    .map((adapter) => adapterParams(adapter, d, perLayerAdapters));
  const fusions: FusionParams[] = [...model.fusions.values()]
    .filter((f) => used.fusions.has(f.name))
    .map((fusion) => {
      const perSite = fusionPerSite(fusion, d);
      for (const cover of fusion.covers) perLayerFusion[cover.layer]! += perSite;
      return {
        name: fusion.name,
        sites: fusion.covers.length,
        perSite,
        total: perSite * fusion.covers.length,
      };
    });
  const { composition } = graph;
  const ends = composition.kind === 'parallel' ? composition.branches : [composition];
  const endHeads = ends.map((end) => graphHead(model, end));
  const hubHeads = [...new Set(endHeads.filter((h) => h !== undefined))];
  const heads = hubHeads.map((h) => headParams(h, d));

  const checkpoint =
    model.base.checkpoint &&
    checkpointParams(
      model.base.checkpoint,
      d,
      hubHeads,
      endHeads.some((h) => h === undefined),
    );
  const base = perLayer * layers + (checkpoint?.total ?? 0);
  const adapterTotal = adapters.reduce((sum, a) => sum + a.total, 0);
  const fusionTotal = fusions.reduce((sum, f) => sum + f.total, 0);
  const headTotal = heads.reduce((sum, h) => sum + h.total, 0);
  const trainable = adapterTotal + fusionTotal + headTotal;
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
    heads,
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
      head: headTotal,
      trainable,
      total: base + trainable,
      adaptersPercentOfBase: (100 * adapterTotal) / base,
      trainablePercentOfTotal: (100 * trainable) / (base + trainable),
    },
  };
}
