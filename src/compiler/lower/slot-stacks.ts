import type { GraphBuilder, Value } from '../ir/builder.js';
import type { WeightInit } from '../ir/types.js';
import type { LinearActivation } from '../../runtime/ops/registry.js';
import type { SlotWeight } from '../../runtime/program.js';
import { BASE_INIT, ONES, ZEROS } from './inits.js';

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
   * residual + scale_s · (W_up_s act(W_down_s z + b_down_s) + b_up_s) for the PyTorch Linears
   * `down` [r, d] and `up` [d, r] (module names holding the placeholder).
   */
  bottleneck(
    residual: Value,
    z: Value,
    modules: { readonly down: string; readonly up: string; readonly upInit: WeightInit },
    sizes: { readonly r: number; readonly d: number },
    activation: LinearActivation,
    downInit: WeightInit,
  ): Value {
    const { r, d } = sizes;
    const wd = this.weight(`${modules.down}.weight`, [r, d], downInit);
    const bd = this.weight(`${modules.down}.bias`, [r], ZEROS);
    const wu = this.weight(`${modules.up}.weight`, [d, r], modules.upInit);
    const bu = this.weight(`${modules.up}.bias`, [d], ZEROS);
    const scale = this.b.weight(SLOT_SCALE, [this.count], ONES);
    return this.b.op('slot_bottleneck', [residual, z, this.index, wd, bd, wu, bu, scale], {
      activation,
    });
  }

  /** act(x · W_sᵀ + b_s) for the PyTorch Linear `module` [out, in] (named with the placeholder). */
  linear(
    x: Value,
    module: string,
    outSize: number,
    inSize: number,
    activation: LinearActivation,
  ): Value {
    const w = this.weight(`${module}.weight`, [outSize, inSize], BASE_INIT);
    const bias = this.weight(`${module}.bias`, [outSize], ZEROS);
    return this.b.op('slot_linear', [x, this.index, w, bias], { activation });
  }

  /** The stacked weights in the order the lowering created them. */
  weights(): readonly SlotWeight[] {
    return [...this.stacked.values()];
  }
}
