import type { GraphBuilder, Value } from '../ir/builder.js';
import type { WeightInit } from '../ir/types.js';
import {
  bottleneckAt,
  type AdapterActivation,
  type AdapterSpec,
  type Composition,
  type FusionSpec,
  type HubFusionFields,
  type Site,
} from '../model.js';
import { ADAPTER_INIT, FUSION_INIT, ONES, ZEROS } from './inits.js';
import { plainLinear, type LinearSource } from './weight-names/index.js';
import { ADAPTER_PLACEHOLDER, type SlotStacks } from './slot-stacks.js';

/** The adapters' own LayerNorms (`nn.LayerNorm(input_size)`): PyTorch's default eps. */
const ADAPTER_LN_EPS = 1e-5;

/** What the site interpreter needs of the lowering around it. */
export interface HubSiteContext {
  readonly b: GraphBuilder;
  readonly d: number;
  readonly layer: number;
  readonly site: Site;
  /** The sublayer output (after its dense), which the model's residual LayerNorm would read. */
  readonly y: Value;
  /** The sublayer input: the residual (`input_tensor`). */
  readonly x: Value;
  /** The module the adapters hang under, e.g. `encoder.layer.3.output`. */
  readonly module: string;
  /** The site's LayerNorm of the model (`self.LayerNorm`). */
  layerNorm(value: Value): Value;
  linear(x: Value, source: LinearSource, out: number, inSize: number, init: WeightInit): Value;
  activate(x: Value, activation: AdapterActivation): Value;
  present(name: string): AdapterSpec | undefined;
  readonly fusions: ReadonlyMap<string, FusionSpec>;
  /** Where `fusion` combines its members here; undefined where it does not cover the site. */
  fusionMembers(fusion: FusionSpec): readonly string[] | undefined;
  /** The article's fusion on the value it rewrites (docs/language.md §4.4). */
  articleFusion(fusion: FusionSpec, y: Value): Value;
  /** `adapter_index` for batch(...). */
  readonly adapterIndex: Value | undefined;
  /** An adapter-slots program: the template adapter's forward reads each sequence's slot. */
  readonly slots?: SlotStacks | undefined;
}

/** `BottleneckState` (`adapters/src/adapters/methods/bottleneck.py`) without the constant parts. */
interface State {
  readonly hidden: Value;
  readonly residual: Value;
  readonly up?: Value;
  /** The adapter whose post_forward ends the site. */
  readonly last?: AdapterSpec;
}

/**
 * One site as `BottleneckLayer.bottleneck_layer_forward` computes it for a composition
 * (docs/language.md §4.7): the state starts as (y, x); the composition runs each adapter's
 * pre_forward and forward as `compose_stack` / `compose_fuse` / `compose_average` /
 * `compose_batch_split` do; the last adapter's post_forward gives the site's output. Where no
 * adapter of the composition is present: LN(y + x).
 */
export function lowerHubSite(
  context: HubSiteContext,
  composition: Composition,
  channel?: number,
): Value {
  const site = new HubSite(context);
  if (composition.kind !== 'parallel') return site.run(composition);
  return site.parallelChannel(composition.branches, channel!);
}

class HubSite {
  constructor(private readonly c: HubSiteContext) {}

  run(composition: Composition): Value {
    const { b, x, y } = this.c;
    const top =
      composition.kind === 'adapter'
        ? { kind: 'stack' as const, items: [composition] }
        : composition;
    const state = this.compose(top, { hidden: y, residual: x });
    b.scope = { layer: this.c.layer, site: this.c.site, kind: 'residual' };
    if (!state.last) return this.c.layerNorm(b.op('add', [y, x], {}));
    return this.postForward(state.last, state.hidden);
  }

  /**
   * One channel of `compose_parallel` (`adapter_layer_base.py`): the batch is repeated per branch,
   * `pre_block` runs the first branch's pre_forward on every channel, channel i runs branch i's
   * forward, and `pad_and_concat` keeps the last branch's `last`, whose post_forward ends every
   * channel. Where the first or last branch is absent (the library raises there), the first or
   * last one present stands in.
   */
  parallelChannel(branches: readonly Composition[], channel: number): Value {
    const { b, x, y } = this.c;
    const adapters = branches.map((branch) => {
      if (branch.kind !== 'adapter') throw new Error('AdapterHub parallel(...) runs adapters');
      return this.c.present(branch.name);
    });
    const present = adapters.filter((a): a is AdapterSpec => a !== undefined);
    if (present.length === 0) {
      b.scope = { layer: this.c.layer, site: this.c.site, kind: 'residual' };
      return this.c.layerNorm(b.op('add', [y, x], {}));
    }
    const first = adapters[0] ?? present[0]!;
    const last = adapters[adapters.length - 1] ?? present[present.length - 1]!;
    const pre = this.preBlock(first, { hidden: y, residual: x });
    const own = adapters[channel];
    return this.postForward(last, own ? this.single(own, pre).hidden : pre.hidden);
  }

