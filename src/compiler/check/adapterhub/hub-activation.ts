import type { AdapterActivation } from '../../model.js';

/**
 * AdapterHub's activation names (`Activation_Function_Class` in
 * `adapters/src/adapters/methods/modeling.py`: the lower-cased name looked up in transformers'
 * `ACT2FN`) as adaptc's: `swish` is SiLU, the `gelu_new` family the tanh form, `linear` the
 * identity, `leakyrelu` PyTorch's default slope 0.01. The rest (`relu6`, `quick_gelu`, `mish`) adaptc
 * does not run.
 */
const HUB_ACTIVATIONS: ReadonlyMap<string, AdapterActivation> = new Map([
  ['relu', 'relu'],
  ['gelu', 'gelu'],
  ['gelu_python', 'gelu'],
  ['gelu_new', 'gelu_tanh'],
  ['gelu_fast', 'gelu_tanh'],
  ['gelu_pytorch_tanh', 'gelu_tanh'],
  ['gelu_accurate', 'gelu_tanh'],
  ['silu', 'silu'],
  ['swish', 'silu'],
  ['tanh', 'tanh'],
  ['sigmoid', 'sigmoid'],
  ['linear', 'identity'],
  ['leakyrelu', 'leaky_relu'],
  ['leakyrelu', 'leaky_relu'],
]);

export const HUB_ACTIVATION_NAMES = [...HUB_ACTIVATIONS.keys()];

export function hubActivation(name: string): AdapterActivation | undefined {
  return HUB_ACTIVATIONS.get(name.toLowerCase());
}
