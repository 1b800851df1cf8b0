import {
  bottleneckAt,
  type AdapterActivation,
  type AdapterSpec,
  type Composition,
  type FusionSite,
  type FusionSpec,
  type Model,
  type Site,
} from '../model.js';
import { GraphBuilder, type Value } from '../ir/builder.js';
import type { IrGraph, WeightInit } from '../ir/types.js';
import { lowerEmbeddings, textInputs } from './embeddings.js';
import { graphHead } from '../graph-head.js';
import { lowerHubSite } from './adapterhub-site.js';
import { usesAdapterHub } from './adapterhub-mode.js';
import { lowerHead, lowerPredictionHead } from './heads.js';
import { ADAPTER_INIT, BASE_INIT, FUSION_INIT, ONES, ZEROS } from './inits.js';
import { ADAPTER_PLACEHOLDER, SlotStacks } from './slot-stacks.js';
import type { SlotWeight } from '../../runtime/program.js';
import {
  adapterDown,
  adapterUp,
  BERT_NAMES,
  familyNames,
  fusionProjection,
  type FamilyNames,
  type LinearSource,
} from './weight-names/index.js';

/** What a site's composition reads: y, the sublayer output it rewrites, and u, the sublayer input. */
interface SiteValues {
  readonly y: Value;
  readonly u: Value;
}

/**
 * Lowers a checked model and one of its graphs to the IR: the frozen base transformer, with the
 * graph's composition applied to the sublayer output y at every (layer, site) where it has effect.
 * Batch and sequence sizes stay symbolic (B, T). A model read from a checkpoint starts from token
 * ids through its embeddings and ends in its task head; any other starts from hidden states.
 */
export function lowerModel(model: Model, graphName: string): IrGraph {
  const graph = model.graphs.get(graphName);
  if (!graph) throw new Error(`unknown graph '${graphName}'`);
  return new Lowering(model, graph.composition).run();
}

/** How many slots of which template adapter (see `lowerSlots`). */
export interface SlotOptions {
  readonly adapter: string;
  readonly count: number;
}

/**
 * Lowers the graph `adapter` alone with every per-adapter tensor (its down and up projections at
 * each site, its AdapterHub head's Linears) stacked over `count` slots: each sequence computes
 * with the adapter in slot adapter_index[b]. The caller checks slotSignature first.
 */
export function lowerSlots(
  model: Model,
  slots: SlotOptions,
): { graph: IrGraph; weights: readonly SlotWeight[] } {
  const lowering = new Lowering(model, { kind: 'adapter', name: slots.adapter }, slots);
  const graph = lowering.run();
  return { graph, weights: lowering.slotWeights() };
}

/** `layer/site`: the key of one site of one layer. */
const siteKey = (layer: number, site: Site) => `${layer}/${site}`;

class Lowering {
  private readonly b = new GraphBuilder();
  private readonly d: number;
  private readonly names: FamilyNames;
  private adapterIndex: Value | undefined;
  /** Each adapter's layers as a set: lowering asks once per (layer, site). */
  private readonly adapterLayers = new Map<string, ReadonlySet<number>>();
  /** Each fusion's covered sites by siteKey. */
  private readonly fusionCovers = new Map<string, ReadonlyMap<string, FusionSite>>();
  /** The composition being lowered: the graph's, or one branch of its parallel(...). */
  private composition: Composition;
  /** The composition involves an AdapterHub adapter or fusion: every site computes as §4.7. */
  private readonly hub: boolean;
  /** The branch of a parallel(...) graph being lowered. */
  private channel = 0;
  /** The stacked weights of an adapter-slots program. */
  private slots: SlotStacks | undefined;

  constructor(
    private readonly model: Model,
    private readonly graphComposition: Composition,
    private readonly slotOptions?: SlotOptions,
  ) {
    this.composition = graphComposition;
    this.d = model.base.hidden;
    const checkpoint = model.base.checkpoint;
    this.names = checkpoint ? familyNames(checkpoint.family, this.d) : BERT_NAMES;
    for (const [name, adapter] of model.adapters)
      this.adapterLayers.set(name, new Set(adapter.layers));
    for (const [name, fusion] of model.fusions) {
      this.fusionCovers.set(name, new Map(fusion.covers.map((c) => [siteKey(c.layer, c.site), c])));
    }
    this.hub = usesAdapterHub(model, graphComposition);
  }