  private scope(adapter: AdapterSpec | FusionSpec, kind: 'adapter' | 'parallel' | 'fusion') {
    this.c.b.scope = { layer: this.c.layer, site: this.c.site, kind, name: adapter.name };
  }

  private compose(node: Composition, state: State): State {
    switch (node.kind) {
      case 'adapter': {
        const adapter = this.c.present(node.name);
        return adapter ? this.single(adapter, state) : state;
      }
      case 'stack':
        return node.items.reduce((s, item) => {
          if (item.kind !== 'adapter') return this.compose(item, s);
          const adapter = this.c.present(item.name);
          return adapter ? this.single(adapter, this.preBlock(adapter, s)) : s;
        }, state);
      case 'fusion':
        return this.fuse(node.name, state);
      case 'average':
        return this.average(node.items, state);
      case 'batch':
        return this.batch(node.branches, state);
      case 'parallel':
        throw new Error('parallel(...) is lowered branch by branch');
    }
  }

  /** The first adapter of a block present here, whose pre_forward `pre_block` runs. */
  private first(node: Composition): AdapterSpec | undefined {
    switch (node.kind) {
      case 'adapter':
        return this.c.present(node.name);
      case 'fusion':
        return this.firstPresent(this.fusion(node.name).adapters);
      case 'average':
        return this.firstPresent(node.items.map((item) => item.name));
      case 'stack':
        return node.items.map((item) => this.first(item)).find((a) => a !== undefined);
      case 'batch':
      case 'parallel':
        return node.branches.map((item) => this.first(item)).find((a) => a !== undefined);
    }
  }

  private firstPresent(names: readonly string[]): AdapterSpec | undefined {
    return names.map((name) => this.c.present(name)).find((a) => a !== undefined);
  }

  private fusion(name: string): FusionSpec {
    return this.c.fusions.get(name)!;
  }

  private preBlock(adapter: AdapterSpec, state: State): State {
    const { hidden, residual } = this.preForward(adapter, state.hidden);
    return { ...state, hidden, residual };
  }

  /** `Adapter.pre_forward` / `ParallelAdapter.pre_forward` (`methods/modeling.py`). */
  private preForward(
    adapter: AdapterSpec,
    hiddenIn: Value,
    fusion?: HubFusionFields,
  ): { hidden: Value; residual: Value; query: Value } {
    const { b, x } = this.c;
    if (this.parallel(adapter)) return { hidden: x, residual: x, query: x };
    const f = adapter.fields;
    let hidden = hiddenIn;
    let residual: Value | undefined = f.residualBeforeLn === true ? hidden : undefined;
    let query = fusion?.queryBeforeLn ? hidden : undefined;
    if (f.originalLnBefore) {
      // The model's own residual LayerNorm, which the adapter then reads (a box of its own in
      // pictures, apart from the site's output).
      b.scope = { layer: this.c.layer, site: this.c.site, kind: 'residual', name: 'input' };
      hidden = b.op('add', [hidden, x], {});
      if (f.residualBeforeLn === 'post_add') residual = hidden;
      hidden = this.c.layerNorm(hidden);
    }
    if (f.residualBeforeLn === false) residual = hidden;
    query ??= hidden;
    return { hidden, residual: residual!, query };
  }

  private parallel(adapter: AdapterSpec): boolean {
    return adapter.placements[this.c.site] === 'parallel';
  }

  /** `compose_single`: the adapter's forward on the state. */
  private single(adapter: AdapterSpec, state: State): State {
    const { output, up } = this.forward(adapter, state.hidden, state.residual);
    return { ...state, hidden: output, up, last: adapter };
  }

