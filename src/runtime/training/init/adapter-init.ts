import type { WeightSpec } from '../../program.js';
import { normal, streamSeed, truncatedNormal, uniform } from './draws.js';

/** `init_bert_weights`' std for Linear weights (`Adapter.init_bert_weights`). */
export const BERT_STD = 0.02;
/** `houlsby`: `trunc_normal_(std=1e-2, a=-2e-2, b=2e-2)`. */
const HOULSBY_STD = 0.01;
const HOULSBY_LIMIT = 0.02;

type Role =
  'down' | 'down-bias' | 'up' | 'up-bias' | 'gate' | 'gate-bias' | 'norm' | 'norm-bias' | 'scaling';

/** What an adapter tensor is, from its name (`…adapters.NAME.` and the module after it). */
function roleOf(name: string): Role | undefined {
  const module = name.slice(name.lastIndexOf('.adapters.') + '.adapters.'.length);
  const part = module.slice(module.indexOf('.') + 1);
  if (/^adapter_down\.\d+\.weight$/.test(part)) return 'down';
  if (/^adapter_down\.\d+\.bias$/.test(part)) return 'down-bias';
  if (part === 'adapter_up.weight') return 'up';
  if (part === 'adapter_up.bias') return 'up-bias';
  if (part === 'gate.weight') return 'gate';
  if (part === 'gate.bias') return 'gate-bias';
  if (/^adapter_norm_(before|after)\.weight$/.test(part)) return 'norm';
  if (/^adapter_norm_(before|after)\.bias$/.test(part)) return 'norm-bias';
  if (part === 'scaling') return 'scaling';
  return undefined;
}

/**
 * One tensor of a new AdapterHub adapter, as `Adapter.__init__`
 * (`adapters/src/adapters/methods/modeling.py`) initializes it for its `init_weights`:
 * - `bert`: `init_bert_weights` on adapter_down, adapter_up and the gate: Linear weights
 *   N(0, 0.02²), biases 0;
 * - `mam_adapter`: the down Linear `kaiming_uniform_(a=√5)`, i.e. U(±1/√fan_in), bias 0;
 *   adapter_up all zeros; the gate as `bert`;
 * - `houlsby`: down and up weights N(0, 0.01²) truncated to ±0.02, biases 0; the gate keeps
 *   `nn.Linear`'s own init, U(±1/√fan_in) for weight and bias.
 * Its own LayerNorms are `nn.LayerNorm`'s (weight 1, bias 0), a learned scaling `torch.ones`.
 * Undefined for a name that is not an adapter tensor.
 */
export function adapterTensor(
  spec: WeightSpec,
  initWeights: string,
  hidden: number,
  seed: number,
): Float32Array | undefined {
  const role = roleOf(spec.name);
  if (role === undefined) return undefined;
  const count = spec.shape.reduce((a, b) => a * b, 1);
  const stream = streamSeed(spec.name, seed);
  const fanIn = spec.shape[spec.shape.length - 1]!;
  // nn.Linear.reset_parameters: weight and bias both within 1/√fan_in; the gate reads the hidden state.
  const defaultLinear = () => uniform(count, stream, 1 / Math.sqrt(hidden));
  switch (role) {
    case 'norm':
    case 'scaling':
      return new Float32Array(count).fill(1);
    case 'norm-bias':
    case 'down-bias':
    case 'up-bias':
      return new Float32Array(count);
    case 'gate':
      return initWeights === 'houlsby' ? defaultLinear() : normal(count, stream, BERT_STD);
    case 'gate-bias':
      return initWeights === 'houlsby' ? defaultLinear() : new Float32Array(count);
    case 'down':
      if (initWeights === 'mam_adapter') return uniform(count, stream, 1 / Math.sqrt(fanIn));
      if (initWeights === 'houlsby')
        return truncatedNormal(count, stream, HOULSBY_STD, HOULSBY_LIMIT);
      return normal(count, stream, BERT_STD);
    case 'up':
      if (initWeights === 'mam_adapter') return new Float32Array(count);
      if (initWeights === 'houlsby')
        return truncatedNormal(count, stream, HOULSBY_STD, HOULSBY_LIMIT);
      return normal(count, stream, BERT_STD);
  }
}
