import type { GraphBuilder, Value } from '../ir/builder.js';
import type { WeightInit } from '../ir/types.js';
import type { LinearActivation } from '../../runtime/ops/registry.js';
import type { SlotWeight } from '../../runtime/program.js';
import { bottleneckAt, type AdapterSpec } from '../model.js';
import { ADAPTER_INIT, BASE_INIT, ONES, ZEROS } from './inits.js';
import type { LinearSource } from './weight-names/index.js';

/** What a per-adapter tensor name holds in place of the adapter's name. */
export const ADAPTER_PLACEHOLDER = '{adapter}';

/** The weight [count] holding each slot's scale. */
export const SLOT_SCALE = 'slots.scale';

/** `slots.` and the per-adapter name without its adapter: `slots.heads.1.weight`. */
export const slotWeightName = (perAdapter: string): string =>
  `slots.${perAdapter.replaceAll(`.${ADAPTER_PLACEHOLDER}`, '').replaceAll(ADAPTER_PLACEHOLDER, '')}`;

/**
 * The stacked weights of an adapter-slots program as the lowering creates them: each per-adapter
 * tensor (named with ADAPTER_PLACEHOLDER) becomes a weight [count, ...] read by a slot op with
 * the sequence's slot, `adapter_index`.
 */
export class SlotStacks {
  private readonly stacked = new Map<string, SlotWeight>();

  constructor(
    private readonly b: GraphBuilder,
    /** The template adapter: where the graph would place it, a slot op runs. */
    readonly adapter: string,
    readonly count: number,
    readonly index: Value,
  ) {}

  private weight(perAdapter: string, shape: readonly number[], init: WeightInit): Value {
    const name = slotWeightName(perAdapter);
    const stackedShape = [this.count, ...shape];
    if (!this.stacked.has(name)) this.stacked.set(name, { name, shape: stackedShape, perAdapter });
    return this.b.weight(name, stackedShape, init);
  }

  /**
   * residual + scale_s · (W_up_s act(W_down_s z + b_down_s) + b_up_s) for `adapter` at `layer`,
   * its PyTorch Linears `down` [r, d] and `up` [d, r] named with the placeholder.
   */
  bottleneck(
    residual: Value,
    z: Value,
    linears: { readonly down: LinearSource; readonly up: LinearSource },
    adapter: AdapterSpec,
    layer: number,
    d: number,
  ): Value {
    const r = bottleneckAt(adapter, layer);
    const { down, up } = linears;
    const upInit = adapter.init === 'zero_up' ? ZEROS : ADAPTER_INIT;
    const wd = this.weight(down.weight.name, [r, d], ADAPTER_INIT);
    const bd = this.weight(down.bias.name, [r], ZEROS);
    const wu = this.weight(up.weight.name, [d, r], upInit);
    const bu = this.weight(up.bias.name, [d], ZEROS);
    const scale = this.b.weight(SLOT_SCALE, [this.count], ONES);
    return this.b.op('slot_bottleneck', [residual, z, this.index, wd, bd, wu, bu, scale], {
      activation: adapter.activation,
    });
  }

  /** act(x · W_sᵀ + b_s) for the PyTorch Linear `source` [out, in] (named with the placeholder). */
  linear(
    x: Value,
    source: LinearSource,
    outSize: number,
    inSize: number,
    activation: LinearActivation,
  ): Value {
    const w = this.weight(source.weight.name, [outSize, inSize], BASE_INIT);
    const bias = this.weight(source.bias.name, [outSize], ZEROS);
    return this.b.op('slot_linear', [x, this.index, w, bias], { activation });
  }

  /** The stacked weights in the order the lowering created them. */
  weights(): readonly SlotWeight[] {
    return [...this.stacked.values()];
  }
}