  /** `Adapter.forward` / `ParallelAdapter.forward`, dropout off: (output, up). */
  private forward(
    adapter: AdapterSpec,
    input: Value,
    residual: Value,
  ): { output: Value; up: Value } {
    const { b, d, layer, module } = this.c;
    const parallel = this.parallel(adapter);
    this.scope(adapter, parallel ? 'parallel' : 'adapter');
    if (this.c.slots) return this.slotForward(this.c.slots, adapter, input, residual);
    const f = adapter.fields;
    const prefix = `${module}.adapters.${adapter.name}`;
    const r = bottleneckAt(adapter, layer);
    let z = input;
    if (f.lnBefore) z = this.ownNorm(`${prefix}.adapter_norm_before`, z);
    const down = this.c.linear(
      z,
      plainLinear(`${prefix}.adapter_down.${f.lnBefore ? 1 : 0}`),
      r,
      d,
      ADAPTER_INIT,
    );
    let up = this.c.linear(
      this.c.activate(down, adapter.activation),
      plainLinear(`${prefix}.adapter_up`),
      d,
      r,
      adapter.init === 'zero_up' ? ZEROS : ADAPTER_INIT,
    );
    if (f.scaling) {
      const shape = f.scaling === 'learned' ? [1] : [d];
      up = b.op('mul', [up, b.weight(`${prefix}.scaling`, shape, ONES)], {});
    } else if (adapter.scale !== 1) up = b.op('scale', [up], { factor: adapter.scale });
    let output = up;
    if (f.gating) {
      const gate = this.c.linear(input, plainLinear(`${prefix}.gate`), 1, d, ADAPTER_INIT);
      const mean = b.op('token_mean', [b.op('sigmoid', [gate], {})], {});
      output = b.op('mul', [output, mean], {});
    }
    if (parallel) {
      if (f.lnAfter) output = this.ownNorm(`${prefix}.adapter_norm_after`, output);
      return { output, up };
    }
    if (f.adapterResidualBeforeLn) output = b.op('add', [output, residual], {});
    if (f.lnAfter) output = this.ownNorm(`${prefix}.adapter_norm_after`, output);
    if (!f.adapterResidualBeforeLn) output = b.op('add', [output, residual], {});
    return { output, up };
  }

  /**
   * The template adapter's forward with each sequence's slot: up · scale + residual (a slot has
   * no LayerNorm, gate or learned scaling of its own). A parallel adapter's output is y + up ·
   * scale, the sum its post_forward would take.
   */
  private slotForward(
    slots: SlotStacks,
    adapter: AdapterSpec,
    input: Value,
    residual: Value,
  ): { output: Value; up: Value } {
    const prefix = `${this.c.module}.adapters.${ADAPTER_PLACEHOLDER}`;
    const linears = {
      down: plainLinear(`${prefix}.adapter_down.0`),
      up: plainLinear(`${prefix}.adapter_up`),
    };
    const base = this.parallel(adapter) ? this.c.y : residual;
    const output = slots.bottleneck(base, input, linears, adapter, this.c.layer, this.c.d);
    return { output, up: output };
  }

  private ownNorm(module: string, x: Value): Value {
    const { b, d } = this.c;
    const gamma = b.weight(`${module}.weight`, [d], ONES);
    const beta = b.weight(`${module}.bias`, [d], ZEROS);
    return b.op('layer_norm', [x, gamma, beta], { eps: ADAPTER_LN_EPS });
  }

  /** `Adapter.post_forward` / `ParallelAdapter.post_forward`. */
  private postForward(adapter: AdapterSpec, hiddenIn: Value): Value {
    const { b, x, y } = this.c;
    b.scope = { layer: this.c.layer, site: this.c.site, kind: 'residual' };
    let hidden = hiddenIn;
    // A slot's output already holds y (slotForward).
    if (this.parallel(adapter) && !this.c.slots) hidden = b.op('add', [hidden, y], {});
    if (adapter.fields.originalLnAfter) hidden = this.c.layerNorm(b.op('add', [hidden, x], {}));
    return hidden;
  }

