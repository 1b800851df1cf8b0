import {
  bottleneckAt,
  type AdapterActivation,
  type AdapterSpec,
  type Model,
} from '../../../compiler/model.js';
import { BN_CONFIG_DEFAULTS } from '../../../compiler/check/adapterhub/bottleneck-config.js';
import { SaveError } from './error.js';
import { overlaySaved } from './plain.js';
import { PyFloat, type PyValue } from './python-json.js';

/** The defaulted fields the dataclass types `float`: written as Python floats (`0.0`, not `0`). */
const FLOAT_FIELDS: ReadonlySet<string> = new Set([
  'dropout',
  'phm_init_range',
  'stochastic_depth',
]);

/** adaptc's activations by the name the library writes for them (`Activation_Function_Class`). */
export const LIBRARY_ACTIVATIONS: Readonly<Record<AdapterActivation, string>> = {
  relu: 'relu',
  gelu: 'gelu',
  gelu_tanh: 'gelu_new',
  silu: 'swish',
  tanh: 'tanh',
  identity: 'linear',
  sigmoid: 'sigmoid',
  leaky_relu: 'leakyrelu',
};

/**
 * The `BnConfig` of an adapter, every field of the dataclass
 * (`adapters/src/adapters/configuration/adapter_config.py`, version 1.1) as `asdict` gives it:
 * rebuilt from the spec, then the saved config's values where the adapter was read from a
 * directory. An adapter with the article's semantics is the `BnConfig` whose defaults compute
 * it (docs/language.md §3.2.2): original LN after, the residual from y, no LN before; where no
 * `BnConfig` computes what it does, a SaveError says why.
 */
export function adapterConfig(adapter: AdapterSpec, model: Model): Map<string, PyValue> {
  const placements = Object.values(adapter.placements);
  const fail = (why: string): never => {
    throw new SaveError(
      `adapter '${adapter.name}' cannot be saved as an AdapterHub adapter: ${why}`,
    );
  };
  if (new Set(placements).size > 1)
    fail(
      'it is sequential at one site and parallel at the other, and a BnConfig has one is_parallel',
    );
  if (model.base.norm === 'pre')
    fail(
      `'${model.base.name}' is pre-LN, and a BnConfig places the adapter around the LayerNorm after each sublayer`,
    );
  const f = adapter.fields;
  const parallel = placements[0] === 'parallel';
  const leaveOut = Array.from({ length: model.base.layers }, (_, i) => i).filter(
    (layer) => !adapter.layers.includes(layer),
  );
  const fromSpec = new Map<string, PyValue>([
    ['original_ln_before', f.originalLnBefore],
    ['original_ln_after', f.originalLnAfter],
    ['ln_before', f.lnBefore],
    ['ln_after', f.lnAfter],
    ['init_weights', adapterInitWeights(adapter)],
    ['is_parallel', parallel],
    ['scaling', f.scaling ?? new PyFloat(adapter.scale)],
    ['use_gating', f.gating],
    ['residual_before_ln', f.residualBeforeLn],
    ['adapter_residual_before_ln', f.adapterResidualBeforeLn],
    ['leave_out', leaveOut],
  ]);
  const rebuilt = new Map<string, PyValue>([
    ['mh_adapter', adapter.placements.attn !== undefined],
    ['output_adapter', adapter.placements.ffn !== undefined],
    ['reduction_factor', reductionFactors(adapter, model.base.hidden)],
    ['non_linearity', LIBRARY_ACTIVATIONS[adapter.activation]],
  ]);
  // Every other field at the dataclass's default; `init_weights_seed` (adapters 1.2) only where
  // a saved config set it.
  for (const [key, value] of BN_CONFIG_DEFAULTS) {
    if (key === 'init_weights_seed') continue;
    const float = FLOAT_FIELDS.has(key) && typeof value === 'number';
    rebuilt.set(key, fromSpec.has(key) ? fromSpec.get(key)! : float ? new PyFloat(value) : value);
  }
  return overlaySaved(
    rebuilt,
    adapter.savedConfig,
    (key, value) => key === 'init_weights_seed' && value !== null,
  );
}

/**
 * `init_weights`: as saved, else ParBnConfig's (`mam_adapter`) for a parallel adapter and
 * BnConfig's default (`bert`) otherwise (the spec keeps no preset name).
 */
export function adapterInitWeights(adapter: AdapterSpec): string {
  const saved =
    adapter.savedConfig instanceof Map ? adapter.savedConfig.get('init_weights') : undefined;
  if (typeof saved === 'string') return saved;
  const placements = Object.values(adapter.placements);
  return placements.length > 0 && placements.every((p) => p === 'parallel')
    ? 'mam_adapter'
    : 'bert';
}

/** One reduction factor, or one per layer (`{"0": 4, "1": 8}`) where the size varies. */
function reductionFactors(adapter: AdapterSpec, hidden: number): PyValue {
  if (!adapter.layerBottlenecks) return reductionFactor(hidden, adapter.bottleneck);
  return new Map(
    adapter.layers.map((layer) => [
      String(layer),
      reductionFactor(hidden, bottleneckAt(adapter, layer)),
    ]),
  );
}

/**
 * A factor k with `int(hidden // k)` = r, as `BottleneckLayer.add_adapter` sizes the down
 * projection: `hidden / r` as an int where r divides hidden, else the nearest float that floors
 * back to r.
 */
export function reductionFactor(hidden: number, r: number): PyValue {
  if (hidden % r === 0) return hidden / r;
  let k = hidden / r;
  for (let tries = 0; floorDivide(hidden, k) < r && tries < 4; tries++) k = nextDown(k);
  return new PyFloat(k);
}

/** `a // b` for floats as CPython computes it (`float_floor_div`): exact, through fmod. */
function floorDivide(a: number, b: number): number {
  const mod = a % b;
  const div = (a - mod) / b;
  const floor = Math.floor(div);
  return div - floor > 0.5 ? floor + 1 : floor;
}

function nextDown(x: number): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  view.setBigUint64(0, view.getBigUint64(0) - 1n);
  return view.getFloat64(0);
}