  run(): IrGraph {
    const { b } = this;
    const { checkpoint } = this.model.base;
    let input: Value;
    let mask: Value;
    if (checkpoint) {
      const inputs = textInputs(b, checkpoint);
      mask = inputs.mask;
      this.selectInput();
      input = lowerEmbeddings(b, checkpoint, this.names, inputs, this.model.base);
    } else {
      input = b.input('hidden_states', 'f32', ['B', 'T', this.d]);
      mask = b.input('attention_mask', 'i32', ['B', 'T'], true);
      this.selectInput();
    }
    const graph = this.graphComposition;
    if (graph.kind !== 'parallel') {
      this.encode(input, mask, '');
      return b.finish();
    }
    // AdapterHub's Parallel repeats the batch at the first adapter layer, one channel per branch,
    // so each channel is the whole encoder on the shared embeddings. Article adapters run their
    // branch alone there; in AdapterHub mode (any AdapterHub adapter in the graph) the channels
    // share the first branch's pre_forward and the last one's post_forward at every site, as
    // compose_parallel computes.
    for (const [channel, branch] of graph.branches.entries()) {
      this.composition = branch;
      this.channel = channel;
      this.encode(input, mask, `.${branch.name}`);
    }
    return b.finish();
  }

  /** The layers from `input`, the final LayerNorm, and the head, as outputs named with `suffix`. */
  private encode(input: Value, mask: Value, suffix: string): void {
    const { b, d } = this;
    const { checkpoint } = this.model.base;
    let x = this.layers(input, mask);
    if (checkpoint && this.names.finalLayerNorm) x = this.layerNormOf(this.names.finalLayerNorm, x);
    b.output(`${checkpoint ? 'last_hidden_state' : 'hidden_states'}${suffix}`, x);
    const hubHead = graphHead(this.model, this.composition);
    if (hubHead) {
      const activate = (v: Value, a: AdapterActivation) => this.activate(v, a);
      b.output(`logits${suffix}`, lowerPredictionHead(b, hubHead, x, d, activate, this.slots));
    } else if (checkpoint?.head) {
      b.output(`logits${suffix}`, lowerHead(b, checkpoint, this.names, x, d));
    }
  }

  slotWeights(): readonly SlotWeight[] {
    return this.slots?.weights() ?? [];
  }

  /** The per-sequence branch index of a batch(...) graph, or slot of an adapter-slots program. */
  private selectInput(): void {
    if (this.composition.kind !== 'batch' && !this.slotOptions) return;
    this.adapterIndex = this.b.input('adapter_index', 'i32', ['B']);
    if (this.slotOptions) {
      const { adapter, count } = this.slotOptions;
      this.slots = new SlotStacks(this.b, adapter, count, this.adapterIndex);
    }
  }

  /** Every layer with the graph's composition, from the layer-0 input `input`. */
  private layers(input: Value, mask: Value): Value {
    const { b } = this;
    let x = input;
    for (let layer = 0; layer < this.model.base.layers; layer++) {
      x = this.site(layer, 'attn', x, (u) => this.attention(layer, u, mask));
      x = this.site(layer, 'ffn', x, (u) => this.feedForward(layer, u));
    }
    b.scope = undefined;
    return x;
  }

  /** One sublayer with its residual, LayerNorm, and the graph's adapters at this site. */
  private site(layer: number, site: Site, x: Value, sublayer: (u: Value) => Value): Value {
    const { b } = this;
    const pre = this.model.base.norm === 'pre';
    b.scope = { layer, site, kind: 'base' };
    const u = pre ? this.layerNorm(layer, site, x) : x;
    let y = sublayer(u);
    if (this.hub) return this.hubSite(layer, site, x, y);
    y = this.apply(this.composition, layer, site, { y, u });
    b.scope = { layer, site, kind: 'residual' };
    const sum = b.op('add', [x, y], {});
    return pre ? sum : this.layerNorm(layer, site, sum);
  }

