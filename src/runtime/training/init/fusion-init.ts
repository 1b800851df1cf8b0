import type { WeightSpec } from '../../program.js';
import { BERT_STD } from './adapter-init.js';
import { normal, streamSeed } from './draws.js';

/** `value_initialized`: the identity with 1e-6 everywhere off the diagonal. */
const OFF_DIAGONAL = 0.000001;

/**
 * One tensor of a new AdapterHub fusion, as `BertFusion.__init__`
 * (`adapters/src/adapters/methods/modeling.py`) makes it: query, key and value with
 * `Adapter.init_bert_weights` (weights N(0, 0.02²), biases 0), then with `value_initialized` the
 * value matrix replaced by `(zeros + 1e-6).fill_diagonal_(1.0)`. Undefined for another name.
 */
export function fusionTensor(
  spec: WeightSpec,
  valueInitialized: boolean,
  seed: number,
): Float32Array | undefined {
  const match = /\.adapter_fusion_layer\.[^.]+\.(query|key|value)\.(weight|bias)$/.exec(spec.name);
  if (!match) return undefined;
  const count = spec.shape.reduce((a, b) => a * b, 1);
  if (match[2] === 'bias') return new Float32Array(count);
  if (match[1] === 'value' && valueInitialized) {
    const d = spec.shape[0]!;
    const out = new Float32Array(count).fill(OFF_DIAGONAL);
    for (let i = 0; i < d; i++) out[i * d + i] = 1;
    return out;
  }
  return normal(count, streamSeed(spec.name, seed), BERT_STD);
}
