import type { AdapterSpec, BottleneckFields, Placement, Site } from '../../model.js';
import {
  AdapterConfigError,
  reductionFactorAt,
  type BottleneckConfig,
} from './bottleneck-config.js';
import { HUB_ACTIVATION_NAMES, hubActivation } from './hub-activation.js';

/** What an AdapterHub bottleneck config makes of an adapter at a model's size. */
export type HubAdapterParts = Pick<
  AdapterSpec,
  'bottleneck' | 'layerBottlenecks' | 'activation' | 'placements' | 'layers' | 'scale' | 'fields'
>;

/**
 * An adapter as `BottleneckLayer.add_adapter` builds it from a config
 * (`adapters/src/adapters/methods/bottleneck.py`): at `mh_adapter` (attn) and `output_adapter`
 * (ffn), in every layer but `leave_out`, with `int(hidden // reduction_factor)` units (at least 1,
 * `Adapter.__init__`), sequential or parallel (`is_parallel`). Throws AdapterConfigError naming
 * the field adaptc cannot run.
 */
export function hubAdapterParts(
  config: BottleneckConfig,
  hidden: number,
  layerCount: number,
  file: string,
): HubAdapterParts {
  const activation = hubActivation(config.non_linearity);
  if (activation === undefined) {
    throw new AdapterConfigError(
      file,
      `activation ${JSON.stringify(config.non_linearity)} is not supported (adaptc runs ${HUB_ACTIVATION_NAMES.join(', ')})`,
      'non_linearity',
    );
  }
  if (config.residual_before_ln === 'post_add' && !config.original_ln_before) {
    throw new AdapterConfigError(
      file,
      '"post_add" needs original_ln_before true: without it the library never sets the residual',
      'residual_before_ln',
    );
  }
  const placement: Placement = config.is_parallel ? 'parallel' : 'sequential';
  const placements: Partial<Record<Site, Placement>> = {
    ...(config.mh_adapter ? { attn: placement } : {}),
    ...(config.output_adapter ? { ffn: placement } : {}),
  };
  if (placements.attn === undefined && placements.ffn === undefined) {
    throw new AdapterConfigError(
      file,
      'mh_adapter and output_adapter are both false: the adapter sits nowhere',
      'output_adapter',
    );
  }
  const leftOut = new Set(config.leave_out);
  const layers = Array.from({ length: layerCount }, (_, i) => i).filter((l) => !leftOut.has(l));
  if (layers.length === 0) {
    throw new AdapterConfigError(file, 'leaves out every layer of the model', 'leave_out');
  }
  const sizeAt = (layer: number) =>
    Math.max(pythonFloorDivide(hidden, reductionFactorAt(config, layer, file)), 1);
  const sizes = new Map(layers.map((layer) => [layer, sizeAt(layer)]));
  const bottleneck = sizes.get(layers[0]!)!;
  const varies = [...sizes.values()].some((size) => size !== bottleneck);
  const fields: BottleneckFields = {
    originalLnBefore: config.original_ln_before,
    originalLnAfter: config.original_ln_after,
    residualBeforeLn: config.residual_before_ln,
    adapterResidualBeforeLn: config.adapter_residual_before_ln,
    lnBefore: config.ln_before,
    lnAfter: config.ln_after,
    ...(typeof config.scaling === 'string' ? { scaling: config.scaling } : {}),
    gating: config.use_gating,
  };
  return {
    bottleneck,
    ...(varies ? { layerBottlenecks: sizes } : {}),
    activation,
    placements,
    layers,
    scale: typeof config.scaling === 'number' ? config.scaling : 1,
    fields,
  };
}

/**
 * `a // b` as CPython computes it for floats (`float_floor_div`): the floor of the exact quotient
 * of the two doubles, which `Math.floor(a / b)` misses where the rounded quotient is an integer
 * (768 // 0.1 is 7679 in Python; 768 / 0.1 rounds to 7680).
 */
export function pythonFloorDivide(a: number, b: number): number {
  const mod = a % b;
  let div = (a - mod) / b;
  if (mod !== 0 && b < 0 !== mod < 0) div -= 1;
  const floor = Math.floor(div);
  return div - floor > 0.5 ? floor + 1 : floor;
}