  /** A post-LN site as the adapters library computes it (the checker refuses pre-LN models). */
  private hubSite(layer: number, site: Site, x: Value, y: Value): Value {
    return lowerHubSite(
      {
        b: this.b,
        d: this.d,
        layer,
        site,
        y,
        x,
        module: this.names.siteModule(layer, site),
        layerNorm: (v) => this.layerNorm(layer, site, v),
        linear: (v, source, out, inSize, init) => this.linear(v, source, out, inSize, init),
        activate: (v, activation) => this.activate(v, activation),
        present: (name) => this.present(name, layer, site),
        fusions: this.model.fusions,
        fusionMembers: (fusion) =>
          this.fusionCovers.get(fusion.name)!.get(siteKey(layer, site))?.members,
        articleFusion: (fusion, value) => this.applyFusion(fusion, layer, site, { y: value, u: x }),
        adapterIndex: this.adapterIndex,
        slots: this.slots,
      },
      this.graphComposition.kind === 'parallel' ? this.graphComposition : this.composition,
      this.channel,
    );
  }

  private layerNorm(layer: number, site: Site, x: Value): Value {
    return this.layerNormOf(this.names.layerNorm(layer, site), x);
  }

  private layerNormOf(module: string, x: Value): Value {
    const gamma = this.b.weight(`${module}.weight`, [this.d], ONES);
    const beta = this.b.weight(`${module}.bias`, [this.d], ZEROS);
    return this.b.op('layer_norm', [x, gamma, beta], { eps: this.model.base.eps });
  }

  private linear(
    x: Value,
    source: LinearSource,
    outSize: number,
    inSize: number,
    init: WeightInit,
  ): Value {
    const { weight, bias } = source;
    const w = this.b.weight(weight.name, [outSize, inSize], init, weight.from);
    const b = this.b.weight(bias.name, [outSize], ZEROS, bias.from);
    return this.b.op('add', [this.b.op('matmul', [x, w], {}), b], {});
  }

  private attention(layer: number, u: Value, mask: Value): Value {
    const { d, names } = this;
    const { heads, attention } = this.model.base;
    const q = this.linear(u, names.linear('query', layer), d, d, BASE_INIT);
    const k = this.linear(u, names.linear('key', layer), d, d, BASE_INIT);
    const v = this.linear(u, names.linear('value', layer), d, d, BASE_INIT);
    const context = this.b.op('attention', [q, k, v, mask], {
      heads,
      causal: attention === 'causal',
    });
    return this.linear(context, names.linear('attentionOutput', layer), d, d, BASE_INIT);
  }

  private feedForward(layer: number, u: Value): Value {
    const { d, names } = this;
    const { ffn, activation } = this.model.base;
    const h = this.linear(u, names.linear('intermediate', layer), ffn, d, BASE_INIT);
    const out = names.linear('output', layer);
    return this.linear(this.activate(h, activation), out, d, ffn, BASE_INIT);
  }

  private activate(x: Value, activation: AdapterActivation): Value {
    return activation === 'identity' ? x : this.b.op(activation, [x], {});
  }

  /** The composition's effect on y at one site; identity where none of its adapters is present. */
  private apply(node: Composition, layer: number, site: Site, values: SiteValues): Value {
    switch (node.kind) {
      case 'adapter':
        return this.applyAdapter(node.name, layer, site, values);
      case 'stack':
        return node.items.reduce(
          (y, item) => this.apply(item, layer, site, { ...values, y }),
          values.y,
        );
      case 'fusion':
        return this.applyFusion(this.model.fusions.get(node.name)!, layer, site, values);
      case 'average':
        return this.applyAverage(node.items, layer, site, values);
      case 'batch': {
        const branches = node.branches.map((branch) => this.apply(branch, layer, site, values));
        if (branches.every((branch) => branch.id === values.y.id)) return values.y;
        this.b.scope = { layer, site, kind: 'batch' };
        return this.b.op('select', [this.adapterIndex!, ...branches], {});
      }
      case 'parallel':
        throw new Error('parallel(...) is lowered branch by branch');
    }
  }

  private present(name: string, layer: number, site: Site): AdapterSpec | undefined {
    const adapter = this.model.adapters.get(name)!;
    return adapter.placements[site] && this.adapterLayers.get(name)!.has(layer)
      ? adapter
      : undefined;
  }

