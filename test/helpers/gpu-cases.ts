import type { Program } from '../../src/runtime/program.js';
import { normalArray, seededUniform } from '../../src/runtime/random.js';
import type { TensorMap } from '../../src/runtime/safetensors.js';
import { elementCount } from '../../src/runtime/tensor.js';

/**
 * Seeded weights that make every part of the model matter: base matrices N(0, 0.2), adapter
 * matrices N(0, 0.3) (the default init's N(0, 0.01) would leave adapters invisible next to f32 rounding),
 * fusion matrices N(0, 0.2), and non-trivial biases and LayerNorm γ/β (so a kernel that drops or
 * mixes them up shows), all drawn per tensor from `seed`.
 */
export function testWeights(program: Program, seed: number): TensorMap {
  const tensors: TensorMap = new Map();
  program.weights.forEach((spec, i) => {
    const count = elementCount(spec.shape);
    const noise = normalArray(count, (seed * 7919 + i * 104729) >>> 0);
    const adapter = spec.name.includes('.adapters.');
    const data = new Float32Array(count);
    for (let k = 0; k < count; k++) {
      const n = noise[k]!;
      if (spec.init.kind === 'ones') data[k] = 1 + 0.2 * n;
      else if (spec.init.kind === 'zeros') data[k] = 0.1 * n;
      else data[k] = n * (adapter ? 0.3 : 0.2);
    }
    tensors.set(spec.name, { dtype: 'F32', shape: spec.shape, data });
  });
  return tensors;
}

export interface TestInputs {
  hidden_states: { data: Float32Array; shape: number[] };
  attention_mask?: { data: Int32Array; shape: number[] };
  adapter_index?: { data: Int32Array; shape: number[] };
}

/**
 * Fresh random inputs: hidden states N(0, 1); with `mask`, a random right padding per sequence
 * (position 0 always attended); with `branches`, a random adapter_index in 0..branches-1.
 */
export function testInputs(
  hidden: number,
  batch: number,
  seq: number,
  seed: number,
  options: { mask?: boolean; branches?: number } = {},
): TestInputs {
  const random = seededUniform(seed ^ 0x5bd1e995);
  const inputs: TestInputs = {
    hidden_states: { data: normalArray(batch * seq * hidden, seed), shape: [batch, seq, hidden] },
  };
  if (options.mask) {
    const mask = new Int32Array(batch * seq);
    for (let b = 0; b < batch; b++) {
      const length = 1 + Math.floor(random() * seq);
      for (let t = 0; t < length; t++) mask[b * seq + t] = 1;
    }
    inputs.attention_mask = { data: mask, shape: [batch, seq] };
  }
  if (options.branches !== undefined) {
    const index = new Int32Array(batch);
    for (let b = 0; b < batch; b++) index[b] = Math.floor(random() * options.branches);
    inputs.adapter_index = { data: index, shape: [batch] };
  }
  return inputs;
}

/** The inputs in a form a failure message can print. */
export function describeInputs(inputs: TestInputs): string {
  const [batch, seq] = inputs.hidden_states.shape;
  const parts = [`B=${batch} T=${seq}`];
  if (inputs.attention_mask) parts.push(`attention_mask=[${inputs.attention_mask.data.join(',')}]`);
  if (inputs.adapter_index) parts.push(`adapter_index=[${inputs.adapter_index.data.join(',')}]`);
  return parts.join(' ');
}