  /**
   * `compose_fuse`: the last member's pre_forward (with the fusion's `query_before_ln`) gives
   * hidden, query and residual; every member runs on that state; `BertFusion` mixes their ups.
   * An article fusion rewrites the hidden state as docs/language.md §4.4 says. Where the fusion
   * does not cover the site, its members present here stack.
   */
  private fuse(name: string, state: State): State {
    const fusion = this.fusion(name);
    const members = this.c.fusionMembers(fusion);
    if (!members) {
      return this.compose(
        { kind: 'stack', items: fusion.adapters.map((n) => ({ kind: 'adapter', name: n })) },
        state,
      );
    }
    const adapters = members.map((n) => this.c.present(n)!);
    const last = adapters[adapters.length - 1]!;
    if (!fusion.hub) return { ...state, hidden: this.c.articleFusion(fusion, state.hidden), last };
    const pre = this.preForward(last, state.hidden, fusion.hub);
    const ups = adapters.map((adapter) => this.forward(adapter, pre.hidden, pre.residual).up);
    const hidden = this.bertFusion(fusion, fusion.hub, pre.query, ups, pre.residual);
    return { hidden, residual: pre.residual, last };
  }

  /** `BertFusion.forward` (`methods/modeling.py`), dropout off, temperature 1. */
  private bertFusion(
    fusion: FusionSpec,
    f: HubFusionFields,
    query: Value,
    ups: readonly Value[],
    residual: Value,
  ): Value {
    const { b, d, module } = this.c;
    this.scope(fusion, 'fusion');
    const prefix = `${module}.adapter_fusion_layer.${fusion.name}`;
    const project = (x: Value, which: 'query' | 'key') =>
      this.c.linear(x, plainLinear(`${prefix}.${which}`), d, d, FUSION_INIT);
    const valueWeight = () => b.weight(`${prefix}.value.weight`, [d, d], FUSION_INIT);
    const values = f.residualBefore ? ups.map((up) => b.op('add', [up, residual], {})) : ups;
    const q = f.query ? project(query, 'query') : query;
    const scores = ups.map((up) => b.op('row_dot', [q, f.key ? project(up, 'key') : up], {}));
    // A factor of 1 keeps the scores in the shape the fusion passes match (docs/design.md §5).
    const logits = b.op('scale', [b.op('concat', scores, {})], { factor: 1 });
    const alpha = b.op('softmax', [logits], {});
    const mixed =
      f.value && f.valueBeforeSoftmax
        ? values.map((v) => b.op('matmul', [v, valueWeight()], {}))
        : values;
    let context = b.op('weighted_sum', [alpha, ...mixed], {});
    if (f.value && !f.valueBeforeSoftmax) context = b.op('matmul', [context, valueWeight()], {});
    return f.residualBefore ? context : b.op('add', [context, residual], {});
  }

  /**
   * `compose_average`: the first adapter's pre_forward, every member on that state, then
   * `mean(stack(h_i) · w_i)`: the normalized weights, divided by the count N once more.
   */
  private average(items: readonly { name: string; weight: number }[], state: State): State {
    const { b } = this.c;
    const present = items
      .map((item) => ({ adapter: this.c.present(item.name), weight: item.weight }))
      .filter(
        (item): item is { adapter: AdapterSpec; weight: number } => item.adapter !== undefined,
      );
    if (present.length === 0) return state;
    const pre = this.preBlock(present[0]!.adapter, state);
    const outputs = present.map(({ adapter }) => this.single(adapter, pre));
    // The mean over N of the weights times the stacked outputs: with one output present, torch
    // broadcasts it over all N weights (the checker refuses 1 < present < N, where it raises).
    const count = items.length;
    const alone = items.reduce((total, item) => total + item.weight, 0) / count;
    let sum: Value | undefined;
    for (const [i, { weight }] of present.entries()) {
      const factor = present.length === 1 ? alone : weight / count;
      const term = b.op('scale', [outputs[i]!.hidden], { factor });
      sum = sum ? b.op('add', [sum, term], {}) : term;
    }
    return { ...pre, hidden: sum!, last: outputs[outputs.length - 1]!.last! };
  }

  /**
   * `compose_batch_split`, rows chosen by `adapter_index`: the first adapter's pre_forward for
   * every row, each branch on it, and the last branch's last adapter's post_forward.
   */
  private batch(branches: readonly Composition[], state: State): State {
    const { b } = this.c;
    const first = branches.map((branch) => this.first(branch)).find((a) => a !== undefined);
    if (!first) return state;
    const pre = this.preBlock(first, state);
    const outcomes = branches.map((branch) => this.compose(branch, pre));
    const hidden = b.op('select', [this.c.adapterIndex!, ...outcomes.map((o) => o.hidden)], {});
    const last = [...outcomes].reverse().find((o) => o.last)?.last;
    return { ...pre, hidden, ...(last ? { last } : {}) };
  }
}