  /** s · Δ(z) = s · (W_up f(W_down z + b_down) + b_up), with z = y (sequential) or u (parallel). */
  private scaledDelta(
    adapter: AdapterSpec,
    layer: number,
    site: Site,
    values: SiteValues,
    weight = 1,
  ): Value {
    const { b, d } = this;
    const parallel = adapter.placements[site] === 'parallel';
    b.scope = { layer, site, kind: parallel ? 'parallel' : 'adapter', name: adapter.name };
    const r = bottleneckAt(adapter, layer);
    const z = parallel ? values.u : values.y;
    const module = this.names.siteModule(layer, site);
    const down = this.linear(z, adapterDown(module, adapter.name), r, d, ADAPTER_INIT);
    const upInit = adapter.init === 'zero_up' ? ZEROS : ADAPTER_INIT;
    const up = this.linear(
      this.activate(down, adapter.activation),
      adapterUp(module, adapter.name),
      d,
      r,
      upInit,
    );
    const factor = adapter.scale * weight;
    return factor === 1 ? up : b.op('scale', [up], { factor });
  }

  private applyAdapter(name: string, layer: number, site: Site, values: SiteValues): Value {
    const adapter = this.present(name, layer, site);
    if (!adapter) return values.y;
    if (this.slots) return this.slotAdapter(this.slots, adapter, layer, site, values);
    return this.b.op('add', [values.y, this.scaledDelta(adapter, layer, site, values)], {});
  }

  /** y + s_slot · Δ_slot(z), the adapter of each sequence's slot, z = y or u as scaledDelta's. */
  private slotAdapter(
    slots: SlotStacks,
    adapter: AdapterSpec,
    layer: number,
    site: Site,
    values: SiteValues,
  ): Value {
    const parallel = adapter.placements[site] === 'parallel';
    this.b.scope = { layer, site, kind: parallel ? 'parallel' : 'adapter', name: adapter.name };
    const module = this.names.siteModule(layer, site);
    const linears = {
      down: adapterDown(module, ADAPTER_PLACEHOLDER),
      up: adapterUp(module, ADAPTER_PLACEHOLDER),
    };
    const z = parallel ? values.u : values.y;
    return slots.bottleneck(values.y, z, linears, adapter, layer, this.d);
  }

  /** y + Σ w_i s_i Δ_i, over the members present here (an absent member contributes nothing). */
  private applyAverage(
    items: readonly { name: string; weight: number }[],
    layer: number,
    site: Site,
    values: SiteValues,
  ): Value {
    let y = values.y;
    for (const item of items) {
      const adapter = this.present(item.name, layer, site);
      if (!adapter || item.weight === 0) continue;
      y = this.b.op('add', [y, this.scaledDelta(adapter, layer, site, values, item.weight)], {});
    }
    return y;
  }

  /**
   * AdapterFusion as the seed computes it: o_i = y + s_i Δ_i(y); q = W_Q y + b_Q;
   * k_i = W_K o_i + b_K; v_i = W_V o_i + b_V (or o_i); α = softmax_i(q·k_i / (sqrt(d) T));
   * y ← Σ α_i v_i (+ y with `residual on`). Where it does not cover the site, its members stack.
   */
  private applyFusion(fusion: FusionSpec, layer: number, site: Site, values: SiteValues): Value {
    const cover = this.fusionCovers.get(fusion.name)!.get(siteKey(layer, site));
    if (!cover) {
      return fusion.adapters.reduce(
        (y, name) => this.applyAdapter(name, layer, site, { ...values, y }),
        values.y,
      );
    }
    const { b, d } = this;
    const outputs = cover.members.map((name) => {
      const adapter = this.present(name, layer, site)!;
      const delta = this.scaledDelta(adapter, layer, site, values);
      return b.op('add', [values.y, delta], {});
    });
    b.scope = { layer, site, kind: 'fusion', name: fusion.name };
    const module = this.names.siteModule(layer, site);
    const projection = (x: Value, which: 'query' | 'key' | 'value') =>
      this.linear(x, fusionProjection(module, fusion.name, which), d, d, FUSION_INIT);
    const q = projection(values.y, 'query');
    const scores = outputs.map((o) => b.op('row_dot', [q, projection(o, 'key')], {}));
    const factor = (fusion.scaleScores ? 1 / Math.sqrt(d) : 1) / fusion.temperature;
    const logits = b.op('scale', [b.op('concat', scores, {})], { factor });
    const alpha = b.op('softmax', [logits], {});
    const fusedValues =
      fusion.value === 'identity' ? outputs : outputs.map((o) => projection(o, 'value'));
    const fused = b.op('weighted_sum', [alpha, ...fusedValues], {});
    return fusion.residual ? b.op('add', [values.y, fused], {}) : fused;
  }
}
